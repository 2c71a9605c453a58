"""The worker loop: ``python -S -E -B main.py <path> ...`` (the paths go first on sys.path).

Protocol: one JSON object per line on the original stdin (requests) and stdout (answers); file
descriptors 0 and 1 are then pointed at /dev/null, so nothing the student's code prints can be
mistaken for an answer (and an answer it forges is no more than a value it could have returned).

Requests (every request has an ``id``, echoed in its answer):

* ``{"op": "run_cell", "source": ..., "number": n, "ipython": bool}`` runs a cell (with ``exec``,
  or in an IPython shell when ``ipython`` is true: magics, ``get_ipython()``) ->
  ``{"outputs": [...], "error": null | {ename, evalue}}``
* ``{"op": "call", "target": name, "args": [...], "kwargs": {...}}`` calls the student's
  function ``name`` (or the procedure ``proc:<name>`` of :mod:`adworker.procedures`) ->
  ``{"value": ...}``, ``{"raised": {type, message}}``, ``{"missing": name}`` or
  ``{"unencodable": message}``.
"""
from __future__ import annotations

import functools
import json
import os
import sys

for _p in reversed(sys.argv[1:]):
    sys.path.insert(0, _p)

TEXT_LIMIT = 20_000     # characters of captured output kept per cell and stream


def _answer(out, msg):
    out.write(json.dumps(msg, allow_nan=False).encode() + b"\n")
    out.flush()


def _short(exc):
    return {"type": type(exc).__name__, "message": str(exc)[:1000]}


def main():
    submission = os.environ.pop("ADWORKER_SUBMISSION", None)
    if submission:                      # sandboxed: the read-only submission into the tmpfs cwd
        import shutil
        shutil.copytree(submission, ".", symlinks=True, dirs_exist_ok=True)
    sys.path.append(os.getcwd())        # as in Jupyter, the notebook's own modules import
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)

    import contextlib
    import io
    import traceback
    import warnings

    import numpy as np

    from adworker.codec import CodecError, decode, encode

    ns = {"__name__": "__main__", "__builtins__": __builtins__}
    shell = []          # the IPython shell, created for the first cell that needs it

    def ipython():
        if not shell:
            from IPython.core.interactiveshell import InteractiveShell
            from traitlets.config import Config
            cfg = Config()
            cfg.HistoryManager.enabled = False
            cfg.InteractiveShell.colors = "NoColor"
            cfg.InteractiveShell.xmode = "Plain"
            sh = InteractiveShell.instance(config=cfg, user_ns=ns)
            # plots are not graded: `%matplotlib inline` (which needs a GUI-aware shell and
            # raised here, losing the rest of its cell) does nothing; MPLBACKEND is Agg
            sh.register_magic_function(lambda line: None, "line", "matplotlib")
            shell.append(sh)
        return shell[0]

    def run_plain(source, number):
        """Run a cell with exec (no IPython needed): returns (stdout, stderr, error, outputs)."""
        out, err, error = io.StringIO(), io.StringIO(), None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                exec(compile(source, f"<cell {number}>", "exec"), ns)
            except BaseException as exc:  # noqa: BLE001 - the student's error is data
                error = exc
                tb = traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next)
                err.write("".join(tb))
        return out.getvalue(), err.getvalue(), error, []

    def run_ipython(source, number):
        from IPython.utils.capture import capture_output
        sh = ipython()              # before the capture: it hooks the shell's display publisher
        with capture_output() as cap:
            result = sh.run_cell(source, store_history=False)
        return (cap.stdout, cap.stderr, result.error_before_exec or result.error_in_exec,
                cap.outputs)

    def run_cell(req):
        run = run_ipython if req.get("ipython") else run_plain
        stdout, stderr, err, displays = run(req["source"], req.get("number", 0))
        outputs = [{"stream": name, "text": text[:TEXT_LIMIT]}
                   for name, text in (("stdout", stdout), ("stderr", stderr)) if text]
        for o in displays:
            data = {k: v for k, v in o.data.items()
                    if k in ("text/plain", "image/png") and isinstance(v, str)}
            if data:
                outputs.append({"display": {k: v[:TEXT_LIMIT * 10] for k, v in data.items()}})
        return {"outputs": outputs, "error": None if err is None else {
            "ename": type(err).__name__, "evalue": str(err)[:2000]}}

    def primal(x):
        engine = sys.modules.get("autodiff_core")
        return engine.primal(x) if engine is not None else x

    def call(req):
        target = req["target"]
        if target.startswith("proc:"):
            from adworker import procedures
            fn = functools.partial(getattr(procedures, target[5:]), ns)
        else:
            fn = ns.get(target)
            if not callable(fn):
                return {"missing": target}
        args, kwargs = decode(req["args"]), decode(req["kwargs"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    value = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - anything the student's code raises is data
            return {"raised": _short(exc)}
        try:
            return {"value": encode(value, primal=primal)}
        except CodecError as exc:
            return {"unencodable": str(exc)}
        except BaseException as exc:  # noqa: BLE001 - e.g. a value whose __array__ raises
            return {"unencodable": f"{type(exc).__name__}: {str(exc)[:500]}"}

    ops = {"run_cell": run_cell, "call": call}
    _answer(proto_out, {"ready": True})
    for line in proto_in:
        req = json.loads(line)
        _answer(proto_out, dict(ops[req["op"]](req), id=req["id"]))


if __name__ == "__main__":
    main()
