"""Write the nbgrader source notebooks of the course from this file.

    .venv/bin/python assignments/authoring/build_sources.py

The notebooks land in assignments/source/<assignment>/<assignment>.ipynb, without outputs and
with their nbgrader metadata. This script (like any text twin of a notebook, e.g. a jupytext
file) stays out of source/: everything in source/ is copied into the student release, solutions
included. tests/assignments/ checks that the committed notebooks match this script.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbbuild import code, manual, md, notebook, solution, tests, write  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SETUP = """
import numpy as np                  # plain NumPy, for values
import autodiff_core as ad          # the course's AD engine
import autodiff_core.numpy as anp   # its traced NumPy namespace (write your rules with it)
"""


# ==============================================================================================
# Assignment 1


def ps1():
    cells = [
        md("""
# Assignment 1: backward (and forward) rules for `log` and `sqrt`

In the engine `autodiff_core`, every primitive carries two derivative rules:

* a **VJP rule** `vjp(g, ans, *args, **kwargs)`: given the cotangent `g` of the output `ans`,
  return the cotangent of one argument (reverse mode, used by `ad.grad`, `ad.vjp`);
* a **JVP rule** `jvp(t, ans, *args, **kwargs)`: given the tangent `t` of one argument, return
  the tangent of the output (forward mode, used by `ad.jvp`).

Here you write both rules for `log` and `sqrt`, plug them into the engine, and redo the
reverse-mode walkthrough of the lecture for

$$L(w_1, w_2) = w_2 \\log w_1 + \\sqrt{w_2 \\log w_1}.$$

**Rules of the game.**
* A rule computes its result from its arguments with array operations: functions of `anp` or
  `np` (including `anp.linalg.solve`, `anp.linalg.svd` and `np.linalg`), arithmetic, Python
  control flow and helper functions you write. While a rule is graded, the engine has **no
  derivative rules at all**, and neither HIPS `autograd` nor JAX is installed: a rule that calls
  `ad.grad`, `ad.vjp` or `ad.jvp` (of anything: `ad.vjp` of `anp.power(x, 0.5)` for `sqrt`
  too), another primitive's rule (`anp.log.vjp_rule(0)`, ...) or `autograd` fails there and
  scores 0 for that item. Parts 4 and 5 use the engine as the text says, with your rules for
  `log` and `sqrt` (the engine's own rules for `log`, `sqrt`, `power` and `log1p` are absent
  there).
* Parts 4 and 5 *use* your rules, and are graded twice: once with your rules, and once with
  `log_vjp`, `log_jvp`, `sqrt_vjp` and `sqrt_jvp` replaced by substituted rules (simple linear
  maps with coefficients drawn at grading time, not derivatives), where your function must return
  what its computation gives with those rules. So call the rules by these names when your
  function runs (not through copies saved earlier), pass them the arguments `(g, ans, x)` their
  signature names, and use what they return: a derivative obtained another way (written out by
  hand, finite differences) scores 0 there, and a wrong rule also costs the parts whose result
  it changes.
* A rule is *derived*, not measured: computing a derivative numerically (finite differences
  `(f(x + h) - f(x - h)) / (2 h)`, the complex step `imag(f(x + 1j h)) / h`) matches the hidden
  tests to rounding and still scores 0. The grader reads your code for it (complex numbers,
  differences of `log`, `sqrt`, ... at two points) and lists such notebooks for the instructor.
* Each answer has a visible test cell below it (shapes and one easy value); hidden tests with
  random inputs run when your notebook is graded. Points are shown in each test cell's header.
* Grading runs your notebook's code in a sandbox: no network, no files but your notebook's
  folder. Printing, warnings and anything written to stderr cost nothing.
* Do not edit or delete the test cells: they are restored from the original when grading.
* Before submitting: *Kernel → Restart & Run All*, and check that nothing fails.

**Edge cases (documented behaviour).** Inputs close to 0 (down to `1e-12`) must give the large
but finite values of the derivative to full relative accuracy. At exactly `x = 0` both
derivatives are $+\\infty$: your rules must return `+inf` (or `-inf` where `g < 0`), which is what
IEEE division gives; the NumPy `RuntimeWarning: divide by zero` that comes with it is fine and
costs no points. Negative inputs are outside the domain and are not tested.
"""),
        code(SETUP),
        md("""
## 1. The VJP of `log` (3 points)

