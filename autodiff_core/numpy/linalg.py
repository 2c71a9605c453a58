"""Linear algebra primitives: solve, inv, det, slogdet, norm, svd, cholesky, eigh, eigvalsh, eig,
pinv. Each primitive works on one 2-D matrix; stacks of matrices (more than 2-D, as NumPy allows)
go through one helper, ``_over_stack``, which applies the primitive to each matrix.

Notation: g is the cotangent of the result, t the tangent of the argument, A^{-T} = (A^{-1})^T.
Edge cases:
* solve / inv at a singular matrix: NumPy raises LinAlgError in the forward pass.
* det at a singular matrix: det = 0 and its gradient is the cofactor matrix (as JAX), computed
  from the (n-1) x (n-1) minors; slogdet there: log|det| = -inf, its gradient raises LinAlgError.
* norm at 0: the 2-norm is not differentiable there; the rules return 0 (a valid subgradient),
  and second derivatives that move x there are NaN.
* svd / eigh / eig: gradients through singular vectors or eigenvectors raise DegenerateSVDError
  / DegenerateEigenError only when the cotangent reaches a subspace where they are not unique.
* cholesky / eigh read one triangle of A (NumPy's convention); their derivatives are those of
  exactly that function.
"""
from __future__ import annotations

import numpy as onp
import numpy.linalg as nla

from ..tracer import Primitive, Tracer, primal
from ._wrap import TRACED, primitive, shape


def _T(x):
    from . import swapaxes
    return swapaxes(x, -1, -2)


def _over_stack(prim, args, cores, kwargs):
    """``prim`` (defined on single matrices) applied over the leading axes of stacked arguments.

    ``cores[i]`` is the number of trailing axes of ``args[i]`` that one call takes (2 for a
    matrix, 1 for a vector); the leading axes broadcast. Arguments after those (options such as
    eigh's UPLO) are passed unchanged. Results (arrays or tuples of arrays) are stacked back with
    the batch axes in front, as NumPy's linalg does.
    """
    from . import broadcast_to, reshape, stack
    batch = onp.broadcast_shapes(*[shape(x)[:len(shape(x)) - c] for x, c in zip(args, cores)])
    if not batch:
        return prim(*args, **kwargs)
    flat = [reshape(broadcast_to(x, batch + shape(x)[len(shape(x)) - c:]), (-1,) + shape(x)[len(shape(x)) - c:])
            for x, c in zip(args, cores)]
    rest = list(args[len(cores):])
    outs = [prim(*[f[i] for f in flat], *rest, **kwargs) for i in range(int(onp.prod(batch)))]
    if isinstance(primal(outs[0]), tuple):
        return tuple(reshape(stack([o[j] for o in outs]), batch + shape(primal(outs[0])[j]))
                     for j in range(len(primal(outs[0]))))
    return reshape(stack(outs), batch + shape(outs[0]))


class StackedPrimitive(Primitive):
    """A linear-algebra primitive whose rules are written for one matrix; on stacks of traced
    matrices it is applied to each one (``_over_stack``). Plain values go to NumPy at once."""

    def __init__(self, fun, name, doc, cores=lambda *args, **kwargs: (2,)):
        super().__init__(fun, name)
        self.__doc__ = doc
        self.cores = cores
        TRACED[getattr(nla, name)] = self

    def __call__(self, *args, **kwargs):
        if any(isinstance(x, Tracer) for x in args):
            cores = self.cores(*args)
            if any(len(shape(x)) > c for x, c in zip(args, cores)):
                return _over_stack(super().__call__, args, cores, kwargs)
        return super().__call__(*args, **kwargs)


def _solve(a, b):
    return nla.solve(a, b)


def _solve_vjp_a(g, ans, a, b):
    """bar A = -A^{-T} g x^T  (x = ans; for a vector right-hand side, an outer product)."""
    from . import matmul, outer
    gb = solve(_T(a), g)
    return -outer(gb, ans) if len(shape(b)) == 1 else -matmul(gb, _T(ans))


solve = StackedPrimitive(_solve, "solve", "x = A^{-1} b:  dx = A^{-1} (db - dA x);  bar b = A^{-T} g,  "
                         "bar A = -bar b x^T", cores=lambda a, b: (2, 1 if len(shape(b)) == 1 else 2))
