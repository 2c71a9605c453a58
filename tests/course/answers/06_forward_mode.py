# Reference answers of course/06_forward_mode.ipynb (one section per exercise cell id).
# %% c11b-06-ex1
v1, v2 = onp.log(2.0), 3.0 * onp.log(2.0)
answer = (0.0, v1, v1 / (2 * onp.sqrt(v2)), v1 + v1 / (2 * onp.sqrt(v2)))
# %% c11b-06-ex2
answer = (8.0, 2.0 * -1.0 + 3.0 * 4.0)
# %% c11b-06-ex3
def dsin(x):
    return Dual(onp.sin(x.value), onp.cos(x.value) * x.tangent)

def dexp(x):
    return Dual(onp.exp(x.value), onp.exp(x.value) * x.tangent)
