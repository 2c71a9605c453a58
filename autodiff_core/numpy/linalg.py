"""Linear algebra primitives: solve, inv, det, slogdet, norm, svd. Matrices are 2-D.

Notation: g is the cotangent of the result, t the tangent of the argument, A^{-T} = (A^{-1})^T.
Edge cases:
* solve / inv / det at a singular matrix: NumPy raises LinAlgError in the forward pass (det
  itself is 0 there, but its rule needs A^{-1}, so the gradient raises LinAlgError too).
* norm at 0: the 2-norm is not differentiable there; the rules return 0 (a valid subgradient).
* svd: gradients through U or V need distinct, nonzero singular values (see ``svd``).
"""
from __future__ import annotations

import numpy as onp
import numpy.linalg as nla

from ..tracer import primal
from ._wrap import TRACED, primitive, shape


def _T(x):
    from . import swapaxes
    return swapaxes(x, -1, -2)


def _matrix(name, a):
    if len(shape(a)) != 2 or shape(a)[0] != shape(a)[1]:
        raise ValueError(f"np.linalg.{name} is differentiable here for one square 2-D matrix; "
                         f"got shape {shape(a)}")


def _solve(a, b):
    _matrix("solve", a)
    return nla.solve(a, b)


def _solve_vjp_a(g, ans, a, b):
    """bar A = -A^{-T} g x^T  (x = ans; for a vector right-hand side, an outer product)."""
    from . import matmul, outer
    gb = solve(_T(a), g)
    return -outer(gb, ans) if len(shape(b)) == 1 else -matmul(gb, _T(ans))


solve = primitive(_solve, "x = A^{-1} b:  dx = A^{-1} (db - dA x);  bar b = A^{-T} g,  bar A = -bar b x^T",
                  name="solve")
solve.defvjp(_solve_vjp_a,
             lambda g, ans, a, b: solve(_T(a), g))
solve.defjvp(lambda t, ans, a, b: -solve(a, _matmul(t, ans)),
             lambda t, ans, a, b: solve(a, t))


def _matmul(x, y):
    from . import matmul
    return matmul(x, y)


def _inv(a):
    _matrix("inv", a)
    return nla.inv(a)


inv = primitive(_inv, "d A^{-1} = -A^{-1} dA A^{-1};  bar A = -A^{-T} g A^{-T}", name="inv")
inv.defvjp(lambda g, ans, a: -_matmul(_T(ans), _matmul(g, _T(ans))))
inv.defjvp(lambda t, ans, a: -_matmul(ans, _matmul(t, ans)))


def _det(a):
    _matrix("det", a)
    return nla.det(a)


det = primitive(_det, "d det A = det(A) tr(A^{-1} dA);  bar A = g det(A) A^{-T}", name="det")
det.defvjp(lambda g, ans, a: g * ans * _T(inv(a)))
det.defjvp(lambda t, ans, a: ans * _trace(solve(a, t)))


def _trace(x):
    from . import trace
    return trace(x)


def _slogdet(a):
    _matrix("slogdet", a)
    return tuple(nla.slogdet(a))


def _slogdet_vjp(g, ans, a):
    """bar A = g_logabsdet A^{-T}; the sign is piecewise constant and gets no gradient."""
    g_logdet = g[1]
    if g_logdet is None:
        from . import zeros_like
        return zeros_like(a)
    return g_logdet * _T(inv(a))


slogdet = primitive(_slogdet, "(sign, log|det A|):  d log|det A| = tr(A^{-1} dA),  d sign = 0",
                    name="slogdet")
slogdet.defvjp(_slogdet_vjp)
slogdet.defjvp(lambda t, ans, a: (_zeros_like(ans[0]), _trace(solve(a, t))))


def _norm(x, ord=None, axis=None, keepdims=False):
    return nla.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def _norm_kind(x, ord, axis):
    vector = (axis is None and len(shape(x)) == 1) or onp.ndim(axis) == 0 and axis is not None
    if ord in (None, "fro") or (ord == 2 and vector):
        return "two"
    if vector and ord == 1:
        return "one"
    if vector and ord in (onp.inf, float("inf")):
        return "inf"
    raise NotImplementedError(
        f"np.linalg.norm with ord={ord!r} (axis={axis!r}) on shape {shape(x)} has no derivative rule "
        "here: supported are the 2-norm / Frobenius norm, and ord=1 and ord=inf for vectors; the "
        "nuclear norm is sum(np.linalg.svd(x, compute_uv=False))")


