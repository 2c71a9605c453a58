"""JAX (CPU, float64 enabled) as a second oracle: the same function, the same transform, both
engines, compared leaf by leaf with the pytree structure and the dtypes."""
from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.scipy.special  # noqa: E402
import numpy as onp  # noqa: E402

jax.config.update("jax_enable_x64", True)


class JaxNumPy:
    """jax.numpy under the names ``tests/core/cases.py`` uses for autodiff_core.numpy."""

    __name__ = "jax.numpy"
    sigmoid = staticmethod(jax.nn.sigmoid)
    logsumexp = staticmethod(jax.scipy.special.logsumexp)

    def __getattr__(self, name):
        return getattr(jnp, name)


jnp_like = JaxNumPy()


def structure(tree):
    return jax.tree_util.tree_structure(tree)


def assert_agree(got, want, what, rtol=1e-7, atol=1e-9):
    """``got`` (the engine) and ``want`` (JAX): same pytree structure, shapes, dtypes and values."""
    assert structure(got) == structure(want), f"{what}: structure {structure(got)} != {structure(want)}"
    for i, (g, w) in enumerate(zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want))):
        g, w = onp.asarray(g), onp.asarray(w)
        where = f"{what}, leaf {i}"
        assert g.shape == w.shape, f"{where}: shape {g.shape} != JAX's {w.shape}"
        assert g.dtype == w.dtype, f"{where}: dtype {g.dtype} != JAX's {w.dtype}"
        err = onp.max(onp.abs(g - w), initial=0.0)
        assert onp.allclose(g, w, rtol=rtol, atol=atol), \
            f"{where}: got {g}, JAX gives {w}, max error {err:.3g}"
