# Reference answers of course/12_normal_pdf.ipynb: each section replaces the exercise cell with that id.
# %% c12-ex1
dfdx_new = float(ad.grad(pdf)(0.2, 1.0, 0.5))
dmu = -dfdx_new   # f depends on x - mu only
# %% c12-ex2
def dlogf_dsigma(x, mu, sigma):
    return -1 / sigma + (x - mu) ** 2 / sigma ** 3
