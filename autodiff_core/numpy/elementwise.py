"""Elementwise primitives and their rules (NumPy broadcasting included).

Each primitive's docstring states its derivative; its VJP rules (g = cotangent of ans) and JVP
rules (t = tangent of the argument) follow right under it, one line per argument.
"""
from __future__ import annotations

import numpy as onp

from ..tracer import primal
from ._wrap import primitive, shape, unbroadcast


def _sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), computed as (1 + tanh(x/2)) / 2 so it never overflows."""
    return 0.5 * (onp.tanh(0.5 * onp.asarray(x)) + 1.0)


add = primitive(onp.add, "d(x + y) = dx + dy").saves(ans=False, args=False)
add.defvjp(lambda g, ans, x, y: unbroadcast(g, shape(x)),
           lambda g, ans, x, y: unbroadcast(g, shape(y)))
add.defjvp(lambda t, ans, x, y: t,
           lambda t, ans, x, y: t)

subtract = primitive(onp.subtract, "d(x - y) = dx - dy").saves(ans=False, args=False)
subtract.defvjp(lambda g, ans, x, y: unbroadcast(g, shape(x)),
                lambda g, ans, x, y: unbroadcast(-g, shape(y)))
subtract.defjvp(lambda t, ans, x, y: t,
                lambda t, ans, x, y: -t)

multiply = primitive(onp.multiply, "d(x y) = y dx + x dy").saves(ans=False)
multiply.defvjp(lambda g, ans, x, y: unbroadcast(g * y, shape(x)),
                lambda g, ans, x, y: unbroadcast(x * g, shape(y)))
multiply.defjvp(lambda t, ans, x, y: t * y,
                lambda t, ans, x, y: x * t)

divide = primitive(onp.true_divide, "d(x / y) = dx / y - (x / y^2) dy")
divide.defvjp(lambda g, ans, x, y: unbroadcast(g / y, shape(x)),
              lambda g, ans, x, y: unbroadcast(-g * ans / y, shape(y)))
divide.defjvp(lambda t, ans, x, y: t / y,
              lambda t, ans, x, y: -t * ans / y)
true_divide = divide

def _log_base(x):
    """log(x) for the y-derivative x^y log(x) of x^y: taken as 0 where x = 0 (x^y log x -> 0 for
    y > 0), where its own derivative in x is undefined (NaN, see _undefined_slope)."""
    at_zero = primal(x) == 0
    out = log(where(at_zero, 1.0, x))
    return out + _undefined_slope(x, at_zero) if onp.any(at_zero) else out


power = primitive(onp.power, "d(x^y) = y x^(y-1) dx + x^y log(x) dy  (log term taken as 0 where x = 0)")
power.defvjp(lambda g, ans, x, y: unbroadcast(g * y * x ** where(y != 0, y - 1, 1.0), shape(x)),
             lambda g, ans, x, y: unbroadcast(g * ans * _log_base(x), shape(y)))
power.defjvp(lambda t, ans, x, y: t * y * x ** where(y != 0, y - 1, 1.0),
             lambda t, ans, x, y: t * ans * _log_base(x))

negative = primitive(onp.negative, "d(-x) = -dx").saves(ans=False, args=False)
negative.defvjp(lambda g, ans, x: -g)
negative.defjvp(lambda t, ans, x: -t)


def _undefined_slope(x, mask):
    """0, whose derivative is NaN where ``mask`` holds.

    Added to a rule's derivative at a point where that derivative is itself not differentiable
    (|x| at 0, ||x|| at 0, max at a tie): the first derivative keeps its subgradient, and a
    second derivative through it is NaN, never a silent 0 (Hessian of ||w||^2 at 0). Forward
    mode gives NaN only in the directions that move x there (the tangent is nonzero); reverse
    mode cannot tell a zero cotangent from an absent one, so it gives NaN wherever the kink is
    on the differentiated path.
    """
    return kink(x, onp.asarray(mask, dtype=bool))


def _nan_where(mask, d, reverse):
    d = primal(d)
    reached = mask if reverse else mask & (d != 0)
    return onp.where(reached, onp.nan, 0.0) * onp.ones(onp.shape(d))


kink = primitive(lambda x, mask: onp.zeros(onp.broadcast_shapes(shape(x), onp.shape(mask))),
                 "0; its derivative is NaN at the kinks (mask)", name="kink")
kink.defvjp(lambda g, ans, x, mask: unbroadcast(_nan_where(mask, g, True), shape(x)))
kink.defjvp(lambda t, ans, x, mask: _nan_where(mask, t, False))


def _sign(x):
    """sign(x) as the derivative of |x|, with an undefined slope at x = 0."""
    at_zero = primal(x) == 0
    return onp.sign(primal(x)) + _undefined_slope(x, at_zero) if onp.any(at_zero) else onp.sign(primal(x))


absolute = primitive(onp.absolute, "d|x| = sign(x) dx  (0 at x = 0: the smallest subgradient; "
                                   "second derivatives there are NaN)")
absolute.defvjp(lambda g, ans, x: g * _sign(x))
absolute.defjvp(lambda t, ans, x: t * _sign(x))
abs = fabs = absolute

exp = primitive(onp.exp, "d exp(x) = exp(x) dx").saves(args=False)
exp.defvjp(lambda g, ans, x: g * ans)
exp.defjvp(lambda t, ans, x: t * ans)

log = primitive(onp.log, "d log(x) = dx / x  (at x = 0: log = -inf, derivative +inf, NumPy warns)").saves(ans=False)
log.defvjp(lambda g, ans, x: g / x)
log.defjvp(lambda t, ans, x: t / x)

log1p = primitive(onp.log1p, "d log(1 + x) = dx / (1 + x)")
log1p.defvjp(lambda g, ans, x: g / (1.0 + x))
log1p.defjvp(lambda t, ans, x: t / (1.0 + x))

sqrt = primitive(onp.sqrt, "d sqrt(x) = dx / (2 sqrt(x))  (at x = 0: +inf, the one-sided derivative)").saves(args=False)
sqrt.defvjp(lambda g, ans, x: g / (2.0 * ans))
sqrt.defjvp(lambda t, ans, x: t / (2.0 * ans))

square = primitive(onp.square, "d x^2 = 2 x dx")
square.defvjp(lambda g, ans, x: 2.0 * g * x)
square.defjvp(lambda t, ans, x: 2.0 * t * x)

sin = primitive(onp.sin, "d sin(x) = cos(x) dx")
sin.defvjp(lambda g, ans, x: g * cos(x))
sin.defjvp(lambda t, ans, x: t * cos(x))

cos = primitive(onp.cos, "d cos(x) = -sin(x) dx")
cos.defvjp(lambda g, ans, x: -g * sin(x))
cos.defjvp(lambda t, ans, x: -t * sin(x))

tan = primitive(onp.tan, "d tan(x) = (1 + tan(x)^2) dx")
tan.defvjp(lambda g, ans, x: g * (1.0 + ans * ans))
tan.defjvp(lambda t, ans, x: t * (1.0 + ans * ans))

def _tanh_vjp(g, ans, x):
    """g (1 - ans^2); on plain arrays in one buffer (this is the hot rule of tanh networks)."""
    if type(g) is onp.ndarray and type(ans) is onp.ndarray and g.shape == ans.shape:
        out = ans * ans
        onp.subtract(1.0, out, out=out)
        out *= g
        return out
    return g * (1.0 - ans * ans)


tanh = primitive(onp.tanh, "d tanh(x) = (1 - tanh(x)^2) dx").saves(args=False)
tanh.defvjp(_tanh_vjp)
tanh.defjvp(lambda t, ans, x: t * (1.0 - ans * ans))

sinh = primitive(onp.sinh, "d sinh(x) = cosh(x) dx")
sinh.defvjp(lambda g, ans, x: g * cosh(x))
sinh.defjvp(lambda t, ans, x: t * cosh(x))

cosh = primitive(onp.cosh, "d cosh(x) = sinh(x) dx")
cosh.defvjp(lambda g, ans, x: g * sinh(x))
cosh.defjvp(lambda t, ans, x: t * sinh(x))

arctan = primitive(onp.arctan, "d arctan(x) = dx / (1 + x^2)")
arctan.defvjp(lambda g, ans, x: g / (1.0 + x * x))
arctan.defjvp(lambda t, ans, x: t / (1.0 + x * x))

sigmoid = primitive(_sigmoid, "d sigma(x) = sigma(x) (1 - sigma(x)) dx", name="sigmoid").saves(args=False)
sigmoid.defvjp(lambda g, ans, x: g * ans * (1.0 - ans))
sigmoid.defjvp(lambda t, ans, x: t * ans * (1.0 - ans))
expit = sigmoid


def _tie_share(x, ans, y):
    """Where max/min picks x: 1, where x == y (a tie): 1/2 (second derivatives: NaN), elsewhere 0."""
    share = (x == ans) / (1.0 + (x == y))
    tie = primal(x) == primal(y)
    return share + _undefined_slope(x - y, tie) if onp.any(tie) else share


maximum = primitive(onp.maximum, "d max(x, y) = [x > y] dx + [y > x] dy  (ties split evenly)")
maximum.defvjp(lambda g, ans, x, y: unbroadcast(g * _tie_share(x, ans, y), shape(x)),
               lambda g, ans, x, y: unbroadcast(g * _tie_share(y, ans, x), shape(y)))
maximum.defjvp(lambda t, ans, x, y: t * _tie_share(x, ans, y),
               lambda t, ans, x, y: t * _tie_share(y, ans, x))

minimum = primitive(onp.minimum, "d min(x, y) = [x < y] dx + [y < x] dy  (ties split evenly)")
minimum.defvjp(lambda g, ans, x, y: unbroadcast(g * _tie_share(x, ans, y), shape(x)),
               lambda g, ans, x, y: unbroadcast(g * _tie_share(y, ans, x), shape(y)))
minimum.defjvp(lambda t, ans, x, y: t * _tie_share(x, ans, y),
               lambda t, ans, x, y: t * _tie_share(y, ans, x))

where = primitive(onp.where, "d where(c, x, y) = where(c, dx, dy)  (the condition c is a constant)")
where.defvjp(None,
             lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), shape(x)),
             lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), shape(y)))
where.defjvp(None,
             lambda t, ans, c, x, y: where(c, t, 0.0),
             lambda t, ans, c, x, y: where(c, 0.0, t))


def _unary(npfun, doc, slope, name=None):
    """An elementwise primitive with f'(x) = slope(ans, x): VJP g f'(x), JVP f'(x) t."""
    prim = primitive(npfun, doc, name)
    prim.defvjp(lambda g, ans, x: g * slope(ans, x))
    prim.defjvp(lambda t, ans, x: t * slope(ans, x))
    return prim