solve.defvjp(_solve_vjp_a,
             lambda g, ans, a, b: solve(_T(a), g))
solve.defjvp(lambda t, ans, a, b: -solve(a, _matmul(t, ans)),
             lambda t, ans, a, b: solve(a, t))


def _matmul(x, y):
    from . import matmul
    return matmul(x, y)


inv = StackedPrimitive(nla.inv, "inv", "d A^{-1} = -A^{-1} dA A^{-1};  bar A = -A^{-T} g A^{-T}")
inv.defvjp(lambda g, ans, a: -_matmul(_T(ans), _matmul(g, _T(ans))))
inv.defjvp(lambda t, ans, a: -_matmul(ans, _matmul(t, ans)))


def _cofactor(a, ans):
    """cof(A) = det(A) A^{-T}, the gradient of det; at a singular A (det = 0) from the minors:
    cof(A)_ij = (-1)^(i+j) det(A without row i and column j), a polynomial in A (any order works)."""
    if primal(ans) != 0:
        return ans * _T(inv(a))
    from . import reshape
    from .shape_ops import _gather
    n = shape(a)[0]
    if n == 1:
        return onp.ones((1, 1))
    keep = ~onp.eye(n, dtype=bool)
    minors = _gather(a, lambda i: onp.stack([i[onp.ix_(keep[r], keep[c])] for r in range(n) for c in range(n)]))
    signs = (-1.0) ** onp.add.outer(onp.arange(n), onp.arange(n))
    return signs * reshape(det(minors), (n, n))


det = StackedPrimitive(nla.det, "det", "d det A = tr(cof(A)^T dA);  bar A = g cof(A), cof(A) = det(A) "
                       "A^{-T}  (at a singular A: the cofactor matrix, from the minors)")
det.defvjp(lambda g, ans, a: g * _cofactor(a, ans))
det.defjvp(lambda t, ans, a: ans * _trace(solve(a, t)) if primal(ans) != 0 else
           _sum(_cofactor(a, ans) * t))


def _sum(x):
    from . import sum
    return sum(x)


def _trace(x):
    from . import trace
    return trace(x)


def _slogdet(a):
    return tuple(nla.slogdet(a))


def _slogdet_vjp(g, ans, a):
    """bar A = g_logabsdet A^{-T}; the sign is piecewise constant and gets no gradient."""
    g_logdet = g[1]
    if g_logdet is None:
        from . import zeros_like
        return zeros_like(a)
    _nonsingular_slogdet(ans)
    return g_logdet * _T(inv(a))


def _nonsingular_slogdet(ans):
    if primal(ans[0]) == 0:
        raise nla.LinAlgError(
            "gradient of np.linalg.slogdet at a singular matrix: log|det A| = -inf there and its "
            "gradient cof(A) / det(A) is infinite. np.linalg.det is differentiable there (its "
            "gradient is the cofactor matrix).")


slogdet = StackedPrimitive(_slogdet, "slogdet", "(sign, log|det A|):  d log|det A| = tr(A^{-1} dA),  "
                           "d sign = 0  (at a singular A the gradient raises LinAlgError)")
slogdet.defvjp(_slogdet_vjp)
slogdet.defjvp(lambda t, ans, a: _nonsingular_slogdet(ans) or (_zeros_like(ans[0]), _trace(solve(a, t))))


def _norm(x, ord=None, axis=None, keepdims=False):
    return nla.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def _norm_kind(ord):
    """Which vector norm (the primitive handles vector norms and the Frobenius norm)."""
    if ord in (None, "fro", 2):
        return "two"
    if ord == 1:
        return "one"
    if ord in (onp.inf, -onp.inf):
        return "inf"
    if ord == 0:
        return "count"
    if isinstance(ord, (int, float)):
        return "p"
    raise ValueError(f"np.linalg.norm: invalid ord {ord!r} for a vector norm")


