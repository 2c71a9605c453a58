"""Numerical differentiation in a submission, found by reading its source (never by running it).

The assignments ask for derived rules; a rule that differentiates the primal numerically (the
complex step ``imag(f(x + ih)) / h``, or a divided difference ``(f(x + h) - f(x - h)) / 2h``)
matches the oracles to rounding, so its values cannot tell it apart. The grader therefore reads
the code cells (plain text, parsed with :mod:`ast` in the grader's process) and looks, in the
functions an item names and every notebook function they call, for

* complex numbers: an imaginary literal (``1j``), ``complex``, ``.imag``, ``cmath``,
  ``np.emath`` / ``numpy.lib.scimath``;
* a divided difference: ``f(a) - f(b)`` with the same ``f`` called on different arguments,
  where ``f`` is a primal of the assignments (``log``, ``sqrt``, ``solve``, ``svd``, ...), a
  function of the notebook that reaches a primal or calls a parameter, or a parameter
  (``def fd(f, x)``). Differences of other calls (``dot(U.T, gU) - dot(gU.T, U)`` in an SVD
  rule, or the same through a notebook helper ``mm(a, b)``) are ordinary algebra.

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


def _callee(call):
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _params(fn):
    return {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}


def _reaching_primals(defs):
    """The notebook functions that call a primal or one of their parameters (which may be one),
    directly or through other notebook functions: a difference of two of their calls can be a
    divided difference; of other helpers (``mm(a, b)``, a matrix product) it is algebra."""
    reach = {name for name, fn in defs.items() if any(
        isinstance(n, ast.Call) and _callee(n) in PRIMALS | _params(fn) for n in ast.walk(fn))}
    calls = {name: _called_names(fn) for name, fn in defs.items()}
    grown = True
    while grown:
        more = {name for name in defs if name not in reach and calls[name] & reach}
        reach |= more
        grown = bool(more)
    return reach


def _findings(fn, reaching_primals):
    """What in one function's body looks like numerical differentiation (plain-language list)."""
    differenced = PRIMALS | reaching_primals | _params(fn)
    found = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Constant) and isinstance(node.value, complex):
            found.append(f"the imaginary number {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in _COMPLEX_NAMES:
            found.append(f"'{node.id}'")
        elif isinstance(node, ast.Attribute) and node.attr in _COMPLEX_NAMES | {"imag"}:
            found.append(f"'.{node.attr}'")
        elif (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub)
              and isinstance(node.left, ast.Call) and isinstance(node.right, ast.Call)
              and ast.dump(node.left.func) == ast.dump(node.right.func)
              and ast.dump(node.left) != ast.dump(node.right)
              and _callee(node.left) in differenced):
            found.append(f"the difference '{ast.unparse(node)}'")
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
    return defs, assigned, _reaching_primals(defs)


def numerical_differentiation(cells, item, modules=()):
    """Evidence of numerical differentiation in the functions named in ``item`` (e.g.
    ``"log_vjp"`` or ``"grad_with_my_rules / jvp_with_my_rules"``) or in any notebook function
    they reach. ``cells``: the sources of the notebook's code cells; ``modules``: see
    :func:`submitted_modules`. Returns ``[(function, what)]``, empty if nothing was found."""
    defs, assigned, reaching = _analysis(tuple(cells), tuple(modules))
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
        found += [(name, what) for what in dict.fromkeys(_findings(defs[name], reaching))]
        todo += [n for n in _called_names(defs[name]) if n in defs and n not in seen]
    return found


def message(item, found):
    """The failure text for :func:`numerical_differentiation`'s findings."""
    where = "; ".join(f"{what} in {name}" for name, what in found[:4])
    return (f"[numerical differentiation] {item} computes a derivative numerically ({where}). "
            "A rule must be derived and written with array operations (see 'Rules of the game' "
            "in the assignment): complex steps and divided differences are not allowed. This "
            "item scores 0 and the submission is listed for review.")
