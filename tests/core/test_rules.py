"""Every primitive's JVP and VJP rule: against central finite differences, against each other
(the adjoint identity <u, J v> = <J^T u, v>), against HIPS autograd where it has the rule, and
second-order checks. Inputs are random shapes and values drawn by hypothesis."""
from __future__ import annotations

import autograd
import autograd.numpy as agnp
import numpy as onp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff_core as ad
import autodiff_core.numpy as np

from .cases import CASES

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
EPS, RTOL, ATOL = 1e-6, 1e-5, 1e-6


def is_diff(a):
    return isinstance(a, onp.ndarray) and a.dtype.kind == "f"


def bind(full, args, diff):
    """full(*args) as a function of the arguments at positions ``diff`` only."""
    def f(*xs):
        a = list(args)
        for i, x in zip(diff, xs):
            a[i] = x
        return full(*a)
    return f


def setup(case, data, seed, module=np):
    """f of the differentiable arguments only, their values, random tangents, the rng,
    and the same function built on ``module`` (for the autograd oracle)."""
    rng = onp.random.default_rng(seed)
    args = case.make(rng, data.draw)
    diff = [i for i, a in enumerate(args) if is_diff(a)]
    xs = [args[i] for i in diff]
    assert xs, f"{case.name}: no differentiable input drawn"
    return bind(case.fn(np), args, diff), xs, [rng.standard_normal(x.shape) for x in xs], rng, \
        lambda: bind(case.fn(module), args, diff)


def central(f, xs, ts, eps=EPS):
    plus = onp.asarray(f(*[x + eps * t for x, t in zip(xs, ts)]), dtype=float)
    minus = onp.asarray(f(*[x - eps * t for x, t in zip(xs, ts)]), dtype=float)
    return (plus - minus) / (2 * eps)


def close(got, want, what, rtol=RTOL, atol=ATOL):
    got, want = onp.asarray(got, dtype=float), onp.asarray(want, dtype=float)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    err = onp.max(onp.abs(got - want), initial=0.0)
    assert onp.allclose(got, want, rtol=rtol, atol=atol), \
        f"{what}: got {got}, expected {want}, max error {err:.3g}"


ids = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=ids)
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_jvp_matches_finite_differences(case, data, seed):
    f, xs, ts, _, _ = setup(case, data, seed)
    out, tangent = ad.jvp(f, xs, ts)
    close(out, f(*xs), f"{case.name}: jvp primal output")
    close(tangent, central(f, xs, ts), f"{case.name}: JVP vs central differences")


@pytest.mark.parametrize("case", CASES, ids=ids)
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_vjp_matches_finite_differences(case, data, seed):
    f, xs, ts, rng, _ = setup(case, data, seed)
    out, vjp_fn = ad.vjp(f, *xs)
    u = rng.standard_normal(onp.shape(out))
    cts = vjp_fn(u)
    for c, x in zip(cts, xs):
        assert onp.shape(c) == x.shape, f"{case.name}: cotangent shape {onp.shape(c)} != {x.shape}"
    lhs = sum(onp.vdot(c, t) for c, t in zip(cts, ts))
    close(lhs, onp.vdot(u, central(f, xs, ts)), f"{case.name}: <J^T u, v> vs <u, FD(v)>")


@pytest.mark.parametrize("case", CASES, ids=ids)
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_adjoint_identity(case, data, seed):
    """<u, J v> from the JVP rules equals <J^T u, v> from the VJP rules, to rounding."""
    f, xs, ts, rng, _ = setup(case, data, seed)
    _, jv = ad.jvp(f, xs, ts)
    out, vjp_fn = ad.vjp(f, *xs)
    u = rng.standard_normal(onp.shape(out))
    lhs = onp.vdot(u, jv)
    rhs = sum(onp.vdot(c, t) for c, t in zip(vjp_fn(u), ts))
    close(lhs, rhs, f"{case.name}: <u, J v> vs <J^T u, v>", rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", [c for c in CASES if c.autograd], ids=[c.name for c in CASES if c.autograd])
@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_vjp_matches_autograd(case, data, seed):
    f, xs, ts, rng, oracle = setup(case, data, seed, module=agnp)
    f_ag = oracle()
    out, vjp_fn = ad.vjp(f, *xs)
    u = rng.standard_normal(onp.shape(out))
    ours = vjp_fn(u)
    for i in range(len(xs)):
        def f_i(x, i=i):
            return f_ag(*[x if j == i else xj for j, xj in enumerate(xs)])
        theirs = autograd.make_vjp(f_i)(xs[i])[0](u)
        close(ours[i], theirs, f"{case.name}: VJP for argument {i} vs autograd", rtol=1e-8, atol=1e-10)


SECOND = [c for c in CASES if c.second_order]


@pytest.mark.parametrize("case", SECOND, ids=[c.name for c in SECOND])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_second_order(case, data, seed):
    """Derivatives of the rules themselves (fwd and rev, order 2) against finite differences."""
    f, xs, _, _, _ = setup(case, data, seed)
    ad.check_grads(f, xs, modes=("fwd", "rev"), order=2, eps=1e-5, rtol=1e-4, atol=1e-5)