_LN2, _LN10 = onp.log(2.0), onp.log(10.0)

expm1 = _unary(onp.expm1, "d(exp(x) - 1) = exp(x) dx", lambda ans, x: ans + 1.0)
exp2 = _unary(onp.exp2, "d 2^x = 2^x log(2) dx", lambda ans, x: ans * _LN2)
log2 = _unary(onp.log2, "d log2(x) = dx / (x log 2)", lambda ans, x: 1.0 / (x * _LN2))
log10 = _unary(onp.log10, "d log10(x) = dx / (x log 10)", lambda ans, x: 1.0 / (x * _LN10))
reciprocal = _unary(onp.reciprocal, "d (1/x) = -dx / x^2", lambda ans, x: -ans * ans)
cbrt = _unary(onp.cbrt, "d x^(1/3) = dx / (3 x^(2/3))  (+inf at 0)", lambda ans, x: 1.0 / (3.0 * ans * ans))
arcsin = _unary(onp.arcsin, "d arcsin(x) = dx / sqrt(1 - x^2)", lambda ans, x: 1.0 / sqrt(1.0 - x * x))
arccos = _unary(onp.arccos, "d arccos(x) = -dx / sqrt(1 - x^2)", lambda ans, x: -1.0 / sqrt(1.0 - x * x))
arcsinh = _unary(onp.arcsinh, "d arcsinh(x) = dx / sqrt(x^2 + 1)", lambda ans, x: 1.0 / sqrt(x * x + 1.0))
arccosh = _unary(onp.arccosh, "d arccosh(x) = dx / sqrt(x^2 - 1)", lambda ans, x: 1.0 / sqrt(x * x - 1.0))
arctanh = _unary(onp.arctanh, "d arctanh(x) = dx / (1 - x^2)", lambda ans, x: 1.0 / (1.0 - x * x))
deg2rad = radians = _unary(onp.deg2rad, "d radians(x) = (pi / 180) dx", lambda ans, x: onp.pi / 180.0)
rad2deg = degrees = _unary(onp.rad2deg, "d degrees(x) = (180 / pi) dx", lambda ans, x: 180.0 / onp.pi)


