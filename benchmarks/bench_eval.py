"""Evaluation speed at full MNIST scale: kNN, linear probe, MAP@R, k-means and few-shot.

Data: the real MNIST split when it is cached (``load_arrays("mnist", ...)``), else synthetic
Gaussian blobs of the same shapes. The training file is cut into 55,000 train / 5,000 val with a
fixed permutation; the 10,000 test images are the queries. Features:

* D = 784: raw pixels in [0, 1] (the baseline every table carries);
* D = 128: ``relu(pixels @ P)`` with a fixed Gaussian ``P`` (784 x 128), a stand-in for encoder
  features with the right shape and a non-trivial geometry.

Each step runs once (they are seconds long) after a small warm-up that pays one-off costs: the
first ``torch.optim`` optimiser in a process imports ``torch._dynamo`` (1-3 s), which a training
run has already paid by the time it evaluates.

Targets (2 CPU cores): kNN 55k x 10k, k in {1, 20, 200}: <= 2 s at D = 128, <= 6 s at D = 784;
linear probe over the whole grid: <= 5 s at D = 128, <= 20 s at D = 784.

Usage::

    .venv/bin/python benchmarks/bench_eval.py                 # prints a markdown table
    .venv/bin/python benchmarks/bench_eval.py --device cuda   # same on a GPU
    .venv/bin/python benchmarks/bench_eval.py --threads 1     # busy machine: one thread
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch

from mnistmax.eval.clustering import cluster_metrics
from mnistmax.eval.fewshot import fewshot_eval
from mnistmax.eval.knn import knn_accuracy
from mnistmax.eval.linear_probe import linear_probe
from mnistmax.eval.retrieval import retrieval_metrics

Split = tuple[torch.Tensor, torch.Tensor]


def _load(device: torch.device) -> tuple[str, Split, Split]:
    """(source, (train x, y), (test x, y)) with x flattened float32 in [0, 1]."""
    try:
        from mnistmax.data.store import load_arrays

        xtr, ytr = load_arrays("mnist", "train", fetch_if_missing=False)
        xte, yte = load_arrays("mnist", "test", fetch_if_missing=False)
        to = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
        return (
            "MNIST",
            (to(xtr).flatten(1).float() / 255, to(ytr).long()),
            (to(xte).flatten(1).float() / 255, to(yte).long()),
        )
    except Exception as exc:  # any data problem: fall back to synthetic data of the same shape
        print(f"(MNIST not available: {exc}; using synthetic blobs)", file=sys.stderr)
        g = torch.Generator().manual_seed(0)
        centres = torch.rand(10, 784, generator=g)

        def blobs(n: int) -> Split:
            y = torch.randint(0, 10, (n,), generator=g)
            x = (centres[y] + 0.5 * torch.randn(n, 784, generator=g)).clamp(0, 1)
            return x.to(device), y.to(device)

        return "synthetic", blobs(60_000), blobs(10_000)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print a markdown table; exit 1 if a speed target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch intra-op threads (default: torch's)"
    )
    args = parser.parse_args(argv)
    if args.threads is not None:
        # On a machine shared with other jobs, one thread avoids OpenMP threads waiting for each
        # other at every barrier; see docs/benchmarks.md.
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    source, (x, y), (x_te, y_te) = _load(device)
    perm = torch.randperm(60_000, generator=torch.Generator().manual_seed(0)).to(device)
    tr, va = perm[5_000:], perm[:5_000]
    proj = torch.randn(784, 128, generator=torch.Generator().manual_seed(1)).to(device) / 28
    feats = {
        128: (torch.relu(x @ proj), torch.relu(x_te @ proj)),
        784: (x, x_te),
    }

    # Warm-up: first-call costs (torch._dynamo import by torch.optim, BLAS/OpenMP start).
    w_z, w_y = feats[128][0][:2000], y[:2000]
    linear_probe(w_z, w_y, w_z, w_y, w_z, w_y, weight_decays=(1e-3,), max_iter=3)
    knn_accuracy(w_z, w_y, w_z[:100], w_y[:100], ks=(20,))

    rows: list[tuple[str, float, str, str]] = []
    ok = True
    for d, knn_target, probe_target in ((128, 2.0, 5.0), (784, 6.0, 20.0)):
        z, z_te = feats[d]
        secs, acc = _timed(partial(knn_accuracy, z[tr], y[tr], z_te, y_te))
        ok &= secs <= knn_target
        res = ", ".join(f"k={k}: {100 * a:.2f}%" for k, a in acc.items())
        rows.append((f"kNN 55k x 10k, D={d}, k in (1, 20, 200)", secs, f"<= {knn_target:g} s", res))
        secs, probe = _timed(partial(linear_probe, z[tr], y[tr], z[va], y[va], z_te, y_te))
        ok &= secs <= probe_target
        rows.append(
            (
                f"linear probe 55k x {d}, 5-point grid, max_iter 50",
                secs,
                f"<= {probe_target:g} s",
                f"test {100 * probe.test_acc:.2f}% (wd {probe.weight_decay:g}, "
                f"val {100 * (probe.val_acc or 0.0):.2f}%)",
            )
        )
    z128, z128_te = feats[128]
    secs, ret = _timed(lambda: retrieval_metrics(z128_te, y_te))
    rows.append(
        (
            "MAP@R + P@1 10k x 128 (leave-one-out)",
            secs,
            "-",
            f"MAP@R {100 * ret['map_at_r']:.2f}%, P@1 {100 * ret['precision_at_1']:.2f}%",
        )
    )
    secs, cl = _timed(lambda: cluster_metrics(z128_te, y_te, n_init=10))
    rows.append(
        (
            "k-means 10k x 128, n_init 10 (+ ACC/NMI/ARI)",
            secs,
            "-",
            f"ACC {100 * cl['acc']:.2f}%, NMI {cl['nmi']:.3f}, ARI {cl['ari']:.3f}",
        )
    )
    secs, fs = _timed(lambda: fewshot_eval(z128[tr], y[tr], z128_te, y_te))
    rows.append(
        (
            "few-shot logreg, n in (1, 5, 10, 100) x 5 draws, D=128",
            secs,
            "-",
            ", ".join(f"{n}: {100 * fs[f'fewshot@{n}']:.1f}%" for n in (1, 5, 10, 100)),
        )
    )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Features: {source}; device {device}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; load average at the end {load:.1f}\n"
    )
    print("| step | seconds | target | result |")
    print("|---|---:|---|---|")
    for name, secs, target, result in rows:
        print(f"| {name} | {secs:.2f} | {target} | {result} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
