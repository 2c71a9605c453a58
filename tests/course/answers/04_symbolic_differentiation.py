# Reference answers for course/04_symbolic_differentiation.ipynb: each "# %% <cell id>" section replaces that exercise cell.
# %% e04-mono-ex
answer = 2**5, 2**5      # degree 2^(n-1) = 32; all powers x^1 ... x^32 occur, so d/dx l_6 has 32 terms
# %% e04-deriv-ex
def dlogistic(x, n):
    v, dv = x, 1.0
    for _ in range(1, n):
        v, dv = 4 * v * (1 - v), 4 * (1 - 2 * v) * dv
    return dv
