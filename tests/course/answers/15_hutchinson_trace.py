# Reference answers of course/15_hutchinson_trace.ipynb: each section replaces the exercise cell with that id.
# %% c15-ex1
std_50 = onp.sqrt(2 * (onp.sum(X ** 2) - onp.sum(onp.diag(X) ** 2)) / 50)
# %% c15-ex2
import math
_var = 2 * (onp.sum(H ** 2) - onp.sum(onp.diag(H) ** 2))
probes_for_1_percent = math.ceil(_var / (0.01 * true_tr) ** 2)
