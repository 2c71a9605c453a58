"""Elementwise primitives and their rules (NumPy broadcasting included).

Each primitive's docstring states its derivative; its VJP rules (g = cotangent of ans) and JVP
rules (t = tangent of the argument) follow right under it, one line per argument.
"""
from __future__ import annotations

import numpy as onp

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

power = primitive(onp.power, "d(x^y) = y x^(y-1) dx + x^y log(x) dy  (log term taken as 0 where x = 0)")
power.defvjp(lambda g, ans, x, y: unbroadcast(g * y * x ** where(y != 0, y - 1, 1.0), shape(x)),
             lambda g, ans, x, y: unbroadcast(g * ans * log(where(x == 0, 1.0, x)), shape(y)))
power.defjvp(lambda t, ans, x, y: t * y * x ** where(y != 0, y - 1, 1.0),
             lambda t, ans, x, y: t * ans * log(where(x == 0, 1.0, x)))

negative = primitive(onp.negative, "d(-x) = -dx").saves(ans=False, args=False)
negative.defvjp(lambda g, ans, x: -g)
negative.defjvp(lambda t, ans, x: -t)

absolute = primitive(onp.absolute, "d|x| = sign(x) dx  (0 at x = 0: the smallest subgradient)")
absolute.defvjp(lambda g, ans, x: g * onp.sign(x))
absolute.defjvp(lambda t, ans, x: t * onp.sign(x))
abs = absolute

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
    """Where max/min picks x: 1, where x == y (a tie): 1/2, elsewhere 0."""
    return (x == ans) / (1.0 + (x == y))


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
