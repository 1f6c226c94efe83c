"""Self-supervised training throughput next to the bare model rate, and the cost of the new metrics.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_ssl.py [--threads 1] [--batch 256] [--steps 20]
        [--precision fp32|bf16] [--rounds N]
    .venv/bin/python benchmarks/bench_ssl.py --eval-cost

Throughput counts images through the encoder, i.e. both views (2 × batch per step):

* ``bare``: encoder forward + backward + Adam step on 2 × batch already-augmented images
  (channels_last), the ceiling for any method with this encoder;
* ``<method>``: the method's full ``training_step`` (one batched two-view augmentation, encoder,
  projector/predictor/target, loss) + backward + step + ``after_step``.

``--precision bf16`` runs both under the loop's bf16 autocast (training/precision.py): the bare
encoder forward, and each method's step (whose augmentation and loss stay float32).

``--eval-cost`` times the evaluation additions (few-shot, k-means, PCA-50) on 128-d features of
the full MNIST splits (a random projection of the pixels, so no training is needed).
"""

from __future__ import annotations

import argparse
import time
from statistics import median

import torch


def _rate(step: object, images: int, steps: int) -> float:
    fn = step
    for _ in range(3):
        fn()  # type: ignore[operator]
    tic = time.perf_counter()
    for _ in range(steps):
        fn()  # type: ignore[operator]
    return images * steps / (time.perf_counter() - tic)


def throughput(
    methods: list[str],
    encoder: str,
    batch: int,
    steps: int,
    precision: str = "fp32",
    rounds: int = 1,
) -> dict[str, list[float]]:
    """Images/s (both views) of the bare encoder and of each method's training step, one figure
    per round; each round times the bare step and then every method, so the host's drift
    reaches them alike."""
    from mnistmax.config import ModelConfig, RunConfig
    from mnistmax.methods import build_method
    from mnistmax.models.encoders import build_encoder
    from mnistmax.recipes.ssl import METHOD_SSL
    from mnistmax.training.precision import autocast

    cpu = torch.device("cpu")

    g = torch.Generator().manual_seed(0)
    cl = torch.channels_last
    x = torch.rand(batch, 1, 28, 28, generator=g).contiguous(memory_format=cl)
    y = torch.randint(0, 10, (batch,), generator=g)

    enc = build_encoder(encoder, embed_dim=128, dropout=0.0).to(memory_format=cl)  # type: ignore[call-overload]
    opt = torch.optim.Adam(enc.parameters(), 1e-3)
    x2 = torch.cat([x, x]).contiguous(memory_format=cl)

    def bare() -> None:
        with autocast(cpu, precision):
            loss = enc(x2).float().pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    steps_by_name: dict[str, object] = {"bare": bare}
    for name in methods:
        cfg = RunConfig(
            method=name,
            model=ModelConfig(encoder=encoder, embed_dim=128, dropout=0.0),
            ssl=METHOD_SSL[name],
        )
        m = build_method(cfg).to(memory_format=cl)  # type: ignore[call-overload]
        mopt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], 1e-3)
        counter = [0]

        def step(
            m: torch.nn.Module = m, mopt: torch.optim.Optimizer = mopt, counter: list[int] = counter
        ) -> None:
            with autocast(cpu, precision):
                o = m.training_step(x, y, generator=g)  # type: ignore[operator]
            mopt.zero_grad(set_to_none=True)
            o.loss.backward()
            mopt.step()
            counter[0] += 1
            m.after_step(counter[0], 1000)  # type: ignore[operator]

        steps_by_name[name] = step
    out: dict[str, list[float]] = {k: [] for k in steps_by_name}
    for _ in range(rounds):
        for name, fn in steps_by_name.items():
            out[name].append(_rate(fn, 2 * batch, steps))
    return out


def eval_cost() -> dict[str, float]:
    """Seconds of few-shot, k-means and PCA-50 on full-MNIST-sized 128-d features."""
    from mnistmax.config import DataConfig, EvalConfig
    from mnistmax.data.splits import load_splits
    from mnistmax.eval.clustering import cluster_metrics
    from mnistmax.representation.protocol import _fewshot, pca_features

    splits = load_splits(DataConfig(dataset="mnist"))
    w = torch.randn(784, 128, generator=torch.Generator().manual_seed(0))
    tr, te = splits.train.x.flatten(1) @ w, splits.test.x.flatten(1) @ w
    out: dict[str, float] = {}
    tic = time.perf_counter()
    _fewshot(tr, te, splits, EvalConfig())
    out["fewshot (1,5,10,100) x 5 draws"] = time.perf_counter() - tic
    tic = time.perf_counter()
    cluster_metrics(te, splits.test.y, n_init=10)
    out["kmeans n_init=10 on 10k test"] = time.perf_counter() - tic
    tic = time.perf_counter()
    pca_features(splits, 50)
    out["pca-50 fit + project"] = time.perf_counter() - tic
    return out


def main() -> None:
    """Print the measurements as Markdown table rows."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--encoder", default="seed_cnn")
    p.add_argument(
        "--methods", default="simclr,supcon,byol,swav,vicreg,barlow_twins", help="comma list"
    )
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    p.add_argument("--rounds", type=int, default=1, help="alternating rounds; medians shown")
    p.add_argument("--eval-cost", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.eval_cost:
        for k, v in eval_cost().items():
            print(f"| {k} | {v:.1f} s |")
        return
    rates = throughput(
        a.methods.split(","), a.encoder, a.batch, a.steps, a.precision, rounds=a.rounds
    )
    print(
        f"threads={a.threads} encoder={a.encoder} batch={a.batch} (x2 views) steps={a.steps} "
        f"precision={a.precision} rounds={a.rounds}"
    )
    bare = median(rates["bare"])
    for k, vals in rates.items():
        per_round = " / ".join(f"{r:,.0f}" for r in vals)
        mid = median(vals)
        print(f"| {k} | {mid:,.0f} img/s (rounds: {per_round}) | {mid / bare:.0%} of bare |")


if __name__ == "__main__":
    main()