For $y = \\log x$ (elementwise), $\\bar{x} = \\bar{y}\\, \\partial y / \\partial x$. Write
`log_vjp(g, ans, x)`: `g` is the cotangent of `ans = log(x)`, the result is the cotangent of `x`
(same shape as `x`).
"""),
        solution("log_vjp", """
def log_vjp(g, ans, x):
    \"\"\"Cotangent of x for ans = log(x), given the cotangent g of ans.\"\"\"
    ### BEGIN SOLUTION
    return g / x
    ### END SOLUTION
"""),
        tests("test_log_vjp_visible", 1, """
# Visible tests for log_vjp (1 point)
x = np.array([0.5, 1.0, 2.0])
out = log_vjp(np.ones(3), np.log(x), x)
assert np.shape(out) == (3,), f"expected shape (3,), got {np.shape(out)}"
assert np.allclose(out, [2.0, 1.0, 0.5]), f"log_vjp(1, log x, x) should be 1/x, got {out}"
x0 = np.array([0.0])
with np.errstate(divide="ignore", invalid="ignore"):  # (a NumPy warning would cost nothing)
    out0 = log_vjp(np.ones(1), np.log(x0), x0)
assert np.isposinf(out0).all(), f"at x = 0 the derivative is +inf, got {out0}"
"""),
        tests("test_log_vjp_hidden", 2, """
# Hidden tests for log_vjp (2 points): random shapes, values from 1e-12 to 1e3, x = 0,
# finite differences, and a loss through a custom primitive with your rule.
"""),
        md("""
## 2. The VJP of `sqrt` (3 points)

For $y = \\sqrt{x}$. You may use `ans` (the already computed $\\sqrt{x}$) instead of recomputing it.
"""),
        solution("sqrt_vjp", """
def sqrt_vjp(g, ans, x):
    \"\"\"Cotangent of x for ans = sqrt(x), given the cotangent g of ans.\"\"\"
    ### BEGIN SOLUTION
    return g / (2.0 * ans)
    ### END SOLUTION
"""),
        tests("test_sqrt_vjp_visible", 1, """
# Visible tests for sqrt_vjp (1 point)
x = np.array([1.0, 4.0, 0.25])
out = sqrt_vjp(np.ones(3), np.sqrt(x), x)
assert np.shape(out) == (3,), f"expected shape (3,), got {np.shape(out)}"
assert np.allclose(out, [0.5, 0.25, 1.0]), f"sqrt_vjp(1, sqrt x, x) should be 1/(2 sqrt x), got {out}"
"""),
        tests("test_sqrt_vjp_hidden", 2, """
# Hidden tests for sqrt_vjp (2 points)
"""),
        md("""
## 3. The JVPs of `log` and `sqrt` (2 + 2 points)

Forward mode pushes a tangent `t` of the input to the tangent of the output. For elementwise
functions the JVP and the VJP are the same multiplication, but the roles differ: write
`log_jvp(t, ans, x)` and `sqrt_jvp(t, ans, x)`.
"""),
        solution("jvps", """
def log_jvp(t, ans, x):
    \"\"\"Tangent of ans = log(x), given the tangent t of x.\"\"\"
    ### BEGIN SOLUTION
    return t / x
    ### END SOLUTION


def sqrt_jvp(t, ans, x):
    \"\"\"Tangent of ans = sqrt(x), given the tangent t of x.\"\"\"
    ### BEGIN SOLUTION
    return t / (2.0 * ans)
    ### END SOLUTION
"""),
        tests("test_log_jvp_visible", 1, """
# Visible tests for log_jvp (1 point)
x = np.array([0.5, 2.0])
out = log_jvp(np.array([1.0, 3.0]), np.log(x), x)
assert np.shape(out) == (2,), f"expected shape (2,), got {np.shape(out)}"
assert np.allclose(out, [2.0, 1.5]), f"log_jvp(t, log x, x) should be t/x, got {out}"
"""),
        tests("test_log_jvp_hidden", 1, """
# Hidden tests for log_jvp (1 point)
"""),
        tests("test_sqrt_jvp_visible", 1, """
# Visible tests for sqrt_jvp (1 point)
x = np.array([4.0, 9.0])
out = sqrt_jvp(np.array([1.0, 3.0]), np.sqrt(x), x)
assert np.shape(out) == (2,), f"expected shape (2,), got {np.shape(out)}"
assert np.allclose(out, [0.25, 0.5]), f"sqrt_jvp(t, sqrt x, x) should be t/(2 sqrt x), got {out}"
"""),
        tests("test_sqrt_jvp_hidden", 1, """