def _norm_grad(ans, x, ord, axis, keepdims):
    """d||x|| / dx, of x's shape: x / ||x|| (0 where ||x|| = 0), sign(x), or the argmax's sign."""
    from . import absolute, where
    from .reductions import _argmax_share, _restore
    kind = _norm_kind(x, ord, axis)
    if kind == "one":
        return onp.sign(x)
    if kind == "inf":
        return onp.sign(x) * _argmax_share(absolute(x), ans, axis, keepdims)
    n = ans if keepdims or axis is None else _restore(ans, shape(x), axis, False)
    zero = n == 0
    return where(zero, 0.0, x / where(zero, 1.0, n))


def _norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    from .reductions import _restore
    gx = g if keepdims or axis is None else _restore(g, shape(x), axis, False)
    return gx * _norm_grad(ans, x, ord, axis, keepdims)


def _norm_jvp(t, ans, x, ord=None, axis=None, keepdims=False):
    from . import sum
    return sum(_norm_grad(ans, x, ord, axis, keepdims) * t, axis=axis, keepdims=keepdims)


norm = primitive(_norm, "d ||x||_2 = <x, dx> / ||x||_2 (0 at x = 0); also ord=1: sign(x), ord=inf",
                 name="norm")
norm.defvjp(_norm_vjp)
norm.defjvp(_norm_jvp)


class DegenerateSVDError(ValueError):
    """Gradients through U or V asked for where they do not exist."""


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if len(shape(a)) != 2:
        raise ValueError(f"np.linalg.svd is differentiable here for 2-D matrices; got shape {shape(a)}")
    out = nla.svd(a, full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian)
    return tuple(out) if compute_uv else out


def _thin(a, ans, full_matrices):
    """U (m, k), s (k,), Vt (k, n) with k = min(m, n), from a full or thin result."""
    u, s, vt = ans
    k = shape(s)[0]
    return (u[:, :k], s, vt[:k, :]) if full_matrices else (u, s, vt)


def _svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    """VJP of A = U diag(s) V^T  (Townsend 2016), U (m, k), V (n, k), k = min(m, n):

    bar A = U [ (F o (U^T gU - gU^T U)) S + diag(gs) + S (F o (V^T gV - gV^T V)) ] V^T
          + (I_m - U U^T) gU S^{-1} V^T + U S^{-1} gV^T (I_n - V V^T),
    F_ij = 1 / (s_j^2 - s_i^2) for i != j, 0 on the diagonal.

    With only gs (singular values): bar A = U diag(gs) V^T, defined everywhere.
    The U and V terms need distinct singular values (F) and, for the projection terms, nonzero
    ones (S^{-1}); where they fail this raises DegenerateSVDError rather than return inf or nan.
    With full_matrices=True the extra columns of U (rows of Vt) beyond min(m, n) are not unique,
    so a nonzero cotangent on them raises; the other columns work as with full_matrices=False.
    """
    from . import matmul, zeros_like
    if not compute_uv:
        u, s, vt = svd(a, full_matrices=False)
        return matmul(u * g, vt)
    gu, gs, gvt = g
    m, n = shape(a)
    k = min(m, n)
    if full_matrices:
        extra_u = gu is not None and onp.any(primal(gu)[:, k:])
        extra_v = gvt is not None and onp.any(primal(gvt)[k:, :])
        if extra_u or extra_v:
            raise DegenerateSVDError(
                f"gradient through the extra {'columns of U' if extra_u else 'rows of Vt'} of "
                f"np.linalg.svd(x, full_matrices=True) for a {m}x{n} matrix: they are not unique "
                "(any orthonormal completion of the first min(m, n) will do), so they are not "
                "functions of x. Use np.linalg.svd(x, full_matrices=False).")
        gu = None if gu is None else gu[:, :k]
        gvt = None if gvt is None else gvt[:k, :]
    u, s, vt = _thin(a, ans, full_matrices)
    out = matmul(u * (gs if gs is not None else zeros_like(s)), vt)
    if gu is None and gvt is None:
        return out
    gv = None if gvt is None else _T(gvt)
    F = _svd_F(s)
    if gu is not None:
        ut_gu = matmul(_T(u), gu)
        out = out + matmul(u, matmul(F * (ut_gu - _T(ut_gu)) * s, vt))
        if m > shape(s)[0]:
            proj = gu - matmul(u, ut_gu)
            out = out + matmul(proj / _nonzero(s), vt)
    if gv is not None:
        vt_gv = matmul(vt, gv)
        out = out + matmul(u, matmul(_column(s) * (F * (vt_gv - _T(vt_gv))), vt))
        if n > shape(s)[0]:
            proj = _T(gv) - matmul(_T(vt_gv), vt)
            out = out + matmul(u / _nonzero(s), proj)
    return out


