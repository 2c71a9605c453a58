"""Products that contract indices: matmul / dot, vdot, outer, trace, diag, einsum.

All are bilinear (or linear), so each JVP is the product with one factor replaced by its
tangent, and each VJP contracts g with the other factor over the indices the input does not own.
"""
from __future__ import annotations

import numpy as onp

from ._wrap import primitive, shape, unbroadcast


def _promoted(g, a, b):
    """a, b and g as matrices (stacks of): 1-D a becomes a row, 1-D b a column, g gets both axes."""
    from . import expand_dims
    A = expand_dims(a, 0) if len(shape(a)) == 1 else a
    B = expand_dims(b, 1) if len(shape(b)) == 1 else b
    G = expand_dims(g, -1) if len(shape(b)) == 1 else g
    G = expand_dims(G, -2) if len(shape(a)) == 1 else G
    return G, A, B


def _matmul_vjp_a(g, ans, a, b):
    """bar A = g B^T, summed over broadcast batch axes (for vectors: outer products)."""
    from . import reshape, swapaxes
    nda, ndb = len(shape(a)), len(shape(b))
    if nda == 2 and ndb == 2:
        return matmul(g, swapaxes(b, 0, 1))
    if nda == 2 and ndb == 1:
        return outer(g, b)
    if nda == 1 and ndb == 1:
        return g * b
    if nda == 1 and ndb == 2:
        return matmul(b, g)
    G, A, B = _promoted(g, a, b)
    return reshape(unbroadcast(matmul(G, swapaxes(B, -1, -2)), shape(A)), shape(a))


def _matmul_vjp_b(g, ans, a, b):
    """bar B = A^T g, summed over broadcast batch axes (for vectors: outer products)."""
    from . import reshape, swapaxes
    nda, ndb = len(shape(a)), len(shape(b))
    if nda == 2 and ndb == 2:
        return matmul(swapaxes(a, 0, 1), g)
    if nda == 2 and ndb == 1:
        return matmul(g, a)
    if nda == 1 and ndb == 1:
        return g * a
    if nda == 1 and ndb == 2:
        return outer(a, g)
    G, A, B = _promoted(g, a, b)
    return reshape(unbroadcast(matmul(swapaxes(A, -1, -2), G), shape(B)), shape(b))


matmul = primitive(onp.matmul, "d(A B) = dA B + A dB;  bar A = g B^T,  bar B = A^T g").saves(ans=False)
matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b)
matmul.defjvp(lambda t, ans, a, b: matmul(t, b),
              lambda t, ans, a, b: matmul(a, t))


def _check_dot(a, b):
    if len(shape(a)) > 2 or len(shape(b)) > 2:
        raise NotImplementedError("np.dot of arrays with more than 2 dimensions is not differentiable "
                                  "here: use np.matmul or np.einsum")


def _dot_vjp(argnum, g, ans, a, b):
    _check_dot(a, b)
    if len(shape(a)) == 0 or len(shape(b)) == 0:
        from .elementwise import multiply
        return multiply.vjp_rule(argnum)(g, ans, a, b)
    return (_matmul_vjp_a if argnum == 0 else _matmul_vjp_b)(g, ans, a, b)


dot = primitive(onp.dot, "dot = matmul for 1-D and 2-D arrays, multiply for scalars")
dot.vjp_argnum = _dot_vjp
dot.defjvp(lambda t, ans, a, b: dot(t, b),
           lambda t, ans, a, b: dot(a, t))

vdot = primitive(onp.vdot, "vdot(a, b) = sum(a * b) over flattened arrays;  bar a = g b,  bar b = g a")
vdot.defvjp(lambda g, ans, a, b: g * _reshape_as(b, a),
            lambda g, ans, a, b: g * _reshape_as(a, b))
vdot.defjvp(lambda t, ans, a, b: vdot(t, b),
            lambda t, ans, a, b: vdot(a, t))


def _reshape_as(x, like):
    from . import reshape
    return reshape(x, shape(like))


