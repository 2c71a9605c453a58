# Reference answers of course/10_linear_solve.ipynb (one section per exercise cell id).
# %% c11b-10-ex1
def solve_vjp(g, A, b):
    x = onp.linalg.solve(A, b)
    b_bar = onp.linalg.solve(A.T, g)
    return -onp.outer(b_bar, x), b_bar
# %% c11b-10-ex2
def kepler_vjp_e(g, E, M, e):
    return g * onp.sin(E) / (1 - e * onp.cos(E))
