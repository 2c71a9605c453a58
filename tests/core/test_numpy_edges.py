"""Documented behaviour of the NumPy rules at their edges (README, "Behaviour at the edges"):
second derivatives at kinks, det / slogdet at singular matrices, degenerate SVD and eigh,
cholesky of a matrix that is not positive definite, sort ties, and clear errors."""
from __future__ import annotations

import numpy as onp
import pytest

import autodiff_core as ad
import autodiff_core.numpy as np
from autodiff_core.numpy.linalg import DegenerateEigenError, DegenerateSVDError

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

SINGULAR = onp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])


# ---------------------------------------------------------------- second derivatives at kinks

def test_hessian_of_squared_norm_at_zero_is_nan_not_a_silent_zero():
    """||w||^2 = 2I, but norm's derivative w / ||w|| has no derivative at 0: NaN (as JAX), and the
    gradient there stays the subgradient 0."""
    H = ad.hessian(lambda w: np.linalg.norm(w) ** 2)(onp.zeros(3))
    assert onp.all(onp.isnan(onp.diag(H)))
    onp.testing.assert_array_equal(ad.grad(lambda w: np.linalg.norm(w) ** 2)(onp.zeros(3)), onp.zeros(3))
    # written without the kink, the rules give the true value 2I
    onp.testing.assert_allclose(ad.hessian(lambda w: np.sum(w * w))(onp.zeros(3)), 2 * onp.eye(3))
    # away from 0 the same function gives 2I
    onp.testing.assert_allclose(ad.hessian(lambda w: np.linalg.norm(w) ** 2)(onp.ones(3)), 2 * onp.eye(3))


@pytest.mark.parametrize("f, x", [
    (lambda x: np.abs(x) ** 2, 0.0),                              # was 0, true 2
    (lambda x: np.maximum(x, 0.0) ** 2, 0.0),                     # was 0.5; one-sided 0 and 2
    (lambda x: np.max(np.stack([x, 1.0 - x])) ** 2, 0.5),        # reduction tie
    (lambda x: np.linalg.norm(np.stack([x, x]), ord=1) ** 2, 0.0),
    (lambda x: np.std(np.stack([x, 0.0 * x + 0.0])), 0.0),       # std of a constant vector
], ids=["abs", "maximum", "max_tie", "norm1", "std"])
def test_second_derivative_at_a_kink_is_nan_in_both_modes(f, x):
    assert onp.isnan(ad.grad(ad.grad(f))(x))
    assert onp.isnan(ad.jvp(ad.grad(f), (x,), (1.0,))[1])


def test_power_mixed_second_derivative_at_zero_base_is_nan():
    """d/dx d/dy x^y = x^(y-1) (y log x + 1): -inf at (0, 1); it used to be a silent 0."""
    dxdy = ad.grad(ad.grad(lambda x, y: x ** y, argnums=1), argnums=0)
    assert onp.isnan(dxdy(0.0, 1.0))
    assert dxdy(0.5, 1.0) == pytest.approx(onp.log(0.5) + 1.0)
    assert ad.grad(lambda x, y: x ** y, argnums=1)(0.0, 1.0) == 0.0      # first order: the limit 0


def test_std_of_one_entry_has_zero_gradient():
    """std of one entry is 0 for every x: gradient 0 (JAX 0.10.2 gives NaN)."""
    assert ad.grad(lambda x: np.std(x))(onp.array([0.7]))[0] == 0.0
    assert ad.grad(lambda x: np.std(x, axis=0, keepdims=True)[0])(onp.array([0.7]))[0] == 0.0


def test_first_derivative_at_a_kink_keeps_its_subgradient():
    assert ad.grad(np.abs)(0.0) == 0.0
    assert ad.grad(lambda x: np.maximum(x, 0.0))(0.0) == 0.5
    assert ad.grad(lambda x: np.std(np.stack([x, 0.0 * x])))(0.0) == 0.0


def test_direction_that_does_not_move_the_kink_is_finite_in_forward_mode():
    """f(w) = |w0| + w1^2 at 0: H e1 = (0, 2) exactly by forward-over-reverse; only directions
    moving w0 are NaN. Reverse-over-reverse cannot tell (documented): NaN where the kink is."""
    f = lambda w: np.abs(w[0]) + w[1] ** 2
    w = onp.zeros(2)
    onp.testing.assert_array_equal(ad.hvp(f, w, onp.array([0.0, 1.0])), [0.0, 2.0])
    assert onp.isnan(ad.hvp(f, w, onp.array([1.0, 0.0]))[0])
    rr = ad.hvp(f, w, onp.array([0.0, 1.0]), mode="rev-rev")
    assert onp.isnan(rr[0]) and rr[1] == 2.0


# ---------------------------------------------------------------- det and slogdet at singular matrices

