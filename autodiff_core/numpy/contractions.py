"""Products that contract indices: matmul / dot, vdot, outer, trace, diag, einsum.

All are bilinear (or linear), so each JVP is the product with one factor replaced by its
tangent, and each VJP contracts g with the other factor over the indices the input does not own.
"""
from __future__ import annotations

import numpy as onp

from ._wrap import TRACED, primitive, shape, unbroadcast


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


def _dot_vjp(argnum, g, ans, a, b):
    if len(shape(a)) == 0 or len(shape(b)) == 0:
        from .elementwise import multiply
        return multiply.vjp_rule(argnum)(g, ans, a, b)
    return (_matmul_vjp_a if argnum == 0 else _matmul_vjp_b)(g, ans, a, b)


dot_p = primitive(onp.dot, "dot = matmul for 1-D and 2-D arrays, multiply for scalars", name="dot")
dot_p.vjp_argnum = _dot_vjp
dot_p.defjvp(lambda t, ans, a, b: dot_p(t, b),
             lambda t, ans, a, b: dot_p(a, t))


def dot(a, b):
    """np.dot: the primitive up to 2-D; beyond, a tensordot over a's last and b's second-to-last axis."""
    if len(shape(a)) <= 2 and len(shape(b)) <= 2:
        return dot_p(a, b)
    if len(shape(a)) == 0 or len(shape(b)) == 0:
        return a * b
    return tensordot(a, b, ([-1], [-2 if len(shape(b)) > 1 else 0]))


TRACED[onp.dot] = dot

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


def _trace2(x, offset=0):
    return onp.trace(x, offset)


trace_p = primitive(_trace2, "d tr_k(X) = tr_k(dX) (sum of the k-th diagonal);  bar X = g eye(m, n, k)",
                    name="trace").saves(ans=False, args=False)
trace_p.defvjp(lambda g, ans, x, offset=0: g * onp.eye(*shape(x), k=offset))
trace_p.defjvp(lambda t, ans, x, offset=0: trace_p(t, offset))


def trace(x, offset=0, axis1=0, axis2=1):
    """np.trace: the primitive for a matrix; otherwise the sum of np.diagonal (a gather)."""
    if len(shape(x)) == 2 and (axis1 % 2, axis2 % 2) == (0, 1):
        return trace_p(x, offset)
    from . import diagonal, sum
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


TRACED[onp.trace] = trace


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
    return inputs, output


def _einsum(subscripts, *operands):
    return onp.einsum(subscripts, *operands)


def _einsum_vjp(argnum, g, ans, subscripts, *operands):
    """bar x_i = einsum('out, others -> in_i', g, others), broadcast over indices only x_i owns
    and summed over axes where x_i has length 1 but the others do not."""
    from . import broadcast_to, reshape
    inputs, output = _parse_einsum(subscripts, len(operands))
    i = argnum - 1
    others = [k for k in range(len(operands)) if k != i]
    seen = set(output).union(*(inputs[k] for k in others))
    target = inputs[i]
    kept = "".join(c for c in target if c in seen)
    spec = ",".join([output] + [inputs[k] for k in others]) + "->" + kept
    ct = einsum_p(spec, g, *[operands[k] for k in others])
    x_shape = shape(operands[i])
    if kept != target:
        ct = reshape(ct, [shape(ct)[kept.index(c)] if c in seen else 1 for c in target])
        ct = broadcast_to(ct, onp.broadcast_shapes(shape(ct), x_shape))
    return unbroadcast(ct, x_shape)


def _einsum_jvp(argnum, t, ans, subscripts, *operands):
    ops = list(operands)
    ops[argnum - 1] = t
    return einsum_p(subscripts, *ops)


einsum_p = primitive(_einsum, "einsum is multilinear: d einsum(x_1..x_k) = sum_i einsum(.., dx_i, ..)",
                     name="einsum")