def _sinc_slope(ans, x):
    """(cos(pi x) - sinc(x)) / x, and 0 at x = 0 (sinc is even and smooth there)."""
    zero = primal(x) == 0
    x_safe = where(zero, 1.0, x)
    return where(zero, 0.0, (cos(onp.pi * x_safe) - sinc(x_safe)) / x_safe)


sinc = _unary(onp.sinc, "d sinc(x) = (cos(pi x) - sinc(x)) / x dx, 0 at x = 0  (sinc(x) = sin(pi x) / (pi x))",
              _sinc_slope)


def _binary(npfun, doc, dx, dy, name=None):
    """A broadcasting primitive of (x, y) with partial derivatives dx(ans, x, y), dy(ans, x, y)."""
    prim = primitive(npfun, doc, name)
    prim.defvjp(lambda g, ans, x, y: unbroadcast(g * dx(ans, x, y), shape(x)),
                lambda g, ans, x, y: unbroadcast(g * dy(ans, x, y), shape(y)))
    prim.defjvp(lambda t, ans, x, y: t * dx(ans, x, y),
                lambda t, ans, x, y: t * dy(ans, x, y))
    return prim


logaddexp = _binary(onp.logaddexp, "d log(e^x + e^y) = e^(x - ans) dx + e^(y - ans) dy",
                    lambda ans, x, y: exp(x - ans), lambda ans, x, y: exp(y - ans))
