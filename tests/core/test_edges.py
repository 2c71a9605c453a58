"""Documented behaviour at the edges: log and sqrt at 0, norm at 0, singular matrices, and the
SVD with repeated singular values or full_matrices=True."""
from __future__ import annotations

import warnings

import numpy as onp
import pytest

import autodiff_core as ad
import autodiff_core.numpy as np
from autodiff_core.numpy.linalg import DegenerateSVDError


def test_log_at_zero_is_minus_inf_with_infinite_derivative():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, g = ad.value_and_grad(np.log)(0.0)
    assert value == -onp.inf and g == onp.inf


def test_sqrt_at_zero_has_infinite_one_sided_derivative():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert ad.grad(np.sqrt)(0.0) == onp.inf
        assert ad.jvp(np.sqrt, (0.0,), (1.0,))[1] == onp.inf


def test_abs_at_zero_uses_zero_subgradient():
    assert ad.grad(np.abs)(0.0) == 0.0


def test_norm_at_zero_returns_zero_subgradient_not_nan():
    g = ad.grad(np.linalg.norm)(onp.zeros(3))
    onp.testing.assert_array_equal(g, onp.zeros(3))
    assert ad.jvp(np.linalg.norm, (onp.zeros(3),), (onp.ones(3),))[1] == 0.0


def test_maximum_tie_splits_gradient_evenly():
    gx, gy = ad.grad(np.maximum, argnums=(0, 1))(1.0, 1.0)
    assert gx == gy == 0.5
    onp.testing.assert_allclose(ad.grad(np.max)(onp.array([2.0, 2.0, 1.0])), [0.5, 0.5, 0.0])


def test_singular_matrix_raises_linalg_error():
    A = onp.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(onp.linalg.LinAlgError):
        ad.grad(lambda A: np.sum(np.linalg.solve(A, onp.ones(2))))(A)
    with pytest.raises(onp.linalg.LinAlgError):
        ad.grad(lambda A: np.sum(np.linalg.inv(A)))(A)
    # det is differentiable there: its gradient is the cofactor matrix (tests/core/test_linalg_edges.py)
    onp.testing.assert_allclose(ad.grad(np.linalg.det)(A), [[4.0, -2.0], [-2.0, 1.0]])


def test_ill_conditioned_solve_gradient_still_matches_formula():
    A = onp.array([[1.0, 1.0], [1.0, 1.0 + 1e-8]])
    b = onp.array([1.0, 2.0])
    gA = ad.grad(lambda A: np.sum(np.linalg.solve(A, b)), argnums=0)(A)
    x = onp.linalg.solve(A, b)
    gb = onp.linalg.solve(A.T, onp.ones(2))
    onp.testing.assert_allclose(gA, -onp.outer(gb, x), rtol=1e-6)


def test_svd_singular_values_gradient_with_default_full_matrices():
    """svd(x) with NumPy's default full_matrices=True, then a gradient of S: U diag(g) V^T."""
    x = onp.random.default_rng(0).standard_normal((4, 3))
    g = ad.grad(lambda x: np.sum(np.linalg.svd(x)[1]))(x)
    u, s, vt = onp.linalg.svd(x, full_matrices=False)
    onp.testing.assert_allclose(g, u @ vt)


def test_svd_full_matrices_uv_gradient_raises_with_advice():
    """The 4th column of U for a 4x3 matrix is any unit vector orthogonal to the first three."""
    x = onp.random.default_rng(1).standard_normal((4, 3))
    with pytest.raises(DegenerateSVDError, match="not unique.*full_matrices=False"):
        ad.grad(lambda x: np.sum(np.linalg.svd(x)[0]))(x)
    with pytest.raises(DegenerateSVDError, match="not unique.*full_matrices=False"):
        ad.grad(lambda x: np.sum(np.linalg.svd(x.T)[2]))(x)
    with pytest.raises(DegenerateSVDError, match="full_matrices=False"):
        ad.jvp(lambda x: np.linalg.svd(x)[0], (x,), (onp.ones((4, 3)),))


def test_svd_full_matrices_unique_columns_are_differentiable():
    """Using only the first min(m, n) columns of U (and all of the small Vt) is fine."""
    x = onp.random.default_rng(1).standard_normal((4, 3))
    w = onp.random.default_rng(2).standard_normal((3, 3))
    full = lambda x: np.sum(np.linalg.svd(x)[0][:, :2] ** 2 * w[:, :2].sum()) + np.sum(np.linalg.svd(x)[2] ** 3 * w)
    thin = lambda x: np.sum(np.linalg.svd(x, full_matrices=False)[0][:, :2] ** 2 * w[:, :2].sum()) + \
        np.sum(np.linalg.svd(x, full_matrices=False)[2] ** 3 * w)
    onp.testing.assert_allclose(ad.grad(full)(x), ad.grad(thin)(x))


def test_svd_full_matrices_square_is_allowed():
    x = onp.random.default_rng(2).standard_normal((3, 3))
    f_full = lambda x: np.sum(np.linalg.svd(x)[0][:, 0] ** 2 * onp.arange(3.0))
    f_thin = lambda x: np.sum(np.linalg.svd(x, full_matrices=False)[0][:, 0] ** 2 * onp.arange(3.0))
    onp.testing.assert_allclose(ad.grad(f_full)(x), ad.grad(f_thin)(x))


def test_svd_repeated_singular_values_raise_for_uv_terms():
    x = onp.diag([2.0, 2.0, 1.0])
    uv_loss = lambda x: np.sum(np.linalg.svd(x, full_matrices=False)[0] * onp.arange(9.0).reshape(3, 3))
    with pytest.raises(DegenerateSVDError, match="repeated singular value"):
        ad.grad(uv_loss)(x)
    with pytest.raises(DegenerateSVDError, match="repeated singular value"):
        ad.jvp(lambda x: np.linalg.svd(x, full_matrices=False)[0], (x,), (onp.ones((3, 3)),))
    # the singular values alone stay differentiable there
    onp.testing.assert_allclose(ad.grad(lambda x: np.sum(np.linalg.svd(x)[1]))(x), onp.eye(3))


def test_svd_zero_singular_value_of_rectangular_matrix_raises_for_uv():
    x = onp.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])        # 2 x 3, singular values 1 and 0
    with pytest.raises(DegenerateSVDError, match="zero singular value"):
        ad.grad(lambda x: np.sum(np.linalg.svd(x, full_matrices=False)[2] * onp.ones((2, 3))))(x)