outer = primitive(onp.outer, "outer(a, b)_ij = a_i b_j;  bar a = g b,  bar b = g^T a (flattened)")
outer.defvjp(lambda g, ans, a, b: _reshape_as(matmul(g, _flat(b)), a),
             lambda g, ans, a, b: _reshape_as(matmul(_flat(a), g), b))
outer.defjvp(lambda t, ans, a, b: outer(t, b),
             lambda t, ans, a, b: outer(a, t))


def _flat(x):
    from . import reshape
    return reshape(x, (-1,))


def _trace(x):
    if onp.ndim(x) != 2:
        raise ValueError("np.trace is differentiable here for 2-D arrays only")
    return onp.trace(x)


trace = primitive(_trace, "d tr(X) = tr(dX);  bar X = g I", name="trace")
trace.defvjp(lambda g, ans, x: g * onp.eye(*shape(x)))
trace.defjvp(lambda t, ans, x: trace(t))


def _diag_index(n_rows, n_cols, k):
    length = max(0, min(n_rows, n_cols - k) if k >= 0 else min(n_rows + k, n_cols))
    i = onp.arange(length)
    return (i, i + k) if k >= 0 else (i - k, i)


def _diag_vjp(g, ans, x, k=0):
    from .shape_ops import getitem, scatter_add
    if len(shape(x)) == 1:
        n = shape(x)[0] + abs(k)
        return getitem(g, _diag_index(n, n, k))
    return scatter_add(g, _diag_index(*shape(x), k), shape(x))


diag = primitive(onp.diag, "diag is linear: it moves entries between a vector and a matrix diagonal; "
                           "the adjoint moves them back")
diag.defvjp(_diag_vjp)
diag.defjvp(lambda t, ans, x, k=0: diag(t, k))


def _parse_einsum(subscripts, n_operands):
    if "." in subscripts:
        raise NotImplementedError("np.einsum with '...' is not differentiable here; spell the indices out")
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
    else:
        inputs = subscripts
        letters = inputs.replace(",", "")
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    inputs = inputs.split(",")
    if len(inputs) != n_operands:
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(inputs)} operands, got {n_operands}")
    for term in inputs:
        if len(set(term)) != len(term):
            raise NotImplementedError(
                f"np.einsum with a repeated index inside one operand ({term!r}, a diagonal or trace) "
                "is not differentiable here: use np.diag or np.trace")
    return inputs, output


def _einsum(subscripts, *operands):
    return onp.einsum(subscripts, *operands)


def _einsum_vjp(argnum, g, ans, subscripts, *operands):
    """bar x_i = einsum('out, others -> in_i', g, others), broadcast over indices only x_i owns."""
    from . import broadcast_to, reshape
    inputs, output = _parse_einsum(subscripts, len(operands))
    i = argnum - 1
    others = [k for k in range(len(operands)) if k != i]
    seen = set(output).union(*(inputs[k] for k in others))
    target = inputs[i]
    kept = "".join(c for c in target if c in seen)
    spec = ",".join([output] + [inputs[k] for k in others]) + "->" + kept
    ct = einsum_p(spec, g, *[operands[k] for k in others])
    if kept != target:
        x_shape = shape(operands[i])
        ct = reshape(ct, [x_shape[j] if c in seen else 1 for j, c in enumerate(target)])
        ct = broadcast_to(ct, x_shape)
    return ct


def _einsum_jvp(argnum, t, ans, subscripts, *operands):
    ops = list(operands)
    ops[argnum - 1] = t
    return einsum_p(subscripts, *ops)


einsum_p = primitive(_einsum, "einsum is multilinear: d einsum(x_1..x_k) = sum_i einsum(.., dx_i, ..)",
                     name="einsum")
einsum_p.vjp_argnum = _einsum_vjp
einsum_p.jvp_argnum = _einsum_jvp


def einsum(subscripts, *operands):
    """np.einsum with explicit index letters (no '...', no index repeated within one operand)."""
    _parse_einsum(subscripts, len(operands))
    return einsum_p(subscripts, *operands)