# Hidden tests for sqrt_jvp (1 point)
"""),
        md("""
## 4. The reverse-mode walkthrough, with your rules (3 points)

Redo the lecture's walkthrough of $L(w_1, w_2) = w_2 \\log w_1 + \\sqrt{w_2 \\log w_1}$ by hand.
The forward sweep is given as a Wengert list:

| node | definition |
| --- | --- |
| $v_1$ | $\\log w_1$ |
| $v_2$ | $w_2 v_1$ |
| $v_3$ | $\\sqrt{v_2}$ |
| $L$ | $v_2 + v_3$ |

Write `walkthrough(w1, w2)` returning `(L, dL_dw1, dL_dw2)`: run the forward sweep, then the
reverse sweep from $\\bar L = 1$, **calling your `log_vjp` and `sqrt_vjp`** for the two nodes
$v_1$ and $v_3$ (the products and the sum you differentiate by hand). Do not call `ad.grad`
here. The tests use $w_1 > 1$, $w_2 > 0$ with $w_2 \\log w_1 \\ge 10^{-3}$.

The cell below defines $L$ with the engine's traced operations (used by the tests and in part 5).
"""),
        code("""
def L(w1, w2):
    v = w2 * anp.log(w1)
    return v + anp.sqrt(v)
"""),
        solution("walkthrough", """
def walkthrough(w1, w2):
    \"\"\"Return (L, dL/dw1, dL/dw2) by a forward and a reverse sweep written out by hand.\"\"\"
    ### BEGIN SOLUTION
    v1 = np.log(w1)
    v2 = w2 * v1
    v3 = np.sqrt(v2)
    L = v2 + v3
    L_bar = 1.0
    v3_bar = L_bar
    v2_bar = L_bar + sqrt_vjp(v3_bar, v3, v2)
    w2_bar = v2_bar * v1
    v1_bar = v2_bar * w2
    w1_bar = log_vjp(v1_bar, v1, w1)
    return L, w1_bar, w2_bar
    ### END SOLUTION
"""),
        tests("test_walkthrough_visible", 1, """
# Visible tests for walkthrough (1 point): compare with the engine's ad.grad
val, d1, d2 = walkthrough(2.0, 3.0)
ref1, ref2 = ad.grad(L, argnums=(0, 1))(2.0, 3.0)
assert np.isclose(val, L(2.0, 3.0)), f"L(2, 3) = {L(2.0, 3.0)}, got {val}"
assert np.isclose(d1, ref1) and np.isclose(d2, ref2), f"expected {(ref1, ref2)}, got {(d1, d2)}"
"""),
        tests("test_walkthrough_hidden", 2, """
# Hidden tests for walkthrough (2 points)
"""),
        md("""
## 5. Plugging your rules into the engine (3 points)

The engine lets you replace a primitive's rule for the duration of a block:

```python
with ad.override_rules(anp.log, vjp=log_vjp, jvp=log_jvp):
    ...   # inside, ad.grad / ad.jvp use your rules for anp.log
```

or define a new primitive with your rules:

```python
my_log = ad.primitive(np.log, name="my_log")
my_log.defvjp(log_vjp)
my_log.defjvp(log_jvp)
```

Using `ad.override_rules` for **both** `anp.log` and `anp.sqrt`, write

* `grad_with_my_rules(w1, w2)` returning `(dL/dw1, dL/dw2)` computed by `ad.grad` of `L`, and
* `jvp_with_my_rules(w1, w2, t1, t2)` returning `(L, dL)` computed by `ad.jvp` of `L` at
  `(w1, w2)` with tangents `(t1, t2)`.
"""),
        solution("plugin", """
def grad_with_my_rules(w1, w2):
    \"\"\"(dL/dw1, dL/dw2) from ad.grad, with your VJP rules for log and sqrt plugged in.\"\"\"
    ### BEGIN SOLUTION
    with ad.override_rules(anp.log, vjp=log_vjp, jvp=log_jvp), \\
            ad.override_rules(anp.sqrt, vjp=sqrt_vjp, jvp=sqrt_jvp):
        return ad.grad(L, argnums=(0, 1))(w1, w2)
    ### END SOLUTION


