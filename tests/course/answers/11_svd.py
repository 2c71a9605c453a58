# Reference answers of course/11_svd.ipynb: each section replaces the exercise cell with that id.
# %% c11-ex1
grad_cubes = U @ onp.diag(3 * S ** 2) @ Vt
# %% c11-ex2
unique_vectors = 2
