"""The rules added for the rest of NumPy (tests/core/cases.py, NEW_CASES), each example checked
at once: the JVP and the VJP against central finite differences, the adjoint identity, and the
VJP against HIPS autograd where it has the rule (JAX: test_jax_oracle.py). One hypothesis loop
per case, plus second-order checks. Random shapes and values are drawn by hypothesis."""
from __future__ import annotations

import autograd
import autograd.numpy as agnp
import numpy as onp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff_core as ad
import autodiff_core.numpy as np

from .cases import NEW_CASES
from .test_rules import bind, central, close, is_diff

ids = [c.name for c in NEW_CASES]


@pytest.mark.parametrize("case", NEW_CASES, ids=ids)
@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_rule(case, data, seed):
    rng = onp.random.default_rng(seed)
    args = case.make(rng, data.draw)
    diff = [i for i, a in enumerate(args) if is_diff(a)]
    xs = [args[i] for i in diff]
    f = bind(case.fn(np), args, diff)
    ts = [rng.standard_normal(x.shape) for x in xs]

    out, jv = ad.jvp(f, xs, ts)
    close(out, f(*xs), f"{case.name}: jvp primal output")
    fd = central(f, xs, ts)
    close(jv, fd, f"{case.name}: JVP vs central differences")

    out, vjp_fn = ad.vjp(f, *xs)
    u = rng.standard_normal(onp.shape(out))
    cts = vjp_fn(u)
    for c, x in zip(cts, xs):
        assert onp.shape(c) == x.shape, f"{case.name}: cotangent shape {onp.shape(c)} != {x.shape}"
    ctv = sum(onp.vdot(c, t) for c, t in zip(cts, ts))
    close(ctv, onp.vdot(u, fd), f"{case.name}: <J^T u, v> vs <u, FD(v)>")
    close(onp.vdot(u, jv), ctv, f"{case.name}: <u, J v> vs <J^T u, v>", rtol=1e-9, atol=1e-9)

    if case.autograd:
        f_ag = bind(case.fn(agnp), args, diff)
        for i in range(len(xs)):
            theirs = autograd.make_vjp(lambda x, i=i: f_ag(*[x if j == i else xj for j, xj in enumerate(xs)]))(xs[i])[0](u)
            close(cts[i], theirs, f"{case.name}: VJP for argument {i} vs autograd", rtol=1e-8, atol=1e-10)


SECOND = [c for c in NEW_CASES if c.second_order]


@pytest.mark.parametrize("case", SECOND, ids=[c.name for c in SECOND])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_second_order(case, data, seed):
    """Derivatives of the rules themselves (fwd and rev, order 2) against finite differences."""
    rng = onp.random.default_rng(seed)
    args = case.make(rng, data.draw)
    diff = [i for i, a in enumerate(args) if is_diff(a)]
    ad.check_grads(bind(case.fn(np), args, diff), [args[i] for i in diff], modes=("fwd", "rev"), order=2,
                   eps=1e-5, rtol=1e-4, atol=1e-5)
