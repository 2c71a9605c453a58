"""JAX (CPU, float64) as a second oracle for every case of cases.py: the engine's JVP and VJP agree
with jax.jvp and jax.vjp on the same random inputs (cases with ``jax=False`` say why not).

Marked slow: JAX compiles every operation anew for each shape (about 0.5 s per case on an idle
core), so two examples per case here; finite differences check many more in test_rules.py and
test_numpy_rules.py."""
from __future__ import annotations

import numpy as onp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff_core as ad

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

from .cases import CASES, NEW_CASES  # noqa: E402
from .test_rules import close, setup  # noqa: E402

JAX_CASES = [c for c in CASES + NEW_CASES if c.jax]


@pytest.mark.slow
@pytest.mark.parametrize("case", JAX_CASES, ids=[c.name for c in JAX_CASES])
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_jvp_and_vjp_match_jax(case, data, seed):
    f, xs, ts, rng, oracle = setup(case, data, seed, module=jnp)
    f_jax = oracle()
    out, tangent = ad.jvp(f, xs, ts)
    out_j, tangent_j = jax.jvp(f_jax, tuple(jnp.asarray(x) for x in xs), tuple(jnp.asarray(t) for t in ts))
    close(out, out_j, f"{case.name}: value vs JAX", rtol=1e-8, atol=1e-10)
    close(tangent, tangent_j, f"{case.name}: JVP vs JAX", rtol=1e-7, atol=1e-9)
    u = rng.standard_normal(onp.shape(out))
    cts = ad.vjp(f, *xs)[1](u)
    cts_j = jax.vjp(f_jax, *[jnp.asarray(x) for x in xs])[1](jnp.asarray(u))
    for i, (c, cj) in enumerate(zip(cts, cts_j)):
        close(c, cj, f"{case.name}: VJP for argument {i} vs JAX", rtol=1e-7, atol=1e-9)
