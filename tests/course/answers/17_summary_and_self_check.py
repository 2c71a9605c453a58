# Reference answers for course/17_summary_and_self_check.ipynb: each "# %% <cell id>" section replaces that exercise cell.
# %% e17-d1-ex
calls = 6, 10          # n + 1 and 2n for n = 5
orders = 1, 2
# %% e17-d2-ex
def dfdt(t):
    x1, x2 = onp.cos(t), onp.exp(t)
    return (2 * x1 * x2) * (-onp.sin(t)) + x1 ** 2 * onp.exp(t)
# %% e17-d3-ex
v = 0.9 ** 2
dL_dv = (3 * v) * onp.cos(v) + onp.sin(v) * 3      # ∂L/∂x1 ∂x1/∂v + ∂L/∂x2 ∂x2/∂v
# %% e17-d4-ex
def hutchinson(matvec, probes):
    return onp.mean([v @ matvec(v) for v in probes])
# %% e17-t1-ex
answer = 2, 1
# %% e17-q2-ex
mode = "forward"
# %% e17-q3-ex
mode = "mixed"
# %% e17-q7-ex
def hvp(f, x, v):
    return ad.jvp(ad.grad(f), (x,), (v,))[1]
