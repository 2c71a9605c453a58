"""Numerical differentiation in a submission, found by reading its source (never by running it).

The assignments ask for derived rules; a rule that differentiates the primal numerically (the
complex step ``imag(f(x + ih)) / h``, or a divided difference ``(f(x + h) - f(x - h)) / 2h``)
matches the oracles to rounding, so its values cannot tell it apart. The grader therefore reads
the code cells (plain text, parsed with :mod:`ast` in the grader's process) and looks, in the
functions an item names and every notebook function they call, for

* complex numbers: an imaginary literal (``1j``), ``complex``, ``.imag``, ``cmath``,
  ``np.emath`` / ``numpy.lib.scimath``;
* a divided difference: one function evaluated at two nearby points, ``f(x + h)`` and
  ``f(x - h)`` (or ``f(x)``, ``f(x * (1 + h))``, ...: the same arguments but one, which is the
  other moved by a step), however the two values are then combined (``-``, ``np.subtract``,
  a difference of quotients). ``f`` is a primal of the assignments (``log``, ``sqrt``,
  ``solve``, ``svd``, ...) or an alias of one (``_log = np.log``, ``from numpy import log``), a
  function of the notebook that reaches a primal or calls a parameter, or a parameter
  (``def fd(f, x)``). Other pairs of calls (``dot(U.T, gU) - dot(gU.T, U)`` in an SVD rule,
  ``power(s[None], 2) - power(s[:, None], 2)`` for its F matrix) are ordinary algebra.

No rule of log, sqrt, solve or the SVD needs either. What is found costs the item its points and
puts the submission on the review list; an instructor who disagrees overrides the score in the
Formgrader. Cells are read as the Python IPython runs (magics and shell escapes transformed, a
cell magic's body read as Python too), with definitions inside ``if`` / ``try`` / ``with`` / loop
blocks; a rule assigned from an expression (``log_vjp = make()``) is judged by the functions
that expression names, and one imported from a ``.py`` file submitted beside the notebook by its
definition there. Code hidden from ``ast`` (``exec`` of a string) is not seen: this check
detects, the planted-rule and sandbox checks are what prevent.
"""
from __future__ import annotations

import ast
import functools
import os
import re

from IPython.core.inputtransformer2 import TransformerManager

#: functions whose divided differences would give the derivatives graded here
PRIMALS = {"log", "log1p", "log2", "log10", "sqrt", "power", "exp", "solve", "inv", "svd", "pinv",
           "lstsq", "svdvals", "det", "slogdet"}
_TRANSFORMER = TransformerManager()
_COMPLEX_NAMES = {"complex", "cmath", "emath", "scimath", "complex64", "complex128",
                  "complexfloating", "csingle", "cdouble"}


@functools.lru_cache(maxsize=4096)
def _python(source):
    """The texts of a cell to parse: the Python IPython runs for it (``%time x`` becomes a call),
    and for a cell magic (``%%capture``, ``%%writefile``) its body as well."""
    texts = [_TRANSFORMER.transform_cell(source)]
    if source.lstrip().startswith("%%"):
        texts.append(source.lstrip().partition("\n")[2])
    return tuple(texts)


def _statements(body):
    """The statements of ``body`` and of the blocks (if, for, while, with, try, match) in it,
    not those inside function or class definitions."""
    for node in body:
        if isinstance(node, (ast.ExceptHandler, ast.match_case)):
            yield from _statements(node.body)
            continue
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                yield from _statements(getattr(node, field, None) or [])


@functools.lru_cache(maxsize=16)
def _functions(cells, modules=()):
    """({name: FunctionDef or Lambda}, {name: other assigned expression}) of every function and
    assignment outside function bodies in ``cells`` (the last definition wins; text that does
    not parse is skipped). ``modules``: ((name, source), ...) of Python files submitted with the
    notebook: their functions are known first, and ``from name import f`` in a cell binds f."""
    defs, assigned, exported, aliases = {}, {}, {}, {}

    def bind(bound, module, name):       # ``bound`` is ``module.name`` of a submitted file
        for kind, theirs in zip((defs, assigned), exported[module]):
            kind.pop(bound, None)
            if name in theirs:
                kind[bound] = theirs[name]

    for module, text in modules:
        exported[module] = _functions((text,))
        defs.update(exported[module][0])
        assigned.update(exported[module][1])
    for source in cells:
        for text in _python(source):
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError):
                continue
            for node in _statements(tree.body):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    assigned.pop(node.name, None)
                    defs[node.name] = node
                elif isinstance(node, ast.Assign):
                    value = node.value
                    for target in node.targets:
                        if not isinstance(target, ast.Name):
                            continue
                        if (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name)
                                and value.value.id in aliases):       # helpers.log_vjp
                            bind(target.id, aliases[value.value.id], value.attr)
                            continue
                        lam = isinstance(value, ast.Lambda)
                        (assigned if lam else defs).pop(target.id, None)
                        (defs if lam else assigned)[target.id] = value
                elif isinstance(node, ast.ImportFrom) and node.module in exported:
                    for alias in node.names:
                        bind(alias.asname or alias.name, node.module, alias.name)
                elif isinstance(node, ast.Import):
                    aliases.update({a.asname or a.name: a.name for a in node.names
                                    if a.name in exported})
    return defs, assigned


def _terminal(node):
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None


def _callee(call):
    return _terminal(call.func)


def _params(fn):
    return {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}


