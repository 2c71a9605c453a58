# Reference answers of course/13_hessian_vector_products.ipynb: each section replaces the exercise cell with that id.
# %% c13-ex1
def hvp_fwd_rev(f, x, v):
    return ad.jvp(ad.grad(f), (x,), (v,))[1]
# %% c13-ex2
max_hvps_per_newton_step = 50