def _column(s):
    from . import reshape
    return reshape(s, (-1, 1))


def _svd_F(s, rtol=1e-12):
    """F_ij = 1 / (s_j^2 - s_i^2) off the diagonal; raises where singular values repeat."""
    s2 = onp.asarray(primal(s)) ** 2
    gap = s2[None, :] - s2[:, None]
    off = ~onp.eye(len(s2), dtype=bool)
    scale = max(float(s2.max(initial=0.0)), 1e-300)
    if onp.any(onp.abs(gap[off]) <= rtol * scale):
        raise DegenerateSVDError(
            "gradient through U or V of the SVD at a matrix with repeated singular values "
            f"({onp.sqrt(s2)}): the singular vectors of a repeated value are not unique, so U and V "
            "have no derivative there. Use only the singular values, or a function that does not "
            "depend on the choice of basis within the repeated subspace, or perturb the matrix.")
    from . import expand_dims, where
    s_sq = s * s
    d = expand_dims(s_sq, 0) - expand_dims(s_sq, 1)
    return where(off, 1.0 / where(off, d, 1.0), 0.0)


def _nonzero(s, rtol=1e-12):
    sp = onp.asarray(primal(s))
    if onp.any(sp <= rtol * max(float(sp.max(initial=0.0)), 1e-300)):
        raise DegenerateSVDError(
            "gradient through U or V of a non-square matrix with a zero singular value: the "
            "singular vectors completing the null space are not unique, so U and V have no "
            "derivative there. Use only the singular values, or perturb the matrix.")
    return s


def _svd_jvp(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    """JVP of A = U S V^T with dP = U^T dA V (k x k):

    ds = diag(dP);  dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^{-1};
    dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^{-1}.
    """
    from . import diag, matmul
    if not compute_uv:
        u, s, vt = svd(a, full_matrices=False)
        return diag(matmul(_T(u), matmul(t, _T(vt))))
    m, n = shape(a)
    if full_matrices and m != n:
        raise DegenerateSVDError(
            "forward-mode derivative of np.linalg.svd(x, full_matrices=True) for a non-square "
            "matrix: the extra columns of the larger factor are not unique (any orthonormal "
            "completion will do), so they have no tangent. Use full_matrices=False.")
    u, s, vt = ans
    v = _T(vt)
    dP = matmul(_T(u), matmul(t, v))
    ds = diag(dP)
    F = _svd_F(s)
    dP_s = dP * s                 # dP S   (scales columns)
    s_dP = _column(s) * dP        # S dP   (scales rows)
    du = matmul(u, F * (dP_s + _T(dP_s)))
    dv = matmul(v, F * (s_dP + _T(s_dP)))
    if m > shape(s)[0]:
        du = du + matmul(t - matmul(u, matmul(_T(u), t)), v) / _nonzero(s)
    if n > shape(s)[0]:
        dv = dv + matmul(_T(t) - matmul(v, matmul(vt, _T(t))), u) / _nonzero(s)
    return du, ds, _T(dv)


svd = primitive(_svd, _svd_vjp.__doc__, name="svd")
svd.defvjp(_svd_vjp)
svd.defjvp(_svd_jvp)

for _name, _prim in [("solve", solve), ("inv", inv), ("det", det), ("slogdet", slogdet),
                     ("norm", norm), ("svd", svd)]:
    TRACED[getattr(nla, _name)] = _prim


def __getattr__(name):
    """Everything else (cond, matrix_rank, LinAlgError, ...) is plain numpy.linalg."""
    return getattr(nla, name)


def _zeros_like(x):
    from . import zeros_like
    return zeros_like(x)