def _reaching_primals(defs, aliases=frozenset()):
    """The notebook functions that call a primal or one of their parameters (which may be one),
    directly or through other notebook functions: a difference of two of their calls can be a
    divided difference; of other helpers (``mm(a, b)``, a matrix product) it is algebra."""
    reach = {name for name, fn in defs.items() if any(
        isinstance(n, ast.Call) and _callee(n) in PRIMALS | aliases | _params(fn)
        for n in ast.walk(fn))}
    calls = {name: _called_names(fn) for name, fn in defs.items()}
    grown = True
    while grown:
        more = {name for name in defs if name not in reach and calls[name] & reach}
        reach |= more
        grown = bool(more)
    return reach


def _primal_aliases(statements):
    """Names bound to a primal by ``name = np.log`` or ``from numpy import log as name``."""
    found = set()
    for node in statements:
        if isinstance(node, ast.Assign) and _terminal(node.value) in PRIMALS:
            found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.ImportFrom):
            found |= {a.asname or a.name for a in node.names if a.name in PRIMALS}
    return found


_STEPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def _moved(a, b):
    """``a`` and ``b`` are one expression at two nearby points: ``x + h`` and ``x``, ``x + h``
    and ``x - h``, ``x * (1 + h)`` and ``x * (1 - h)``, or two expressions equal but for one such
    pair inside them (``np.abs(x + h)`` and ``np.abs(x - h)``, ``f(x + h)`` and ``f(x - h)``)."""
    dump = ast.dump
    if dump(a) == dump(b):
        return False
    for p, q in ((a, b), (b, a)):
        if isinstance(p, ast.BinOp) and isinstance(p.op, _STEPS) and dump(p.left) == dump(q):
            return True
    if (isinstance(a, ast.BinOp) and isinstance(b, ast.BinOp) and isinstance(a.op, _STEPS)
            and isinstance(b.op, _STEPS) and dump(a.left) == dump(b.left)):
        return True
    if type(a) is not type(b) or isinstance(a, (ast.Name, ast.Constant)):
        return False
    ca, cb = list(ast.iter_child_nodes(a)), list(ast.iter_child_nodes(b))
    differ = [(x, y) for x, y in zip(ca, cb) if dump(x) != dump(y)]
    return len(ca) == len(cb) and len(differ) == 1 and _moved(*differ[0])


def _findings(fn, reaching_primals, aliases=frozenset()):
    """What in one function's body looks like numerical differentiation (plain-language list)."""
    local = _primal_aliases(n for n in ast.walk(fn) if isinstance(n, (ast.Assign, ast.ImportFrom)))
    differenced = PRIMALS | reaching_primals | _params(fn) | aliases | local
    found = []
    calls = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and _callee(node) in differenced:
            calls.setdefault(ast.dump(node.func), []).append(node)
    for same in calls.values():
        pairs = [(c1, c2) for i, c1 in enumerate(same) for c2 in same[i + 1:] if _moved(c1, c2)]
        if pairs:
            c1, c2 = pairs[0]
            found.append(f"the difference of '{ast.unparse(c1)}' and '{ast.unparse(c2)}' (one "
                         "function at two nearby points)")
    for node in ast.walk(fn):
        if isinstance(node, ast.Constant) and isinstance(node.value, complex):
            found.append(f"the imaginary number {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in _COMPLEX_NAMES:
            found.append(f"'{node.id}'")
        elif isinstance(node, ast.Attribute) and node.attr in _COMPLEX_NAMES | {"imag"}:
            found.append(f"'.{node.attr}'")
    return found


def _called_names(fn):
    return {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}



def submitted_modules(folder):
    """((module name, source), ...) of the ``.py`` files at the top of a submission ``folder``
    (None: none), which the notebook may import; links are skipped, as the worker skips them."""
    found = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name) if folder else ():
        if entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
            with open(entry.path, encoding="utf-8", errors="replace") as fh:
                found.append((entry.name[:-3], fh.read(1_000_000)))
    return tuple(found)


@functools.lru_cache(maxsize=64)
def _analysis(cells, modules):
    """The notebook's functions, its rules bound from expressions, and the functions that reach
    a primal: computed once per submission, shared by its items."""
    defs, assigned = _functions(cells, modules)
    aliases = {name for name, value in assigned.items() if _terminal(value) in PRIMALS}
    for text in [t for source in cells for t in _python(source)] + [t for _, t in modules]:
        try:
            aliases |= _primal_aliases(_statements(ast.parse(text).body))
        except (SyntaxError, ValueError):
            continue
    return defs, assigned, _reaching_primals(defs, frozenset(aliases)), frozenset(aliases)


def numerical_differentiation(cells, item, modules=()):
    """Evidence of numerical differentiation in the functions named in ``item`` (e.g.
    ``"log_vjp"`` or ``"grad_with_my_rules / jvp_with_my_rules"``) or in any notebook function
    they reach. ``cells``: the sources of the notebook's code cells; ``modules``: see
    :func:`submitted_modules`. Returns ``[(function, what)]``, empty if nothing was found."""
    defs, assigned, reaching, aliases = _analysis(tuple(cells), tuple(modules))
    todo = []
    for name in re.findall(r"\w+", item):
        if name in defs:
            todo.append(name)
        elif name in assigned:          # log_vjp = make(): the functions the expression names
            todo += [n for n in _called_names(assigned[name]) if n in defs]
    seen, found = set(), []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found += [(name, what) for what in dict.fromkeys(_findings(defs[name], reaching, aliases))]
        todo += [n for n in _called_names(defs[name]) if n in defs and n not in seen]
    return found


def message(item, found):
    """The failure text for :func:`numerical_differentiation`'s findings."""
    where = "; ".join(f"{what} in {name}" for name, what in found[:4])
    return (f"[numerical differentiation] {item} computes a derivative numerically ({where}). "
            "A rule must be derived and written with array operations (see 'Rules of the game' "
            "in the assignment): complex steps and divided differences are not allowed. This "
            "item scores 0 and the submission is listed for review.")
