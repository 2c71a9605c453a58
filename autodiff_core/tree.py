"""Nested lists, tuples and dicts of arrays ("pytrees") as arguments of the transforms."""
from __future__ import annotations


def flatten(tree):
    """The leaves of ``tree`` in a fixed order, and a function rebuilding a tree from new leaves."""
    if isinstance(tree, (list, tuple)):
        parts = [flatten(x) for x in tree]
        sizes = [len(leaves) for leaves, _ in parts]

        def rebuild(leaves):
            out, start = [], 0
            for (_, build), n in zip(parts, sizes):
                out.append(build(leaves[start:start + n]))
                start += n
            return type(tree)(out) if isinstance(tree, list) else tuple(out)
        return [leaf for leaves, _ in parts for leaf in leaves], rebuild
    if isinstance(tree, dict):
        keys = sorted(tree)
        leaves, build = flatten([tree[k] for k in keys])
        return leaves, lambda new: dict(zip(keys, build(new)))
    return [tree], lambda leaves: leaves[0]


def tree_map(fn, tree):
    """``tree`` with every leaf replaced by ``fn(leaf)``."""
    leaves, rebuild = flatten(tree)
    return rebuild([fn(leaf) for leaf in leaves])
