"""Benchmarks of autodiff_core side by side with HIPS autograd, in one run.

    python benchmarks/run.py            # all four (about two minutes)
    python benchmarks/run.py --only 3   # one of them

1. grad of the lectures' L(w1, w2): time per call.            target: at most 1/2 of autograd's
2. MLP 784-512-512-10, batch 256: value_and_grad / forward.   target: <= 2.8
   (also NumPy by hand; run with glibc's default allocator and with large arrays kept on the heap)
3. Jacobian of f(x) = A x, n = 100, m = 1..1000: fwd, rev, auto. target: auto within 10% of the
   faster mode at every m (plot saved to benchmarks/results/jacobian_modes.png)
4. 64-layer tanh chain, plain vs checkpointed backward: peak memory and time.
   target: checkpointed peak memory grows about as sqrt(N); time overhead <= 35%

Timings are the minimum over repeats (the least disturbed run). The ratios in 2 and 4 compare
two timings of the same library, so they depend little on the BLAS build.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
import timeit
import tracemalloc

import autograd
import autograd.numpy as agnp
import numpy as onp

import autodiff_core as ad
import autodiff_core.numpy as np

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def best_times(fs, number, repeat=9):
    """Seconds per call of each function, runs interleaved so that drifts in machine speed hit
    all of them alike; the minimum over ``repeat`` rounds."""
    for f in fs:
        f()
    rounds = [[timeit.timeit(f, number=number) / number for f in fs] for _ in range(repeat)]
    return [min(r[i] for r in rounds) for i in range(len(fs))]


def say(text):
    print(text, flush=True)


# ---------------------------------------------------------------------------------------- 1
def bench_scalar():
    def make(m):
        def L(w1, w2):
            v = w2 * m.log(w1)
            return v + m.sqrt(v)
        return L
    ours = ad.grad(make(np), argnums=(0, 1))
    theirs = autograd.grad(make(agnp), argnum=(0, 1))
    assert onp.allclose(ours(2.0, 3.0), theirs(2.0, 3.0))
    t_ours, t_theirs = best_times([lambda: ours(2.0, 3.0), lambda: theirs(2.0, 3.0)], 2000)
    say("1. grad of L(w1, w2) = w2 log w1 + sqrt(w2 log w1), time per call")
    say(f"   autodiff_core {t_ours * 1e6:7.1f} us   autograd {t_theirs * 1e6:7.1f} us   "
        f"ratio {t_ours / t_theirs:.2f}  (target <= 0.5)")
    return t_ours / t_theirs <= 0.5


# ---------------------------------------------------------------------------------------- 2
def mlp_loss(m):
    def loss(params, X, Y):
        h = X
        for W, b in zip(params[0:-2:2], params[1:-2:2]):
            h = m.tanh(h @ W + b)
        logits = h @ params[-2] + params[-1]
        shifted = logits - m.max(logits, axis=1, keepdims=True)
        log_probs = shifted - m.log(m.sum(m.exp(shifted), axis=1, keepdims=True))
        return -m.sum(Y * log_probs) / X.shape[0]
    return loss


def mlp_by_hand(params, X, Y):
    """The same loss and its gradient written out in NumPy: the baseline any engine competes with."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = onp.tanh(X @ W1 + b1)
    h2 = onp.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - onp.log(onp.exp(shifted).sum(axis=1, keepdims=True))
    loss = -onp.sum(Y * log_probs) / X.shape[0]
    g = (onp.exp(log_probs) * Y.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    gz2 = (g @ W3.T) * (1 - h2 * h2)
    gz1 = (gz2 @ W2.T) * (1 - h1 * h1)
    return loss, [X.T @ gz1, gz1.sum(0), h1.T @ gz2, gz2.sum(0), h2.T @ g, g.sum(0)]


def mlp_ratios():
    """(forward ms, value_and_grad ms) for autodiff_core, NumPy by hand, and autograd."""
    rng = onp.random.default_rng(0)
    sizes = [784, 512, 512, 10]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        params += [rng.standard_normal((a, b)) / math.sqrt(a), onp.zeros(b)]
    X = rng.standard_normal((256, 784))
    Y = onp.eye(10)[rng.integers(0, 10, 256)]
    ours, theirs = ad.value_and_grad(mlp_loss(np)), autograd.value_and_grad(mlp_loss(agnp))
    reference = mlp_by_hand(params, X, Y)[1]
    for _, g in (ours(params, X, Y), theirs(params, X, Y)):
        assert all(onp.allclose(a, b) for a, b in zip(g, reference))
    plain = mlp_loss(onp)
    fs = [lambda: plain(params, X, Y), lambda: ours(params, X, Y),
          lambda: mlp_by_hand(params, X, Y), lambda: theirs(params, X, Y)]
    t_fwd, t_ours, t_hand, t_theirs = best_times(fs, 5, repeat=15)
    return {"autodiff_core": (t_fwd, t_ours), "NumPy by hand": (t_fwd, t_hand),
            "autograd": (best_times([lambda: mlp_loss(agnp)(params, X, Y)], 5)[0], t_theirs)}


TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(2**28), "MALLOC_TRIM_THRESHOLD_": str(2**28)}