def _cofactor(a):
    n = a.shape[0]
    return onp.array([[(-1) ** (i + j) * onp.linalg.det(onp.delete(onp.delete(a, i, 0), j, 1))
                       for j in range(n)] for i in range(n)])


@pytest.mark.parametrize("a", [SINGULAR, onp.outer([1.0, 2.0, 3.0], [1.0, -1.0, 2.0]), onp.zeros((2, 2))],
                         ids=["rank2", "rank1", "zero"])
def test_det_gradient_at_singular_matrix_is_the_cofactor_matrix(a):
    g = ad.grad(np.linalg.det)(a)
    onp.testing.assert_allclose(g, _cofactor(a), atol=1e-12)
    onp.testing.assert_allclose(g, jax.grad(jnp.linalg.det)(jnp.asarray(a)), atol=1e-9)
    onp.testing.assert_allclose(g, ad.numerical_grad(onp.linalg.det, a), atol=1e-6)
    v = onp.random.default_rng(0).standard_normal(a.shape)
    assert ad.jvp(np.linalg.det, (a,), (v,))[1] == pytest.approx(onp.sum(_cofactor(a) * v), abs=1e-12)


def test_det_second_derivative_at_singular_matrix_matches_finite_differences():
    H = ad.jacobian(ad.grad(np.linalg.det))(SINGULAR)
    H_fd = ad.numerical_jacobian(lambda a: onp.asarray(ad.grad(np.linalg.det)(a)), SINGULAR)
    onp.testing.assert_allclose(H, H_fd, atol=1e-6)


def test_slogdet_gradient_at_singular_matrix_raises_and_points_to_det():
    sign, logdet = onp.linalg.slogdet(SINGULAR.copy())
    with pytest.raises(onp.linalg.LinAlgError, match="singular.*det"):
        ad.grad(lambda a: np.linalg.slogdet(a)[1])(onp.diag([1.0, 0.0]))
    with pytest.raises(onp.linalg.LinAlgError, match="singular.*det"):
        ad.jvp(lambda a: np.linalg.slogdet(a)[1], (onp.diag([1.0, 0.0]),), (onp.eye(2),))


# ---------------------------------------------------------------- degenerate SVD and eigh

def _top_vector_loss(m):
    def f(x):
        u, s, vt = m.linalg.svd(x)
        w = m.arange(5.0)
        return m.sum(u[:, 0] * w) ** 2 + m.sum(vt[0] * w) ** 2 * s[0]
    return f


def test_svd_top_singular_vectors_of_ones_are_unique_and_differentiable():
    """np.ones((5, 5)) has singular values 5, 0, 0, 0, 0: the top pair is unique. (JAX 0.10.2
    returns NaN here: its rule divides 0 by the zero gaps inside the repeated block.)"""
    x = onp.ones((5, 5))
    g = ad.grad(_top_vector_loss(np))(x)
    assert onp.all(onp.isfinite(g))
    onp.testing.assert_allclose(g, ad.numerical_grad(_top_vector_loss(onp), x), atol=1e-5)


def test_svd_raises_only_when_the_cotangent_reaches_the_repeated_subspace():
    x = onp.ones((5, 5))
    with pytest.raises(DegenerateSVDError, match="(?s)repeated singular value.*top ones of"):
        ad.grad(lambda x: np.sum(np.linalg.svd(x)[0][:, 1] * onp.arange(5.0)))(x)


def test_eigh_repeated_eigenvalues_raise_only_when_reached():
    a = onp.diag([1.0, 1.0, 2.0])
    with pytest.raises(DegenerateEigenError, match="(?s)repeated eigenvalue.*eigvalsh"):
        ad.grad(lambda a: np.sum(np.linalg.eigh(a)[1][:, 0] * onp.arange(3.0)))(a)
    # V diag(sin w) V^T = sin(A) has a derivative here, but it needs the divided difference
    # (sin w_i - sin w_j) / (w_i - w_j) -> cos(w): the rule cannot see it, so it raises
    def f(m_, a):
        w, v = m_.linalg.eigh(a)
        return m_.sum(m_.dot(v * m_.sin(w), v.T) * onp.arange(9.0).reshape(3, 3))
    with pytest.raises(DegenerateEigenError):
        ad.grad(lambda a: f(np, a))(a)
    # the eigenvector of the simple eigenvalue 2 is unique: finite, and equal to finite differences
    g = lambda m_, a: m_.sum(m_.linalg.eigh(a)[1][:, 2] * onp.arange(3.0)) ** 2
    b = a + 0.1 * onp.array([[0.0, 0.0, 1.0], [0.0, 0.0, 2.0], [1.0, 2.0, 0.0]])
    onp.testing.assert_allclose(ad.grad(lambda a: g(np, a))(b), ad.numerical_grad(lambda a: g(onp, a), b), atol=1e-6)
    onp.testing.assert_allclose(ad.grad(lambda a: np.sum(np.linalg.eigvalsh(a) * onp.array([1.0, 1.0, 3.0])))(a),
                                onp.diag([1.0, 1.0, 3.0]), atol=1e-12)