logaddexp2 = _binary(onp.logaddexp2, "d log2(2^x + 2^y) = 2^(x - ans) dx + 2^(y - ans) dy",
                     lambda ans, x, y: exp2(x - ans), lambda ans, x, y: exp2(y - ans))
arctan2 = _binary(onp.arctan2, "d arctan2(y, x) = (x dy - y dx) / (x^2 + y^2)  (arguments (y, x) as NumPy's)",
                  lambda ans, y, x: x / (x * x + y * y), lambda ans, y, x: -y / (x * x + y * y))
hypot = _binary(onp.hypot, "d sqrt(x^2 + y^2) = (x dx + y dy) / hypot(x, y)",
                lambda ans, x, y: x / ans, lambda ans, x, y: y / ans)
remainder = mod = _binary(onp.remainder, "x mod y = x - floor(x / y) y:  d = dx - floor(x / y) dy  "
                                         "(jumps where x / y is an integer)",
                          lambda ans, x, y: 1.0, lambda ans, x, y: -onp.floor(primal(x) / primal(y)))
fmod = _binary(onp.fmod, "fmod(x, y) = x - trunc(x / y) y:  d = dx - trunc(x / y) dy",
               lambda ans, x, y: 1.0, lambda ans, x, y: -onp.trunc(primal(x) / primal(y)))
copysign = _binary(onp.copysign, "copysign(x, y) = |x| sign(y):  d = sign(x) sign(y) dx  (0 for y)",
                   lambda ans, x, y: onp.sign(primal(x)) * onp.where(onp.signbit(primal(y)), -1.0, 1.0),
                   lambda ans, x, y: onp.zeros(shape(y)))
fmax = _binary(onp.fmax, "as maximum (NaN entries ignored)", lambda ans, x, y: _tie_share(x, ans, y),
               lambda ans, x, y: _tie_share(y, ans, x))
fmin = _binary(onp.fmin, "as minimum (NaN entries ignored)", lambda ans, x, y: _tie_share(x, ans, y),
               lambda ans, x, y: _tie_share(y, ans, x))


def clip(x, a_min=None, a_max=None):
    """np.clip as minimum(maximum(x, a_min), a_max), as JAX: the bounds may be traced too, and at
    x equal to a bound the gradient is split evenly between x and the bound."""
    if a_min is not None:
        x = maximum(x, a_min)
    if a_max is not None:
        x = minimum(x, a_max)
    return x


def real(x):
    """The real part of a real array: x itself (the engine is real-valued)."""
    return x


conj = conjugate = real_if_close = real


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """x where finite (derivative 1), NumPy's replacement constants elsewhere (derivative 0)."""
    p = primal(x)
    return where(onp.isfinite(p), x, onp.nan_to_num(p, nan=nan, posinf=posinf, neginf=neginf))
