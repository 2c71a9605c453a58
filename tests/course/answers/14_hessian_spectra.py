# Reference answers of course/14_hessian_spectra.ipynb: each section replaces the exercise cell with that id.
# %% c14-ex1
expected_weight = 1 / dim
# %% c14-ex2
def gn_matvec(w, v):
    Jv = ad.jvp(predictions, (w,), (v,))[1]
    return 2 / len(X) * ad.vjp(predictions, w)[1](Jv)[0]
