# Reference answers for course/02_zero_order_methods.ipynb: each "# %% <cell id>" section replaces that exercise cell.
# %% e02-gauss-ex
def two_point_gaussian(f, w, v, eps):
    return (f(w + eps * v) - f(w - eps * v)) / (2 * eps) * v      # no factor d: E[v v^T] = I
# %% e02-iters-ex
answer = 8.0