def bench_mlp():
    """Run in this process (glibc's default allocator) and in a child with large arrays kept on
    the heap: with the defaults every fresh 0.5 MB array of the backward pass is a new mmap, and
    its page faults cost as much as a third of the matrix products."""
    import json
    import subprocess
    say("2. MLP 784-512-512-10, tanh, softmax cross-entropy, batch 256: value_and_grad / forward")
    child = subprocess.run([sys.executable, __file__, "--mlp-json"], capture_output=True, text=True,
                           env={**os.environ, **TUNED_MALLOC}, check=True)
    runs = {"glibc defaults": mlp_ratios(), "MALLOC_MMAP_THRESHOLD_=2^28": json.loads(child.stdout)}
    say(f"   {'allocator':28s} {'implementation':14s} {'forward ms':>10s} {'value_and_grad ms':>18s} {'ratio':>6s}")
    for alloc, rows in runs.items():
        for name, (t_fwd, t_vg) in rows.items():
            say(f"   {alloc:28s} {name:14s} {t_fwd * 1e3:10.2f} {t_vg * 1e3:18.2f} {t_vg / t_fwd:6.2f}")
    ratio = {alloc: rows["autodiff_core"][1] / rows["autodiff_core"][0] for alloc, rows in runs.items()}
    say("   target: autodiff_core ratio <= 2.8 (FLOP floor ~2.4): "
        + ", ".join(f"{alloc}: {'met' if r <= 2.8 else 'NOT met'}" for alloc, r in ratio.items()))
    vs_hand = {alloc: rows["autodiff_core"][1] / rows["NumPy by hand"][1] for alloc, rows in runs.items()}
    say("   target: autodiff_core value_and_grad within 5% of NumPy by hand: "
        + ", ".join(f"{alloc}: {r:.3f} {'met' if r <= 1.05 else 'NOT met'}" for alloc, r in vs_hand.items()))
    return all(r <= 2.8 for r in ratio.values()) and all(r <= 1.05 for r in vs_hand.values())