einsum_p.vjp_argnum = _einsum_vjp
einsum_p.jvp_argnum = _einsum_jvp

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _from_sublists(args):
    """einsum(x0, [0, 1], x1, [1, 2], [0, 2]) -> ('ab,bc->ac', [x0, x1])."""
    def term(sub):
        return "".join("..." if i is Ellipsis else _LETTERS[i] for i in sub)
    out = "->" + term(args[-1]) if len(args) % 2 else ""
    args = args[:len(args) - len(args) % 2]
    return ",".join(term(s) for s in args[1::2]) + out, list(args[0::2])


def _explicit(subscripts, operands):
    """The same contraction without '...', with an explicit output and one letter per operand axis."""
    inputs, output = _parse_einsum(subscripts, len(operands))
    if "->" not in subscripts.replace(" ", ""):
        output = ("..." if any("..." in t for t in inputs) else "") + output.replace(".", "")
    if "..." in subscripts:
        free = [c for c in _LETTERS if c not in subscripts]
        n_ell = max(len(shape(x)) - len(t.replace("...", "")) for t, x in zip(inputs, operands) if "..." in t)
        ell = "".join(free[:n_ell])
        inputs = [t.replace("...", ell[n_ell - (len(shape(x)) - len(t) + 3):]) for t, x in zip(inputs, operands)]
        output = output.replace("...", ell)
    return inputs, output


def einsum(*args):
    """np.einsum, differentiable in every operand: subscripts with '...', implicit or explicit
    output, an index repeated within one operand (a diagonal: a gather), or the sublist form
    einsum(x, [0, 1], y, [1, 2]). No optimize or out keywords."""
    subscripts, operands = (args[0], list(args[1:])) if isinstance(args[0], str) else _from_sublists(args)
    inputs, output = _explicit(subscripts, operands)
    for k, term in enumerate(inputs):
        unique = "".join(dict.fromkeys(term))
        if unique != term:                       # x_ii.. -> its diagonal, a gather
            from .shape_ops import _gather
            operands[k] = _gather(operands[k], lambda i, term=term, unique=unique: onp.einsum(f"{term}->{unique}", i))
            inputs[k] = unique
    return einsum_p(",".join(inputs) + "->" + output, *operands)


def tensordot(a, b, axes=2):
    """np.tensordot as an einsum: contract a's ``axes[0]`` with b's ``axes[1]`` (or a's last N with
    b's first N for an integer N)."""
    na, nb = len(shape(a)), len(shape(b))
    if onp.ndim(axes) == 0:
        ax_a, ax_b = list(range(na - axes, na)), list(range(axes))
    else:
        ax_a, ax_b = ([x] if onp.ndim(x) == 0 else list(x) for x in axes)
    ax_a, ax_b = [x % na for x in ax_a], [x % nb for x in ax_b]
    ta = list(_LETTERS[:na])
    tb = list(_LETTERS[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        tb[j] = ta[i]
    out = [c for k, c in enumerate(ta) if k not in ax_a] + [c for k, c in enumerate(tb) if k not in ax_b]
    return einsum_p(f"{''.join(ta)},{''.join(tb)}->{''.join(out)}", a, b)


def inner(a, b):
    """np.inner: sum over the last axes of a and b (a product for scalars)."""
    if len(shape(a)) == 0 or len(shape(b)) == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 3- (or 2-) vectors along the given axes, from products of components."""
    from . import broadcast_to, moveaxis, stack
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    na, nb = shape(a)[-1], shape(b)[-1]
    a0, a1, a2 = (a[..., i] if i < na else 0.0 for i in range(3))
    b0, b1, b2 = (b[..., i] if i < nb else 0.0 for i in range(3))
    if na == nb == 2:
        return a0 * b1 - a1 * b0
    batch = onp.broadcast_shapes(shape(a)[:-1], shape(b)[:-1])
    c = [broadcast_to(ci, batch) for ci in (a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0)]
    return moveaxis(stack(c, axis=-1), -1, axisc)


TRACED.update({onp.einsum: einsum, onp.tensordot: tensordot, onp.inner: inner, onp.cross: cross})
