# Reference answers of course/16_checkpointing.ipynb: each section replaces the exercise cell with that id.
# %% c16-ex1
peak_64_8 = 8 + 64 // 8        # k checkpoints + N/k activations of one segment
# %% c16-ex2
extra_fraction = (7 / 8) * 64 / (64 + 2 * 64)