def _norm_grad(ans, x, ord, axis, keepdims):
    """d||x|| / dx, of x's shape: x / ||x||, sign(x), the extremum's sign, or for a p-norm
    sign(x) |x|^(p-1) / ||x||^(p-1). At ||x|| = 0: 0 (a subgradient), with undefined slope."""
    from . import absolute, where
    from .elementwise import _sign, _undefined_slope
    from .reductions import _argmax_share, _restore
    kind = _norm_kind(ord)
    if kind == "count":
        return onp.zeros(shape(x))
    if kind == "one":
        return _sign(x)
    if kind == "inf":
        return _sign(x) * _argmax_share(absolute(x), ans, axis, keepdims)
    n = ans if keepdims or axis is None else _restore(ans, shape(x), axis, False)
    zero = primal(n) == 0
    n_safe = where(zero, 1.0, n)
    unit = x / n_safe if kind == "two" else _sign(x) * (absolute(x) / n_safe) ** (ord - 1)
    if not onp.any(zero):
        return unit
    return where(zero, 0.0, unit) + _undefined_slope(x, onp.broadcast_to(zero, shape(x)))


def _norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    from .reductions import _restore
    gx = g if keepdims or axis is None else _restore(g, shape(x), axis, False)
    return gx * _norm_grad(ans, x, ord, axis, keepdims)


def _norm_jvp(t, ans, x, ord=None, axis=None, keepdims=False):
    from . import sum
    return sum(_norm_grad(ans, x, ord, axis, keepdims) * t, axis=axis, keepdims=keepdims)


norm_p = primitive(_norm, "vector p-norms and the Frobenius norm:  d ||x||_2 = <x, dx> / ||x||_2; "
                          "ord=1: sign(x);  ord=+-inf: the sign at the extremum;  ord=p: "
                          "sign(x) (|x| / ||x||)^(p-1)  (0 at x = 0, second derivatives there NaN)",
                   name="norm")
norm_p.defvjp(_norm_vjp)
norm_p.defjvp(_norm_jvp)


def _matrix_norm(x, ord, axes, keepdims):
    """Matrix norms other than Frobenius, from the singular values or absolute row/column sums."""
    from . import absolute, max, min, moveaxis, reshape, sum
    m = moveaxis(x, axes, (-2, -1))
    if ord in ("nuc", 2, -2):
        s = svd(m, compute_uv=False)
        out = sum(s, axis=-1) if ord == "nuc" else (max if ord == 2 else min)(s, axis=-1)
    elif ord in (1, -1, onp.inf, -onp.inf):
        sums = sum(absolute(m), axis=-2 if ord in (1, -1) else -1)
        out = (max if ord > 0 else min)(sums, axis=-1)
    else:
        raise ValueError(f"np.linalg.norm: invalid ord {ord!r} for a matrix norm")
    if keepdims:
        kept = [1 if i in axes else d for i, d in enumerate(shape(x))]
        out = reshape(out, kept)
    return out


