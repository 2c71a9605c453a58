# Reference answers of course/07_reverse_mode.ipynb (one section per exercise cell id).
# %% c11b-07-ex1
a, b = 1.5, 2.0
v1 = a * b
v2 = onp.sin(v1)
bar_v3 = 1.0
bar_v2 = bar_v3 * v1                                   # v3 = v1 * v2
bar_v1 = bar_v3 * v2 + bar_v2 * onp.cos(v1)            # both children of v1: v3 and v2
answer = (bar_v1, bar_v1 * b, bar_v1 * a)
# %% c11b-07-ex2
def softplus_vjp(g, x):
    return g * onp.exp(x) / (1 + onp.exp(x))
