"""Copies of the engine for the sandboxed worker, with derivative rules removed from the source.

``make_engine_copy(dest, prims=None)`` writes ``dest/autodiff_core``: the engine's source with every
rule registration (``p.defvjp(...)``, ``p.defjvp(...)``, ``p.vjp_argnum = ...``) of the primitives
named in ``prims`` deleted (of *all* primitives if ``prims`` is None), and the body of every
module-level function those registrations used replaced by ``raise NotImplementedError`` -- as
well as, transitively, every helper only such functions used. What is not in the copy cannot be
reached from the worker by any route (copies, ``gc``, source reading, threads).

``cached_engine_copy(prims)`` keeps one copy per engine version and ``prims`` in the user's cache
folder (``$XDG_CACHE_HOME/adgrade`` or ``~/.cache/adgrade``), so grading does not rebuild it.
"""
from __future__ import annotations

import ast
import compileall
import hashlib
import os
import shutil
import sys
import tempfile

import autodiff_core

REGISTRATIONS = ("defvjp", "defjvp")
RULE_ATTRIBUTES = ("vjp_argnum", "jvp_argnum")
REMOVED = "removed from the engine while this item is graded"


def _receiver(stmt):
    """The name whose rules ``stmt`` registers (``log`` for ``log.defvjp(...)``), else None."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        f = stmt.value.func
        if isinstance(f, ast.Attribute) and f.attr in REGISTRATIONS and isinstance(f.value, ast.Name):
            return f.value.id
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        t = stmt.targets[0]
        if (isinstance(t, ast.Attribute) and t.attr in RULE_ATTRIBUTES
                and isinstance(t.value, ast.Name) and t.value.id != "self"):
            return t.value.id
    return None


def _names(nodes):
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}


def strip_rules(source, prims=None):
    """``source`` (a module's text) without the rules of ``prims`` (names; None: every rule)."""
    tree = ast.parse(source)
    removed = []

    def keep(stmt):
        name = _receiver(stmt)
        if name is not None and (prims is None or name in prims):
            removed.append(stmt)
            return False
        return True

    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                kept = [s for s in stmts if keep(s)]
                setattr(node, field, kept or [ast.Pass()])

    functions = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
    gutted, frontier = set(), _names(removed) & set(functions)
    while frontier:
        gutted |= frontier
        bodies = [stmt for name in frontier for stmt in functions[name].body]
        used = _names(bodies) & set(functions)
        live = _names(s for s in tree.body if not (isinstance(s, ast.FunctionDef) and s.name in gutted))
        frontier = {name for name in used - gutted if name not in live}
        for name in gutted:
            fn = functions[name]
            doc = fn.body[:1] if ast.get_docstring(fn) is not None else []
            fn.body = doc + [ast.parse(f"raise NotImplementedError({REMOVED!r})").body[0]]
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def make_engine_copy(dest, prims=None):
    """Write the stripped copy of ``autodiff_core`` to ``dest/autodiff_core``; returns ``dest``."""
    src = os.path.dirname(os.path.abspath(autodiff_core.__file__))
    target = os.path.join(dest, "autodiff_core")
    shutil.rmtree(target, ignore_errors=True)
    for folder, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        out = os.path.join(target, os.path.relpath(folder, src))
        os.makedirs(out, exist_ok=True)
        for f in files:
            if f.endswith(".py"):
                with open(os.path.join(folder, f), encoding="utf-8") as fh:
                    text = strip_rules(fh.read(), prims)
                with open(os.path.join(out, f), "w", encoding="utf-8") as fh:
                    fh.write(text)
    compileall.compile_dir(target, quiet=1)
    return dest


def _engine_files():
    src = os.path.dirname(os.path.abspath(autodiff_core.__file__))
    for folder, dirs, files in sorted(os.walk(src)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.join(folder, f)


def cached_engine_copy(prims=None):
    """The folder of an engine copy without the rules of ``prims``, built once per version of
    the engine (and of this module) and kept in the user's cache."""
    h = hashlib.sha256(repr((sorted(prims) if prims else None, sys.version)).encode())
    for path in [__file__, *_engine_files()]:
        with open(path, "rb") as fh:
            h.update(path.encode() + b"\0" + fh.read())
    root = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                        "adgrade")
    final = os.path.join(root, f"engine-{h.hexdigest()[:20]}")
    if not os.path.isdir(final):
        os.makedirs(root, exist_ok=True)
        tmp = make_engine_copy(tempfile.mkdtemp(dir=root, prefix=".building-"), prims)
        try:
            os.rename(tmp, final)
        except OSError:             # another grader built it first
            shutil.rmtree(tmp, ignore_errors=True)
    return final
