# Reference answers for course/01_why_gradients.ipynb: each "# %% <cell id>" section replaces that exercise cell.
# %% e01-total-ex
partial_t = onp.cos(1.0)                      # ∂f/∂t = x
total = onp.cos(1.0) - onp.sin(1.0) + 6.0     # x + t dx/dt + 2y dy/dt = cos 1 - sin 1 + 2 * 1 * 3
# %% e01-dinv-ex
def d_inverse_square(X, dX):
    Xinv = onp.linalg.inv(X)
    dXinv = -Xinv @ dX @ Xinv
    return dXinv @ Xinv + Xinv @ dXinv
# %% e01-logdet-ex
def grad_logdet(X):
    return onp.linalg.inv(X).T
