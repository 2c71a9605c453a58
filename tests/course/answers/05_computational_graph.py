# Reference answers of course/05_computational_graph.ipynb (one section per exercise cell id).
# %% c11b-05-ex1
answer = (1.5 * 2.0, onp.sin(3.0), 3.0 * onp.sin(3.0))     # (v1, v2, v3)
# %% c11b-05-ex2
answer = 1 + 3 * 9          # the input, then 3 operations in each of the 9 calls of step
