"""The representation protocol: metrics of frozen features on the test split.

Protocol (DESIGN §5): features ``h`` of the best (validation-selected) checkpoint; the kNN bank
and the linear probe's training set are the FULL training split (55k for MNIST) even when the
run trained on a labelled subset — that is the reference's protocol ("probe trained on all
60k"). The probe's regularisation is chosen on the validation split; the test split is used
once per run. :func:`representation_metrics` is the one entry; the run, its baselines and the
fine-tuning transfer all go through it.
"""

from __future__ import annotations

from typing import Any

import torch

from mnistmax.config import EvalConfig, RunConfig
from mnistmax.data.splits import Splits
from mnistmax.eval.clustering import cluster_metrics
from mnistmax.eval.fewshot import fewshot_eval
from mnistmax.eval.finetune import finetune_eval
from mnistmax.eval.knn import knn_accuracy
from mnistmax.eval.linear_probe import linear_probe
from mnistmax.eval.metric import feature_metrics
from mnistmax.eval.retrieval import retrieval_metrics
from mnistmax.models.encoders import build_encoder
from mnistmax.timing import Stopwatch, null_phase


def representation_metrics(
    feats: dict[str, torch.Tensor],
    splits: Splits,
    ev: EvalConfig,
    *,
    prefix: str = "test/",
    clock: Stopwatch | None = None,
) -> dict[str, float]:
    """kNN@k, linear probe, P@1, MAP@R, few-shot, k-means (and GMM) of test features.

    The kNN bank, the probe and the few-shot supports come from the training split; the probe's
    penalty is chosen on validation; k-means and the GMM cluster the test features, and
    ``ev.cluster_all`` adds k-means over train + val + test (``all/kmeans_*``); ``ev`` switches.
    ``clock`` records the seconds of each metric family (``evaluation/knn``, ...).
    """

    phase = clock or null_phase
    tr, va, te = feats["train"], feats["val"], feats["test"]
    out: dict[str, float] = {}
    with phase("evaluation/knn"):
        knn = knn_accuracy(
            tr,
            splits.train.y,
            te,
            splits.test.y,
            ks=ev.knn_ks,
            tau=ev.knn_tau,
            num_classes=splits.num_classes,
        )
    out |= {f"{prefix}knn@{k}": v for k, v in knn.items()}
    if ev.linear_probe:
        with phase("evaluation/linear_probe"):
            probe = linear_probe(
                tr,
                splits.train.y,
                va,
                splits.val.y,
                te,
                splits.test.y,
                num_classes=splits.num_classes,
            )
        out[f"{prefix}linear_probe"] = probe.test_acc
        if probe.val_acc is not None:
            out[f"{_split_prefix(prefix, 'val')}linear_probe"] = probe.val_acc
    with phase("evaluation/retrieval"):  # P@1 and MAP@R from one pass over the neighbours
        retrieval = retrieval_metrics(te, splits.test.y)
    out[f"{prefix}p@1"] = retrieval["precision_at_1"]
    out[f"{prefix}map@r"] = retrieval["map_at_r"]
    if ev.fewshot:
        with phase("evaluation/fewshot"):
            out |= {f"{prefix}{k}": v for k, v in _fewshot(tr, te, splits, ev).items()}
    for metric in feature_metrics():  # declared with a function: one call each
        assert metric.from_features is not None
        with phase(f"evaluation/{metric.name}"):
            out[f"{prefix}{metric.name}"] = metric.from_features(
                tr, splits.train.y, te, splits.test.y
            )
    if ev.clustering or ev.gmm or ev.cluster_all:
        with phase("evaluation/clustering"):
            if ev.clustering:
                clusters = cluster_metrics(te, splits.test.y, n_init=ev.kmeans_n_init, seed=0)
                out |= {f"{prefix}kmeans_{k}": v for k, v in clusters.items()}
            out |= _extra_clustering(feats, splits, ev, prefix)
    return out


def _split_prefix(prefix: str, split: str) -> str:
    """The key prefix of another split: ``test/`` -> ``val/``; a baseline's ``""`` -> ``val/``.

    (Protocol 1 turned a baseline's empty prefix into an empty one, so its validation probe
    accuracy overwrote the test one: every ``baseline/*/linear_probe`` before protocol 2 is the
    validation accuracy.)
    """
    return prefix.replace("test/", f"{split}/") if "test/" in prefix else f"{prefix}{split}/"