def jvp_with_my_rules(w1, w2, t1, t2):
    \"\"\"(L, tangent of L) from ad.jvp, with your JVP rules for log and sqrt plugged in.\"\"\"
    ### BEGIN SOLUTION
    with ad.override_rules(anp.log, vjp=log_vjp, jvp=log_jvp), \\
            ad.override_rules(anp.sqrt, vjp=sqrt_vjp, jvp=sqrt_jvp):
        return ad.jvp(L, (w1, w2), (t1, t2))
    ### END SOLUTION
"""),
        tests("test_plugin_visible", 1, """
# Visible tests for grad_with_my_rules and jvp_with_my_rules (1 point)
d1, d2 = grad_with_my_rules(2.0, 3.0)
ref1, ref2 = ad.grad(L, argnums=(0, 1))(2.0, 3.0)
assert np.isclose(d1, ref1) and np.isclose(d2, ref2), f"expected {(ref1, ref2)}, got {(d1, d2)}"
val, dval = jvp_with_my_rules(2.0, 3.0, 1.0, 0.0)
assert np.isclose(val, L(2.0, 3.0)) and np.isclose(dval, ref1), f"expected {(L(2.0, 3.0), ref1)}, got {(val, dval)}"
"""),
        tests("test_plugin_hidden", 2, """
# Hidden tests for grad_with_my_rules and jvp_with_my_rules (2 points)
"""),
        md("""
## 6. Derivation (3 points, graded by hand)

In the cell below, derive (in Markdown with LaTeX):

1. the VJP and JVP of $\\log$ and $\\sqrt{\\cdot}$ from their derivatives, and why for an
   elementwise function the two rules are the same multiplication;
2. the reverse sweep of the walkthrough: every adjoint $\\bar v_3, \\bar v_2, \\bar v_1,
   \\bar w_2, \\bar w_1$ in terms of the forward values, and the final closed form of
   $\\partial L / \\partial w_1$ and $\\partial L / \\partial w_2$. Explain why $\\bar v_2$ has two
   contributions.
"""),
        manual("derivation", 3, """
