"""autodiff_core: a small reference automatic-differentiation engine on NumPy.

    import autodiff_core as ad
    import autodiff_core.numpy as np

    ad.grad(f)(x); ad.jvp(f, (x,), (v,)); ad.vjp(f, x); ad.hvp(f, x, v); ad.jacobian(f)(x)

Layout: ``tracer`` (traced values and primitives), ``reverse`` and ``forward`` (the two modes),
``transforms`` (vjp, grad, jvp), ``jacobians`` (jacfwd, jacrev, hessian, hvp, chain ordering),
``checkpointing``, ``wengert`` (inspectable traces), ``numerics`` (finite differences,
check_grads), ``estimators`` (Hutchinson, Lanczos, zero-order); derivative rules in ``numpy/``.
"""
__version__ = "0.1.0"  # the package version (pyproject.toml reads it from here)

from . import numpy  # noqa: F401  (defines the primitives and the tracer methods)
from .checkpointing import checkpoint, checkpoint_sequential
from .control import stop_gradient
from .estimators import hessian_spectrum, hutchinson_trace, lanczos, zero_order_grad
from .jacobians import chain_jacobian, hessian, hvp, jacfwd, jacobian, jacrev
from .numerics import check_grads, finite_difference, numerical_grad, numerical_jacobian, numerical_jvp
from .tracer import Primitive, Tracer, UnexpectedTracerError, override_rules, primal, primitive
from .transforms import grad, jvp, linearize, value_and_grad, vjp
from .wengert import WengertList, trace

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "jacobian", "hessian", "hvp",
    "chain_jacobian", "checkpoint", "checkpoint_sequential", "stop_gradient", "primal", "primitive", "Primitive",
    "Tracer", "UnexpectedTracerError", "override_rules", "trace", "WengertList", "finite_difference", "numerical_grad",
    "numerical_jacobian", "numerical_jvp", "check_grads", "hutchinson_trace", "lanczos",
    "hessian_spectrum", "zero_order_grad",
]