def _extra_clustering(
    feats: dict[str, torch.Tensor], splits: Splits, ev: EvalConfig, prefix: str
) -> dict[str, float]:
    """GMM on test features (``gmm_*``) and k-means on train + val + test (``all/kmeans_*``).

    Both are off by default (``ev.gmm``, ``ev.cluster_all``). The 70k-image k-means uses no labels,
    so clustering the validation and test images with the rest is not model selection on test.
    """

    out: dict[str, float] = {}
    if ev.gmm:
        gmm = cluster_metrics(
            feats["test"],
            splits.test.y,
            n_init=ev.kmeans_n_init,
            seed=0,
            method="gmm",
            covariance=ev.gmm_covariance,  # type: ignore[arg-type]
            pca_dim=ev.gmm_pca_dim,
        )
        out |= {f"{prefix}gmm_{k}": v for k, v in gmm.items()}
    if ev.cluster_all:
        # "test/" -> "all/"; a baseline's empty prefix gives "all/" under its own namespace.
        all_prefix = _split_prefix(prefix, "all")
        z = torch.cat([feats[s] for s in ("train", "val", "test")])
        y = torch.cat([getattr(splits, s).y for s in ("train", "val", "test")])
        clusters = cluster_metrics(z, y, n_init=ev.kmeans_n_init, seed=0)
        out |= {f"{all_prefix}kmeans_{k}": v for k, v in clusters.items()}
    return out


def finetune_metrics(method: Any, cfg: RunConfig, splits: Splits) -> dict[str, float]:
    """``test/finetune@N`` vs ``test/scratch@N`` (and their ``val/`` numbers); see eval.finetune.

    The scratch encoder is ``cfg.model``'s architecture initialised with seed ``cfg.train.seed``.
    Methods without an ``encoder`` (the denoisers) and shot counts above the smallest training
    class are skipped.
    """

    encoder = getattr(method, "encoder", None)
    if not isinstance(encoder, torch.nn.Module):
        return {}
    counts = torch.bincount(splits.train.y.cpu(), minlength=splits.num_classes)
    smallest = int(counts[counts > 0].min())
    shots = tuple(n for n in cfg.eval.finetune_shots if n <= smallest)

    def scratch() -> torch.nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.train.seed)
            return build_encoder(
                cfg.model.encoder, embed_dim=cfg.model.embed_dim, dropout=cfg.model.dropout
            )

    return finetune_eval(
        encoder,
        scratch,
        splits,
        shots=shots,
        lrs=cfg.eval.finetune_lrs,
        steps=cfg.eval.finetune_steps,
        seed=0,
    )


def _fewshot(
    tr: torch.Tensor, te: torch.Tensor, splits: Splits, ev: EvalConfig
) -> dict[str, float]:
    """``fewshot@N`` and ``fewshot@N_std`` (logistic regression, ``ev.fewshot_draws`` draws).

    Shot counts larger than the smallest training class (e.g. 100 on a tiny subset) are skipped
    rather than failing the whole evaluation.
    """

    counts = torch.bincount(splits.train.y.cpu(), minlength=splits.num_classes)
    smallest = int(counts[counts > 0].min())
    shots = tuple(n for n in ev.fewshot_shots if n <= smallest)
    if not shots:
        return {}
    return fewshot_eval(
        tr, splits.train.y, te, splits.test.y, shots=shots, draws=ev.fewshot_draws, seed=0
    )


def pca_features(splits: Splits, dim: int = 50) -> dict[str, torch.Tensor]:
    """Raw pixels projected on the training split's top ``dim`` principal components."""
    x = splits.train.x.flatten(1).double()
    mean = x.mean(dim=0)
    xc = x - mean
    _, vecs = torch.linalg.eigh(xc.T @ xc / max(len(x) - 1, 1))
    w = vecs[:, -dim:].flip(1)  # eigh sorts ascending
    return {
        s: ((getattr(splits, s).x.flatten(1).double() - mean) @ w).float()
        for s in ("train", "val", "test")
    }
