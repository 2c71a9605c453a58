# Reference answers for course/03_finite_differences.ipynb: each "# %% <cell id>" section replaces that exercise cell.
# %% e03-cost-ex
answer = 51, 100      # d + 1 and 2d
# %% e03-step-ex
h = 1e-6              # about (3 eps |f(0.2)| / |f'''(0.2)|)^(1/3)