def test_eigh_and_cholesky_read_one_triangle_like_numpy():
    """NumPy reads the lower triangle only; the derivative is that of exactly this function."""
    rng = onp.random.default_rng(3)
    b = rng.standard_normal((3, 3))
    a = b @ b.T + 3 * onp.eye(3)
    a[0, 2] += 5.0                                       # the upper triangle is ignored by NumPy
    w = rng.standard_normal((3, 3))
    for name in ("cholesky", "eigvalsh"):
        f = lambda a, m_: m_.sum(getattr(m_.linalg, name)(a) * (w if name == "cholesky" else w[0]))
        g = ad.grad(lambda a: f(a, np))(a)
        onp.testing.assert_allclose(g, ad.numerical_grad(lambda a: f(a, onp), a), atol=1e-6)
        assert onp.all(onp.triu(g, 1) == 0)
    ad.check_grads(lambda a: np.linalg.cholesky(a), [a], modes=("fwd", "rev"), order=2, eps=1e-5, rtol=1e-4, atol=1e-5)


def test_stacked_eigh_with_upper_triangle_and_stacked_cholesky():
    rng = onp.random.default_rng(6)
    b = rng.standard_normal((2, 3, 3))
    a = b @ onp.swapaxes(b, -1, -2) + 3 * onp.eye(3)
    w = rng.standard_normal((2, 3))
    for f in (lambda a, m_: m_.sum(m_.linalg.eigh(a, UPLO="U")[0] * w),
              lambda a, m_: m_.sum(m_.linalg.eigvalsh(a, UPLO="U") * w),
              lambda a, m_: m_.sum(m_.linalg.cholesky(a)[..., 0] * w)):
        onp.testing.assert_allclose(ad.grad(lambda a: f(a, np))(a), ad.numerical_grad(lambda a: f(a, onp), a),
                                    atol=1e-6)


def test_cholesky_of_non_positive_definite_matrix_says_so():
    with pytest.raises(onp.linalg.LinAlgError, match="positive.definite"):
        ad.grad(lambda a: np.sum(np.linalg.cholesky(a)))(onp.array([[1.0, 2.0], [2.0, 1.0]]))


# ---------------------------------------------------------------- sort ties and clear errors

def test_sort_ties_follow_the_stable_order():
    """sort([1, 1, 0]) = [0, 1, 1] takes x2, x0, x1 (stable): weights 1, 2, 3 go there."""
    g = ad.grad(lambda x: np.sum(np.sort(x) * onp.array([1.0, 2.0, 3.0])))(onp.array([1.0, 1.0, 0.0]))
    onp.testing.assert_array_equal(g, [2.0, 3.0, 1.0])


def test_partition_value_is_a_valid_partition():
    x = onp.random.default_rng(4).standard_normal(7)
    p = ad.jvp(lambda x: np.partition(x, 3), (x,), (onp.ones(7),))[0]
    assert onp.all(p[:3] <= p[3]) and onp.all(p[4:] >= p[3]) and p[3] == onp.sort(x)[3]


def test_what_is_not_covered_raises_naming_the_function():
    x = onp.arange(1.0, 4.0)
    with pytest.raises(TypeError, match="cumprod"):
        ad.grad(lambda x: np.sum(np.cumprod(x)))(x)
    with pytest.raises(NotImplementedError, match="np.pad.*mean"):
        ad.grad(lambda x: np.sum(np.pad(x, 1, mode="mean")))(x)
    with pytest.raises(ValueError, match="eig.*complex eigenvalues"):
        ad.grad(lambda a: np.sum(np.linalg.eig(a)[0]))(onp.array([[0.0, -1.0], [1.0, 0.0]]))


def test_plain_arrays_work_where_numpy_does():
    """Beyond the derivative: plain-array calls give NumPy's values (stacks, einsum forms)."""
    a = onp.random.default_rng(5).standard_normal((2, 3, 3))
    onp.testing.assert_allclose(np.linalg.inv(a), onp.linalg.inv(a))
    onp.testing.assert_allclose(np.einsum("...ij,...jk", a, a), onp.einsum("...ij,...jk", a, a))
    onp.testing.assert_allclose(np.einsum(a, [0, 1, 2], [0]), onp.einsum(a, [0, 1, 2], [0]))
    onp.testing.assert_allclose(np.trace(a[0], offset=1), onp.trace(a[0], offset=1))
    onp.testing.assert_allclose(np.hstack(a[0, 0]), onp.hstack(a[0, 0]))