# ---------------------------------------------------------------------------------------- 3
def bench_jacobian(plot=True):
    rng = onp.random.default_rng(0)
    n = 100
    x = rng.standard_normal(n)
    ms = [1, 3, 10, 30, 60, 100, 150, 300, 600, 1000]
    say("3. Jacobian of f(x) = A x, n = 100: time per Jacobian (ms)")
    say(f"   {'m':>5s} {'fwd':>8s} {'rev':>8s} {'auto':>8s} {'auto/best':>10s} {'autograd':>9s}")
    rows, ok = [], True
    for m in ms:
        A = rng.standard_normal((m, n))
        f, f_ag = (lambda x: A @ x), (lambda x: agnp.dot(A, x))
        number = max(1, 300 // max(m, n))
        modes = ("fwd", "rev", "auto")
        t = dict(zip(modes, best_times([lambda mode=mode: ad.jacobian(f, mode=mode)(x) for mode in modes],
                                       number, repeat=9)))
        t["autograd"], = best_times([lambda: autograd.jacobian(f_ag)(x)], number, repeat=5)
        assert onp.allclose(ad.jacobian(f)(x), A)
        ratio = t["auto"] / min(t["fwd"], t["rev"])
        ok &= ratio <= 1.10
        rows.append((m, t))
        say(f"   {m:5d} {t['fwd'] * 1e3:8.2f} {t['rev'] * 1e3:8.2f} {t['auto'] * 1e3:8.2f} "
            f"{ratio:10.2f} {t['autograd'] * 1e3:9.2f}")
    say("   target: auto/best <= 1.10 at every m")
    if plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        os.makedirs(RESULTS, exist_ok=True)
        fig, axis = plt.subplots(figsize=(6, 4))
        for key, style in [("fwd", "o-"), ("rev", "s-"), ("auto", "k--"), ("autograd", "x:")]:
            axis.loglog([m for m, _ in rows], [t[key] * 1e3 for _, t in rows], style, label=key)
        axis.axvline(n, color="0.7", lw=0.8)
        axis.set(xlabel="m (outputs), n = 100 inputs", ylabel="ms per Jacobian",
                 title="Jacobian of f(x) = A x")
        axis.legend()
        path = os.path.join(RESULTS, "jacobian_modes.png")
        fig.savefig(path, dpi=110, bbox_inches="tight")
        say(f"   plot: {os.path.relpath(path)}")
    return ok


# ---------------------------------------------------------------------------------------- 4
def tanh_chain(m, n_layers, width, rng):
    Ws = [rng.standard_normal((width, width)) / math.sqrt(width) for _ in range(n_layers)]
    return [lambda h, W=W: m.tanh(h @ W) for W in Ws]


def compose(layers):
    def f(h):
        for layer in layers:
            h = layer(h)
        return h
    return f


def peak_memory(f, x):
    tracemalloc.start()
    tracemalloc.reset_peak()
    f(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def bench_checkpoint():
    rng = onp.random.default_rng(0)
    width, batch = 256, 256
    x = rng.standard_normal((batch, width))
    say(f"4. tanh chain (batch {batch}, width {width}): backward pass, plain vs checkpointed")
    say(f"   {'N':>4s} {'library':>13s} {'plain MB':>9s} {'ckpt MB':>8s} {'plain ms':>9s} {'ckpt ms':>8s} "
        f"{'overhead':>9s}")
    peaks, ok = {}, True
    for n_layers in (16, 64):
        segments = round(math.sqrt(n_layers))
        layers = tanh_chain(np, n_layers, width, rng)
        plain = ad.grad(lambda h: np.sum(compose(layers)(h)))
        ckpt = ad.grad(lambda h: np.sum(ad.checkpoint_sequential(layers, segments)(h)))
        layers_ag = tanh_chain(agnp, n_layers, width, rng)
        size = math.ceil(n_layers / segments)
        runs = [compose(layers_ag[i:i + size]) for i in range(0, n_layers, size)]
        plain_ag = autograd.grad(lambda h: agnp.sum(compose(layers_ag)(h)))
        ckpt_ag = autograd.grad(lambda h: agnp.sum(compose(
            [autograd.checkpoint(r) for r in runs[:-1]] + runs[-1:])(h)))
        for name, p, c in [("autodiff_core", plain, ckpt), ("autograd", plain_ag, ckpt_ag)]:
            mem_p, mem_c = peak_memory(p, x), peak_memory(c, x)
            t_p, t_c = best_times([lambda: p(x), lambda: c(x)], 2, repeat=7)
            peaks[name, n_layers] = mem_c
            overhead = t_c / t_p - 1
            say(f"   {n_layers:4d} {name:>13s} {mem_p / 2**20:9.1f} {mem_c / 2**20:8.1f} "
                f"{t_p * 1e3:9.1f} {t_c * 1e3:8.1f} {overhead * 100:8.0f}%")
            if name == "autodiff_core" and n_layers == 64:
                ok &= overhead <= 0.35
    growth = peaks["autodiff_core", 64] / peaks["autodiff_core", 16]
    say(f"   checkpointed peak memory, 64 vs 16 layers: x{growth:.2f} (sqrt(4) = 2; plain: ~4)")
    say("   target: growth about sqrt(N) and time overhead <= 35% at N = 64")
    ok &= growth <= 2.6
    return ok


BENCHMARKS = {1: bench_scalar, 2: bench_mlp, 3: bench_jacobian, 4: bench_checkpoint}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=int, choices=sorted(BENCHMARKS), help="run one benchmark")
    parser.add_argument("--mlp-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.mlp_json:                       # the child process of benchmark 2
        import json
        print(json.dumps(mlp_ratios()))
        return
    from importlib.metadata import version
    say(f"numpy {onp.__version__}, autograd {version('autograd')}, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {time.strftime('%Y-%m-%d')}")
    results = {}
    for k, bench in BENCHMARKS.items():
        if args.only in (None, k):
            results[k] = bench()
    say("targets met: " + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in results.items()))


if __name__ == "__main__":
    main()