def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm. Vector norms of any ord and the Frobenius norm are one primitive; the matrix
    norms 'nuc', 2, -2 (singular values), 1, -1, inf, -inf (absolute sums) are built on svd, sum,
    max and min. See ``norm_p`` for the derivatives and the behaviour at 0."""
    nd = len(shape(x))
    if axis is None and ord is not None and nd == 2:
        axis = (0, 1)
    if axis is not None and onp.ndim(axis) == 1:
        axes = tuple(a % nd for a in axis)
        if len(axes) == 2 and ord not in (None, "fro"):
            return _matrix_norm(x, ord, axes, keepdims)
        if len(axes) == 1:
            axis = axes[0]
    if axis is None and ord is not None and nd != 1:
        raise ValueError("np.linalg.norm: improper number of dimensions to norm")
    return norm_p(x, ord=ord, axis=axis, keepdims=keepdims)


class DegenerateSVDError(ValueError):
    """A gradient through U or V that depends on a choice NumPy made arbitrarily."""


class DegenerateEigenError(ValueError):
    """A gradient through eigenvectors that depends on a choice NumPy made arbitrarily."""


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    out = nla.svd(a, full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian)
    return tuple(out) if compute_uv else out


def _thin(a, ans, full_matrices):
    """U (m, k), s (k,), Vt (k, n) with k = min(m, n), from a full or thin result."""
    u, s, vt = ans
    k = shape(s)[0]
    return (u[:, :k], s, vt[:k, :]) if full_matrices else (u, s, vt)


def _pair_gaps(values, rtol=1e-12):
    """F_ij = 1 / (v_j - v_i) for distinct values, 0 on the diagonal and where v_i = v_j (a
    repeated value); and the boolean mask of those repeated pairs (i != j)."""
    from . import expand_dims, where
    v = onp.asarray(primal(values))
    scale = max(float(onp.abs(v).max(initial=0.0)), 1e-300)
    repeated = (onp.abs(v[None, :] - v[:, None]) <= rtol * scale) & ~onp.eye(len(v), dtype=bool)
    ok = ~onp.eye(len(v), dtype=bool) & ~repeated
    d = expand_dims(values, 0) - expand_dims(values, 1)
    return where(ok, 1.0 / where(ok, d, 1.0), 0.0), repeated


def _unreached(coupling, mask, error, message, rtol=1e-9):
    """Raise ``error(message)`` if ``coupling`` (the numerator that would be divided by a zero
    gap) is nonzero where ``mask`` holds; entries there are then taken as 0.

    Forward mode: the numerator is the tangent's coupling of the pair; where it is 0 the
    tangent keeps the chosen basis (it does not rotate it), so 0 is the derivative.
    """
    c = onp.abs(onp.asarray(primal(coupling)))
    if onp.any(mask) and onp.any(c[mask] > rtol * max(float(c.max(initial=0.0)), 1e-300)):
        raise error(message)


def _columns_unreached(g, mask, error, message, rtol=1e-12):
    """Reverse mode: raise unless the cotangent columns of both vectors of every repeated pair are
    0. Then the function does not depend on those vectors and their term is exactly 0 nearby too.
    (A zero antisymmetric coupling alone is not enough: for V diag(f(w)) V^T it is 0 at the
    point, but its ratio to the gap tends to f'(w), which the rule cannot know.)"""
    col = onp.sqrt(onp.sum(onp.asarray(primal(g)) ** 2, axis=0))
    used = col > rtol * max(float(col.max(initial=0.0)), 1e-300)
    if onp.any(mask & (used[:, None] | used[None, :])):
        raise error(message)


_REPEATED_SVD = (
    "np.linalg.svd: this gradient (or tangent) asks how singular vectors of a repeated singular "
    "value {values} change. Inside that subspace NumPy picked one basis out of infinitely many, "
    "and this function uses those vectors. If it depends on that choice it has no derivative; "
    "if not (a projector onto the whole subspace) the derivative exists but needs more than this "
    "rule sees. Singular vectors of values that are not repeated work (the top ones of "
    "np.ones((5, 5)), say), and so do the singular values; perturb the matrix, or use only those.")
_ZERO_SVD = (
    "np.linalg.svd: this gradient (or tangent) reaches singular vectors of a non-square matrix "
    "for a zero singular value; those completing the null space are not unique (any orthonormal "
    "basis of it will do), and the function depends on that choice. Use the singular values, "
    "or perturb the matrix.")


def _svd_vjp(g, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    """VJP of A = U diag(s) V^T  (Townsend 2016), U (m, k), V (n, k), k = min(m, n):

    bar A = U [ (F o (U^T gU - gU^T U)) S + diag(gs) + S (F o (V^T gV - gV^T V)) ] V^T
          + (I_m - U U^T) gU S^{-1} V^T + U S^{-1} gV^T (I_n - V V^T),
    F_ij = 1 / (s_j^2 - s_i^2) for i != j, 0 on the diagonal.

    With only gs (singular values): bar A = U diag(gs) V^T, defined everywhere.
    For a repeated singular value (s_i = s_j) the F term is 0/0. Where the cotangent does not
    reach the singular vectors of that value (their columns of gU and gV are 0, e.g. a function
    of the top singular vectors of np.ones((5, 5)), whose other values are 0, 0, 0, 0) the term
    is 0; otherwise DegenerateSVDError. The same for the S^{-1} terms at a zero singular value.
    With full_matrices=True the extra columns of U (rows of Vt) beyond min(m, n) are not unique,
    so a nonzero cotangent on them raises; the other columns work as with full_matrices=False.
    """
    from . import matmul, where, zeros_like
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
    F, repeated = _pair_gaps(s * s)
    message = _REPEATED_SVD.format(values=onp.asarray(primal(s)))
    zero = onp.asarray(primal(s)) <= 1e-12 * max(float(onp.max(primal(s), initial=0.0)), 1e-300)
    s_safe = where(zero, 1.0, s)
    if gu is not None:
        _columns_unreached(gu, repeated, DegenerateSVDError, message)
        ut_gu = matmul(_T(u), gu)
        skew = ut_gu - _T(ut_gu)
        out = out + matmul(u, matmul(F * skew * s, vt))
        if m > k:
            proj = gu - matmul(u, ut_gu)
            _unreached(proj, onp.broadcast_to(zero, (m, k)), DegenerateSVDError, _ZERO_SVD)
            out = out + matmul(where(zero, 0.0, proj / s_safe), vt)
    if gv is not None:
        _columns_unreached(gv, repeated, DegenerateSVDError, message)
        vt_gv = matmul(vt, gv)
        skew = vt_gv - _T(vt_gv)
        out = out + matmul(u, matmul(_column(s) * (F * skew), vt))
        if n > k:
            proj = _T(gv) - matmul(_T(vt_gv), vt)
            _unreached(proj, onp.broadcast_to(zero[:, None], (k, n)), DegenerateSVDError, _ZERO_SVD)
            out = out + matmul(u, where(zero[:, None], 0.0, proj / _column(s_safe)))
    return out


def _column(s):
    from . import reshape
    return reshape(s, (-1, 1))


def _svd_jvp(t, ans, a, full_matrices=True, compute_uv=True, hermitian=False):
    """JVP of A = U S V^T with dP = U^T dA V (k x k):

    ds = diag(dP);  dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^{-1};
    dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^{-1}.
    At repeated or zero singular values, as in the VJP: 0 where the tangent does not reach
    the degenerate pair, else DegenerateSVDError.
    """
    from . import diag, matmul, where
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
    F, repeated = _pair_gaps(s * s)
    message = _REPEATED_SVD.format(values=onp.asarray(primal(s)))
    dP_s = dP * s                 # dP S   (scales columns)
    s_dP = _column(s) * dP        # S dP   (scales rows)
    for coupling in (dP_s + _T(dP_s), s_dP + _T(s_dP)):
        _unreached(coupling, repeated, DegenerateSVDError, message)
    du = matmul(u, F * (dP_s + _T(dP_s)))
    dv = matmul(v, F * (s_dP + _T(s_dP)))
    k = shape(s)[0]
    zero = onp.asarray(primal(s)) <= 1e-12 * max(float(onp.max(primal(s), initial=0.0)), 1e-300)
    s_safe = where(zero, 1.0, s)
    if m > k:
        proj = matmul(t - matmul(u, matmul(_T(u), t)), v)
        _unreached(proj, onp.broadcast_to(zero, (m, k)), DegenerateSVDError, _ZERO_SVD)
        du = du + where(zero, 0.0, proj / s_safe)
    if n > k:
        proj = matmul(_T(t) - matmul(v, matmul(vt, _T(t))), u)
        _unreached(proj, onp.broadcast_to(zero, (n, k)), DegenerateSVDError, _ZERO_SVD)
        dv = dv + where(zero, 0.0, proj / s_safe)
    return du, ds, _T(dv)


svd = StackedPrimitive(_svd, "svd", _svd_vjp.__doc__)
svd.defvjp(_svd_vjp)
svd.defjvp(_svd_jvp)

TRACED[nla.norm] = norm


def _symmetric_from(a, UPLO="L"):
    """The symmetric matrix NumPy's cholesky / eigh actually read: one triangle of A, mirrored.
    Its derivative (a linear map) makes theirs the derivative of exactly NumPy's function."""
    from . import tril, triu
    if UPLO.upper() == "L":
        return tril(a) + _T(tril(a, -1))
    return triu(a) + _T(triu(a, 1))


def _sym(x):
    return 0.5 * (x + _T(x))


def _cholesky(a):
    try:
        return nla.cholesky(a)
    except nla.LinAlgError as e:
        raise nla.LinAlgError(
            "np.linalg.cholesky needs a symmetric positive-definite matrix (it reads the lower "
            f"triangle only); this one is not positive definite ({e}). Add a multiple of the "
            "identity, or factor B B^T + eps I instead.") from None


def _phi(x):
    """The lower triangle with the diagonal halved (the inverse of X -> X + X^T on triangles)."""
    from . import tril
    return tril(x) * (1.0 - 0.5 * onp.eye(shape(x)[-1]))


def _cholesky_jvp(t, L, a):
    """dL = L Phi(L^{-1} dA L^{-T})."""
    X = solve(L, _T(solve(L, _T(t))))
    return _matmul(L, _phi(X))


def _cholesky_vjp(g, L, a):
    """bar A = sym(L^{-T} Phi(L^T g) L^{-1})  (Murray 2016), for symmetric perturbations."""
    M = _phi(_matmul(_T(L), g))
    return _sym(solve(_T(L), _T(solve(_T(L), _T(M)))))


cholesky_p = StackedPrimitive(_cholesky, "cholesky", "A = L L^T:  dL = L Phi(L^{-1} dA L^{-T}),  "
                              "Phi = lower triangle with halved diagonal;  bar A = sym(L^{-T} Phi(L^T g) L^{-1})")
cholesky_p.defvjp(_cholesky_vjp)
cholesky_p.defjvp(_cholesky_jvp)


def cholesky(a, upper=False):
    """np.linalg.cholesky: L with A = L L^T, from the lower triangle of A (derivative included).
    A matrix that is not positive definite raises LinAlgError saying so."""
    L = cholesky_p(_symmetric_from(a, "L"))
    return _T(L) if upper else L


TRACED[nla.cholesky] = cholesky

_REPEATED_EIG = (
    "np.linalg.{name}: this gradient (or tangent) asks how eigenvectors of a repeated eigenvalue "
    "{values} change. Inside that eigenspace NumPy picked one basis out of infinitely many, and "
    "this function uses those eigenvectors. If it depends on that choice it has no derivative; "
    "if not (V diag(f(w)) V^T, a projector onto the whole eigenspace) the derivative exists but "
    "needs more than this rule sees. The eigenvalues (np.linalg.eigvalsh) are differentiable "
    "here; perturb the matrix, or use only them.")


def _eigen_gaps(w, gV, name):
    """F_ij = 1 / (w_j - w_i) of the eigenvector rules, after checking that the cotangent gV
    reaches no vector of a repeated eigenvalue (else DegenerateEigenError naming ``name``)."""
    F, repeated = _pair_gaps(w)
    _columns_unreached(gV, repeated, DegenerateEigenError,
                       _REPEATED_EIG.format(name=name, values=onp.asarray(primal(w))))
    return F


def _eigh(a, UPLO="L"):
    return tuple(nla.eigh(a, UPLO))


def _eigh_vjp(g, ans, a, UPLO="L"):
    """bar A = V (diag(gw) + F o (V^T gV - gV^T V) / 2) V^T,  F_ij = 1 / (w_j - w_i)."""
    from . import diag, zeros_like
    w, V = ans
    gw, gV = g
    inner = diag(gw if gw is not None else zeros_like(w))
    if gV is not None:
        F = _eigen_gaps(w, gV, "eigh")
        M = _matmul(_T(V), gV)
        skew = M - _T(M)
        inner = inner + 0.5 * F * skew
    return _matmul(V, _matmul(inner, _T(V)))


def _eigh_jvp(t, ans, a, UPLO="L"):
    """dP = V^T dA V:  dw = diag(dP),  dV = V (F o dP)."""
    from . import diag
    w, V = ans
    dP = _matmul(_T(V), _matmul(t, V))
    F, repeated = _pair_gaps(w)
    _unreached(dP, repeated, DegenerateEigenError,
               _REPEATED_EIG.format(name="eigh", values=onp.asarray(primal(w))))
    return diag(dP), _matmul(V, F * dP)


eigh_p = StackedPrimitive(_eigh, "eigh", "A = V diag(w) V^T (symmetric):  dw = diag(V^T dA V),  "
                          "dV = V (F o V^T dA V),  F_ij = 1 / (w_j - w_i), 0 for i = j")
eigh_p.defvjp(_eigh_vjp)
eigh_p.defjvp(_eigh_jvp)


def eigh(a, UPLO="L"):
    """np.linalg.eigh: (w, V) of the symmetric matrix NumPy reads from one triangle of A.
    Repeated eigenvalues: see DegenerateEigenError (raised only when the eigenvectors' arbitrary
    basis matters)."""
    return eigh_p(_symmetric_from(a, UPLO), UPLO)


def _eigvalsh(a, UPLO="L"):
    return nla.eigvalsh(a, UPLO)


eigvalsh_p = StackedPrimitive(_eigvalsh, "eigvalsh", "dw = diag(V^T dA V);  bar A = V diag(g) V^T  "
                              "(at repeated eigenvalues: one valid choice, as max at ties)")
eigvalsh_p.defvjp(lambda g, ans, a, UPLO="L": _congruence(_evecs(a, UPLO), g))
eigvalsh_p.defjvp(lambda t, ans, a, UPLO="L": _diag(_congruence(_T(_evecs(a, UPLO)), t)))


def _evecs(a, UPLO):
    return eigh_p(a, UPLO)[1]


def _congruence(V, d):
    """V diag(d) V^T for a vector d, V M V^T for a matrix M."""
    return _matmul(V * d, _T(V)) if len(shape(d)) == 1 else _matmul(V, _matmul(d, _T(V)))


def _diag(x):
    from . import diag
    return diag(x)


def eigvalsh(a, UPLO="L"):
    """np.linalg.eigvalsh: the eigenvalues of the symmetric matrix read from one triangle of A."""
    return eigvalsh_p(_symmetric_from(a, UPLO), UPLO)


def _eig(a):
    w, v = nla.eig(a)
    if onp.iscomplexobj(w):
        raise ValueError("np.linalg.eig of a matrix with complex eigenvalues: autodiff_core is "
                         "real-valued; eig is differentiable here where every eigenvalue is real")
    return w, v


def _eig_vjp(g, ans, a):
    """With unit-norm eigenvectors: G' = gV - V diag(diag(V^T gV));
    bar A = V^{-T} (diag(gw) + F o (V^T G')) V^T,  F_ij = 1 / (w_j - w_i)."""
    from . import diag, zeros_like
    w, V = ans
    gw, gV = g
    inner = diag(gw if gw is not None else zeros_like(w))
    if gV is not None:
        F = _eigen_gaps(w, gV, "eig")
        Gp = gV - V * diag(_matmul(_T(V), gV))
        M = _matmul(_T(V), Gp)
        inner = inner + F * M
    return solve(_T(V), _matmul(inner, _T(V)))


def _eig_jvp(t, ans, a):
    """dP = V^{-1} dA V:  dw = diag(dP);  X = V (F o dP),  dV = X - V diag(diag(V^T X))
    (the last term keeps the columns at unit norm, NumPy's normalisation)."""
    from . import diag
    w, V = ans
    dP = solve(V, _matmul(t, V))
    F, repeated = _pair_gaps(w)
    _unreached(dP, repeated, DegenerateEigenError, _REPEATED_EIG.format(name="eig", values=onp.asarray(primal(w))))
    X = _matmul(V, F * dP)
    return diag(dP), X - V * diag(_matmul(_T(V), X))


eig = StackedPrimitive(_eig, "eig", "A V = V diag(w) with real eigenvalues, unit-norm columns of V:  "
                       "dw = diag(V^{-1} dA V),  dV from F o (V^{-1} dA V), F_ij = 1 / (w_j - w_i)")
eig.defvjp(_eig_vjp)
eig.defjvp(_eig_jvp)


def _pinv_jvp(t, X, a, *args, **kwargs):
    """dX = -X dA X + X X^T dA^T (I - A X) + (I - X A) dA^T X^T X  (Golub and Pereyra 1973;
    valid where the rank of A does not change nearby)."""
    m, n = shape(a)
    P, Q = onp.eye(m) - _matmul(a, X), onp.eye(n) - _matmul(X, a)
    return (-_matmul(X, _matmul(t, X)) + _matmul(X, _matmul(_T(X), _matmul(_T(t), P)))
            + _matmul(Q, _matmul(_T(t), _matmul(_T(X), X))))


def _pinv_vjp(g, X, a, *args, **kwargs):
    """bar A = -X^T g X^T + (I - A X) g^T X X^T + X^T X g^T (I - X A)."""
    m, n = shape(a)
    P, Q = onp.eye(m) - _matmul(a, X), onp.eye(n) - _matmul(X, a)
    return (-_matmul(_T(X), _matmul(g, _T(X))) + _matmul(P, _matmul(_T(g), _matmul(X, _T(X))))
            + _matmul(_T(X), _matmul(X, _matmul(_T(g), Q))))


pinv = StackedPrimitive(nla.pinv, "pinv", _pinv_jvp.__doc__)
pinv.defvjp(_pinv_vjp)
pinv.defjvp(_pinv_jvp)


def __getattr__(name):
    """Everything else (cond, matrix_rank, LinAlgError, ...) is plain numpy.linalg."""
    return getattr(nla, name)


def _zeros_like(x):
    from . import zeros_like
    return zeros_like(x)