### BEGIN SOLUTION
**Rules.** $\\frac{d}{dx}\\log x = 1/x$ and $\\frac{d}{dx}\\sqrt{x} = \\frac{1}{2\\sqrt{x}}$. For an
elementwise $y = f(x)$ the Jacobian is $\\operatorname{diag}(f'(x))$, which is symmetric, so
$\\bar x = J^T \\bar y = f'(x) \\odot \\bar y$ (VJP) and $\\dot y = J \\dot x = f'(x) \\odot \\dot x$
(JVP) are the same multiplication: $\\bar x = g / x$ for log, $\\bar x = g / (2\\,\\mathrm{ans})$
for sqrt, and the same with $t$ in place of $g$ for the JVPs.

**Reverse sweep.** $\\bar L = 1$; $\\bar v_3 = \\bar L = 1$;
$\\bar v_2 = \\bar L \\cdot 1 + \\bar v_3 \\frac{1}{2\\sqrt{v_2}} = 1 + \\frac{1}{2 v_3}$ (two
contributions because $v_2$ is used twice: directly in $L$ and through $v_3$);
$\\bar w_2 = \\bar v_2 v_1$; $\\bar v_1 = \\bar v_2 w_2$; $\\bar w_1 = \\bar v_1 / w_1$.
So $\\partial L/\\partial w_1 = \\frac{w_2}{w_1}\\left(1 + \\frac{1}{2\\sqrt{w_2 \\log w_1}}\\right)$ and
$\\partial L/\\partial w_2 = \\log w_1 \\left(1 + \\frac{1}{2\\sqrt{w_2 \\log w_1}}\\right)$.
### END SOLUTION
"""),
    ]
    return notebook(cells)


# ==============================================================================================
# Assignment 2


def ps2():
    cells = [
        md("""
# Assignment 2: backward rules for `solve` and the SVD

You write the VJP rules of two matrix primitives of `autodiff_core` and use them:

* $x = A^{-1} b$ (`anp.linalg.solve(A, b)`), with a vector or a matrix right-hand side;
* the singular value decomposition $W = U \\operatorname{diag}(s) V^T$
  (`anp.linalg.svd`), first for the singular values only, then the full rule with the
  $U$ and $V$ terms;
* then the gradient through a least-squares layer and through a low-rank (nuclear norm) penalty.

A rule has the signature `vjp(g, ans, *args, **kwargs)`: `g` is the cotangent of the output
`ans`, and the rule returns the cotangent of one argument. For the SVD with `compute_uv=True`,
`ans = (U, s, Vt)` and `g = (gU, gs, gVt)` where an entry is `None` when the loss does not depend
on that output (treat it as zero). Keyword arguments of the call (`full_matrices`,
`compute_uv`) are passed to the rule.

**Rules of the game** are those of assignment 1: a rule computes its result with array
operations (`anp` / `np`, including `anp.linalg.solve`, `anp.linalg.svd`, `np.linalg`); while
it is graded the engine has no derivative rules at all and neither `autograd` nor JAX exists,
so a rule that calls `ad.grad` / `ad.vjp` / `ad.jvp`, another primitive's rule or `autograd`
scores 0 for that item. Part 4 uses `ad.grad` with your rules plugged in (the engine's own
rules for `solve`, `svd`, `inv`, `det` and `slogdet` are absent there). Part 4 is graded twice:
once with your rules, and once with `solve_vjp_A`, `solve_vjp_b`, `svd_values_vjp` and `svd_vjp`
replaced by substituted rules (simple linear maps with coefficients drawn at grading time, not
derivatives), where your function must return what its computation gives with those rules. So
plug the rules in by these names when your function runs (`ad.override_rules(..., vjp=solve_vjp_A,
...)` inside it), and compute the gradient with `ad.grad`: a gradient obtained another way (a
closed form, finite differences) scores 0 there, and a wrong rule also costs the parts whose
result it changes. A rule is derived, not measured: a rule or use that computes a derivative
numerically (finite differences, the complex step) scores 0 for its item, and the notebook is
listed for the instructor.
Visible tests below each answer, hidden tests at grading time, do not edit or delete test cells,
*Restart & Run All* before submitting.

**Edge cases (documented behaviour).**
* `solve`: the hidden tests use matrices with condition numbers from 1 to $10^6$; the tolerance
  grows with $\\operatorname{cond}(A)$ (an error of $(10^{-7} + 10^{-13}
  \\operatorname{cond}(A))$ times the largest entry of the result is accepted), so both
  `solve(A.T, g)` and `inv(A).T @ g` pass. A
  singular $A$ is not tested (the forward pass already raises `LinAlgError`).
* SVD: the tests use matrices with distinct, well separated, nonzero singular values (relative
  gap at least 0.2). At repeated singular values $U$ and $V$ are not differentiable (the factor
  $1/(s_j^2 - s_i^2)$ blows up) and the projection terms of a non-square matrix need $1/s$;
  your rule may return `inf`/`nan` or raise there. Only `full_matrices=False` is tested for the
  full rule. Results are compared relative to their largest entry ($10^{-7}$), so a small
  safeguard such as an `eps` of $10^{-8}$ added in $F$ is fine.
"""),
        code(SETUP),
        md("""
## 1. The VJP of `solve` (4 + 3 points)

For $x = A^{-1} b$: $\\bar b = A^{-T} g$ and $\\bar A = -A^{-T} g\\, x^T$ (an outer product
when $b$ is a vector, a matrix product when $b$ is a matrix with several columns). Write
`solve_vjp_A(g, ans, A, b)` and `solve_vjp_b(g, ans, A, b)`; `ans` is $x$. Solve with $A^T$ rather
than forming the inverse.
"""),
        solution("solve_vjp_A", """
def solve_vjp_A(g, ans, A, b):
    \"\"\"Cotangent of A for ans = solve(A, b); b (and g, ans) of shape (n,) or (n, k).\"\"\"
    ### BEGIN SOLUTION
    gb = anp.linalg.solve(anp.transpose(A), g)
    if np.ndim(b) == 1:
        return -anp.outer(gb, ans)
    return -anp.matmul(gb, anp.transpose(ans))
    ### END SOLUTION
"""),
        tests("test_solve_vjp_A_visible", 1, """
# Visible tests for solve_vjp_A (1 point)
A = np.array([[2.0, 1.0], [0.0, 4.0]])
b = np.array([1.0, 2.0])
x = np.linalg.solve(A, b)
out = solve_vjp_A(np.array([1.0, -1.0]), x, A, b)
assert np.shape(out) == (2, 2), f"expected shape (2, 2), got {np.shape(out)}"
expected = -np.outer(np.linalg.solve(A.T, [1.0, -1.0]), x)
assert np.allclose(out, expected), f"expected {expected}, got {out}"
B = np.arange(6.0).reshape(2, 3)
out = solve_vjp_A(np.ones((2, 3)), np.linalg.solve(A, B), A, B)
assert np.shape(out) == (2, 2), f"matrix right-hand side: expected shape (2, 2), got {np.shape(out)}"
"""),
        tests("test_solve_vjp_A_hidden", 3, """
# Hidden tests for solve_vjp_A (3 points): sizes 1 to 6, vector and matrix right-hand sides,
# condition numbers up to 1e6, finite differences, a loss through your rule.
"""),
        solution("solve_vjp_b", """
def solve_vjp_b(g, ans, A, b):
    \"\"\"Cotangent of b for ans = solve(A, b).\"\"\"
    ### BEGIN SOLUTION
    return anp.linalg.solve(anp.transpose(A), g)
    ### END SOLUTION
"""),
        tests("test_solve_vjp_b_visible", 1, """
# Visible tests for solve_vjp_b (1 point)
A = np.array([[2.0, 1.0], [0.0, 4.0]])
b = np.array([1.0, 2.0])
out = solve_vjp_b(np.array([2.0, 1.0]), np.linalg.solve(A, b), A, b)
assert np.shape(out) == (2,), f"expected shape (2,), got {np.shape(out)}"
assert np.allclose(out, [1.0, 0.0]), f"A^T out should equal g = [2, 1]; got out = {out}"
"""),
        tests("test_solve_vjp_b_hidden", 2, """
# Hidden tests for solve_vjp_b (2 points)
"""),
        md("""
## 2. The VJP of the singular values (3 points)

For `s = anp.linalg.svd(W, compute_uv=False)` and a cotangent `g` of `s`:
$\\bar W = U \\operatorname{diag}(g) V^T$ (thin SVD). `ans` is only `s` here, so compute $U$ and
$V$ inside the rule.
"""),
        solution("svd_values_vjp", """
def svd_values_vjp(g, ans, W, **kwargs):
    \"\"\"Cotangent of W for ans = svd(W, compute_uv=False) (the singular values).\"\"\"
    ### BEGIN SOLUTION
    U, s, Vt = anp.linalg.svd(W, full_matrices=False)
    return anp.matmul(U * g, Vt)
    ### END SOLUTION
"""),
        tests("test_svd_values_vjp_visible", 1, """
# Visible tests for svd_values_vjp (1 point)
W = np.array([[3.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
out = svd_values_vjp(np.array([1.0, 1.0]), np.linalg.svd(W, compute_uv=False), W,
                     compute_uv=False)
assert np.shape(out) == (3, 2), f"expected shape (3, 2) (the shape of W), got {np.shape(out)}"
assert np.allclose(out, np.eye(3, 2)), f"the gradient of s1 + s2 here is U V^T = eye(3, 2), got {out}"
"""),
        tests("test_svd_values_vjp_hidden", 2, """
# Hidden tests for svd_values_vjp (2 points)
"""),
        md("""
## 3. The full VJP of the SVD (5 points, the hard part)

For `U, s, Vt = anp.linalg.svd(W, full_matrices=False)` with $W$ of shape $(m, n)$,
$k = \\min(m, n)$, and cotangents `g = (gU, gs, gVt)` (any of them may be `None`): with
$V = $ `Vt.T`, $\\bar V = $ `gVt.T`, $S = \\operatorname{diag}(s)$ and
$F_{ij} = 1/(s_j^2 - s_i^2)$ for $i \\ne j$, $F_{ii} = 0$,

$$\\bar W = U\\Big[\\big(F \\circ (U^T \\bar U - \\bar U^T U)\\big) S + \\operatorname{diag}(\\bar s)
 + S \\big(F \\circ (V^T \\bar V - \\bar V^T V)\\big)\\Big] V^T
 + (I_m - U U^T)\\, \\bar U S^{-1} V^T + U S^{-1} \\bar V^T (I_n - V V^T).$$

The last two terms vanish for a square matrix. Write `svd_vjp(g, ans, W, full_matrices=True,
compute_uv=True, **kwargs)` for `full_matrices=False` (you may raise `NotImplementedError`
otherwise).
"""),
        solution("svd_vjp", """
def svd_vjp(g, ans, W, full_matrices=True, compute_uv=True, **kwargs):
    \"\"\"Cotangent of W for (U, s, Vt) = svd(W, full_matrices=False), g = (gU, gs, gVt).\"\"\"
    ### BEGIN SOLUTION
    U, s, Vt = ans
    gU, gs, gVt = g
    m, n = np.shape(W)
    k = np.shape(s)[0]
    out = anp.matmul(U * (gs if gs is not None else np.zeros(k)), Vt)
    s2 = s * s
    F = (1.0 - np.eye(k)) / (anp.expand_dims(s2, 0) - anp.expand_dims(s2, 1) + np.eye(k))
    if gU is not None:
        UtgU = anp.matmul(anp.transpose(U), gU)
        out = out + anp.matmul(U, anp.matmul(F * (UtgU - anp.transpose(UtgU)) * s, Vt))
        if m > k:
            out = out + anp.matmul((gU - anp.matmul(U, UtgU)) / s, Vt)
    if gVt is not None:
        VtgV = anp.matmul(Vt, anp.transpose(gVt))
        inner = anp.reshape(s, (-1, 1)) * (F * (VtgV - anp.transpose(VtgV)))
        out = out + anp.matmul(U, anp.matmul(inner, Vt))
        if n > k:
            out = out + anp.matmul(U / s, gVt - anp.matmul(anp.transpose(VtgV), Vt))
    return out
    ### END SOLUTION
"""),
        tests("test_svd_vjp_visible", 1, """
# Visible tests for svd_vjp (1 point): shape, and the s-only part agrees with svd_values_vjp
W = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
U, s, Vt = np.linalg.svd(W, full_matrices=False)
out = svd_vjp((np.ones((3, 3)), np.ones(3), np.ones((3, 3))), (U, s, Vt), W, full_matrices=False)
assert np.shape(out) == (3, 3), f"expected shape (3, 3), got {np.shape(out)}"
only_s = svd_vjp((None, np.ones(3), None), (U, s, Vt), W, full_matrices=False)
assert np.allclose(only_s, U @ Vt), f"with gU = gVt = None the rule is U diag(gs) V^T; got {only_s}"
"""),
        tests("test_svd_vjp_hidden", 4, """
# Hidden tests for svd_vjp (4 points): square, tall and wide matrices, each output alone and
# all together, a sign-invariant loss of U, s, V by finite differences and through ad.grad.
"""),
        md("""
## 4. Using the rules (3 + 3 points)

**A least-squares layer.** The layer maps $(A, b)$, $A$ of shape $(m, n)$ with $m \\ge n$, to the
least-squares solution $x^\\star = (A^T A)^{-1} A^T b$, computed with `anp.linalg.solve`. Write
`least_squares_grads(A, b, y)` returning `(dL/dA, dL/db)` for $L = \\lVert x^\\star - y \\rVert^2$,
with `ad.grad` and **your** `solve_vjp_A` / `solve_vjp_b` plugged in
(`ad.override_rules(anp.linalg.solve, vjp=..., argnum=0)` and `argnum=1`).

**A low-rank penalty.** The nuclear norm $\\lVert W \\rVert_* = \\sum_i s_i(W)$ favours low-rank
matrices. Write `low_rank_grad(W, X, Y, lam)` returning the gradient with respect to $W$ of
$\\lVert X W - Y \\rVert_F^2 + \\lambda \\lVert W \\rVert_*$, with `ad.grad` and **your**
`svd_values_vjp` plugged into `anp.linalg.svd`.
"""),
        solution("least_squares", """
def least_squares_layer(A, b):
    At = anp.transpose(A)
    return anp.linalg.solve(anp.matmul(At, A), anp.matmul(At, b))


def least_squares_grads(A, b, y):
    \"\"\"(dL/dA, dL/db) of L = ||least_squares_layer(A, b) - y||^2, with your solve rules.\"\"\"
    ### BEGIN SOLUTION
    def loss(A, b):
        r = least_squares_layer(A, b) - y
        return anp.sum(r * r)

    with ad.override_rules(anp.linalg.solve, vjp=solve_vjp_A, argnum=0), \\
            ad.override_rules(anp.linalg.solve, vjp=solve_vjp_b, argnum=1):
        return ad.grad(loss, argnums=(0, 1))(A, b)
    ### END SOLUTION
"""),
        tests("test_least_squares_visible", 1, """
# Visible tests for least_squares_grads (1 point)
rng = np.random.default_rng(0)
A, b, y = rng.standard_normal((5, 2)) + np.eye(5, 2), rng.standard_normal(5), np.zeros(2)
dA, db = least_squares_grads(A, b, y)
assert np.shape(dA) == (5, 2) and np.shape(db) == (5,), f"shapes {np.shape(dA)}, {np.shape(db)}"
x = np.linalg.lstsq(A, b, rcond=None)[0]
assert np.allclose(db, 2 * A @ np.linalg.solve(A.T @ A, x)), "dL/db should be 2 A (A^T A)^{-1} (x - y)"
"""),
        tests("test_least_squares_hidden", 2, """
# Hidden tests for least_squares_grads (2 points)
"""),
        solution("low_rank", """
def low_rank_grad(W, X, Y, lam):
    \"\"\"Gradient in W of ||X W - Y||_F^2 + lam * nuclear_norm(W), with your svd_values_vjp.\"\"\"
    ### BEGIN SOLUTION
    def objective(W):
        R = anp.matmul(X, W) - Y
        return anp.sum(R * R) + lam * anp.sum(anp.linalg.svd(W, compute_uv=False))

    with ad.override_rules(anp.linalg.svd, vjp=svd_values_vjp):
        return ad.grad(objective)(W)
    ### END SOLUTION
"""),
        tests("test_low_rank_visible", 1, """
# Visible tests for low_rank_grad (1 point): with X = 0 the gradient is lam U V^T
W = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
out = low_rank_grad(W, np.zeros((4, 3)), np.zeros((4, 2)), 0.5)
assert np.shape(out) == (3, 2), f"expected shape (3, 2), got {np.shape(out)}"
assert np.allclose(out, 0.5 * np.eye(3, 2)), f"expected 0.5 * U V^T = 0.5 * eye(3, 2), got {out}"
"""),
        tests("test_low_rank_hidden", 2, """
# Hidden tests for low_rank_grad (2 points)
"""),
        md("""
## 5. Derivations (2 + 3 points, graded by hand)

**(a)** Derive the VJP of `solve` from $A x = b$: differentiate to get $dx$, then use
$\\langle g, dx \\rangle = \\langle \\bar A, dA \\rangle + \\langle \\bar b, db \\rangle$. Explain the
vector vs matrix right-hand side.
"""),
        manual("derivation_solve", 2, """
### BEGIN SOLUTION
From $A x = b$: $dA\\, x + A\\, dx = db$, so $dx = A^{-1}(db - dA\\, x)$. Then
$\\langle g, dx\\rangle = \\operatorname{tr}(g^T A^{-1} db) - \\operatorname{tr}(g^T A^{-1} dA\\, x)
= \\langle A^{-T} g, db \\rangle + \\langle -A^{-T} g x^T, dA \\rangle$, hence $\\bar b = A^{-T} g$
and $\\bar A = -\\bar b\\, x^T$. With a vector $b$, $\\bar b x^T$ is an outer product; with
$k$ columns it is the $(n, k) \\times (k, n)$ product, the sum of the outer products of the
columns.
### END SOLUTION
"""),
        md("""
**(b)** Derive the VJP of the singular values, $\\bar W = U \\operatorname{diag}(\\bar s) V^T$,
from $ds_i = u_i^T\\, dW\\, v_i$, and explain where the factor $F_{ij} = 1/(s_j^2 - s_i^2)$ of the
full rule comes from and why the rule breaks down for repeated singular values.
"""),
        manual("derivation_svd", 3, """
### BEGIN SOLUTION
Differentiating $W = U S V^T$ and multiplying by $U^T$ and $V$: $dP := U^T dW\\, V =
U^T dU\\, S + dS + S\\, dV^T V$. $U^T dU$ and $V^T dV$ are antisymmetric, so their diagonals vanish
and $ds_i = (dP)_{ii} = u_i^T dW v_i$. Then $\\sum_i \\bar s_i ds_i = \\langle U
\\operatorname{diag}(\\bar s) V^T, dW \\rangle$. Off the diagonal, combining $dP$ and $dP^T$
eliminates one of the two antisymmetric matrices: $(U^T dU)_{ij} (s_j^2 - s_i^2) =
(dP\\, S + S\\, dP^T)_{ij}$, which gives $F_{ij}$. If $s_i = s_j$ the singular vectors of that
subspace are not unique and the division is by zero: $U$ and $V$ are not differentiable there.
### END SOLUTION
"""),
    ]
    return notebook(cells)


def build():
    out = {}
    for name, make in (("ps1_elementwise", ps1), ("ps2_matrices", ps2)):
        path = os.path.join(ROOT, "source", name, f"{name}.ipynb")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write(make(), path)
        out[name] = path
    return out


if __name__ == "__main__":
    for name, path in build().items():
        print(f"wrote {os.path.relpath(path)}")
