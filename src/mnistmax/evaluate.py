"""Evaluation of a run folder: representation metrics on the test split next to baselines.

Protocol (DESIGN §5): features ``h`` of the best (validation-selected) checkpoint; the kNN bank
and the linear probe's training set are the FULL training split (55k for MNIST) even when the
run trained on a labelled subset — that is the reference's protocol ("probe trained on all
60k"); ``test/knn@20_labelled_only`` adds the kNN that sees only the run's own labels. The probe's
regularisation is chosen on the validation split; the test split is used once, here.

Baselines (raw pixels; PCA-50 of raw pixels; the same encoder at random initialisation) depend
only on the data, the protocol and (for the random encoder) the encoder config and seed, so they
are cached under the data root and computed once per machine. The cache key is a checksum of
everything they depend on: the data files' md5s and the split, the evaluation config, the
source of the evaluation code (so a changed metric recomputes them, with no version to bump by
hand) and, for the random encoder, its config, seed, encoder source and torch version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mnistmax.config import EvalConfig, RunConfig
from mnistmax.data.splits import Splits, labelled_indices, load_splits
from mnistmax.eval.embed import embed
from mnistmax.eval.schema import run_facts
from mnistmax.io import atomic_path, read_json, write_json_atomic
from mnistmax.progress import progress
from mnistmax.timing import Stopwatch, null_phase
from mnistmax.train.checkpoint import load_checkpoint
from mnistmax.train.runlog import RunDir


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
    from mnistmax.eval.knn import knn_accuracy
    from mnistmax.eval.linear_probe import linear_probe
    from mnistmax.eval.retrieval import retrieval_metrics

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
    if ev.clustering or ev.gmm or ev.cluster_all:
        with phase("evaluation/clustering"):
            if ev.clustering:
                from mnistmax.eval.clustering import cluster_metrics

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
    from mnistmax.eval.clustering import cluster_metrics

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
    from mnistmax.eval.finetune import finetune_eval
    from mnistmax.models.encoders import build_encoder

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
    from mnistmax.eval.fewshot import fewshot_eval

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


def _source_digest(*modules: str) -> str:
    """sha256 of the named modules' source files: the code a cached number was computed by."""
    import importlib.util

    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"cannot locate the source of {name}")
        h.update(name.encode())
        h.update(Path(spec.origin).read_bytes())
    return h.hexdigest()


# The code behind every representation metric (and this module, which assembles them).
_PROTOCOL_MODULES = (
    "mnistmax.evaluate",
    "mnistmax.eval.knn",
    "mnistmax.eval.linear_probe",
    "mnistmax.eval.retrieval",
    "mnistmax.eval.fewshot",
    "mnistmax.eval.clustering",
)


_EVAL_FIELDS_NOT_IN_BASELINES = ("baselines", "figures", "pca_per_class", "pca_baseline")


@dataclasses.dataclass(frozen=True)
class _Baseline:
    """One cached baseline: its name in the keys, its label on screen, what it depends on."""

    name: str
    label: str
    key: dict[str, Any]
    compute: Any  # () -> dict[str, float]

    @property
    def stored_key(self) -> dict[str, Any]:
        """The key as JSON stores it (tuples become lists)."""
        return dict(json.loads(json.dumps(self.key)))

    @property
    def file_name(self) -> str:
        return (
            hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:16] + ".json"
        )


def _read_cached(path: Path, key: dict[str, Any]) -> dict[str, float] | None:
    if not path.is_file():
        return None
    try:
        stored = read_json(path)
    except (OSError, ValueError):
        return None  # a damaged cache entry is recomputed
    return dict(stored["metrics"]) if stored.get("key") == key else None


def _baselines(cfg: RunConfig, splits: Splits, device: torch.device) -> list[_Baseline]:
    """The baselines ``cfg`` asks for, each with the checksummed key of what it depends on."""
    from mnistmax.data import catalog
    from mnistmax.models.encoders import build_encoder

    data_key = {
        "md5": catalog.DATASETS[cfg.data.dataset].md5s,
        "split": dataclasses.asdict(dataclasses.replace(cfg.data, root=None, train_per_class=None)),
    }
    # Only the fields that change a baseline's numbers (fine-tuning's scratch arm is its own
    # baseline; figures and switches of whole baselines change none).
    ev_key = {
        k: v
        for k, v in dataclasses.asdict(cfg.eval).items()
        if not k.startswith("finetune") and k not in _EVAL_FIELDS_NOT_IN_BASELINES
    }
    common = {"data": data_key, "eval": ev_key, "code": _source_digest(*_PROTOCOL_MODULES)}

    def raw() -> dict[str, float]:
        feats = {s: getattr(splits, s).x.flatten(1) for s in ("train", "val", "test")}
        return representation_metrics(feats, splits, cfg.eval, prefix="")

    def pca50() -> dict[str, float]:
        return representation_metrics(pca_features(splits, 50), splits, cfg.eval, prefix="")

    def random_init() -> dict[str, float]:
        torch.manual_seed(cfg.train.seed)
        enc = build_encoder(
            cfg.model.encoder, embed_dim=cfg.model.embed_dim, dropout=cfg.model.dropout
        )
        enc.to(device=device, memory_format=torch.channels_last)  # type: ignore[call-overload]
        feats = {s: embed(enc, getattr(splits, s).x) for s in ("train", "val", "test")}
        return representation_metrics(feats, splits, cfg.eval, prefix="")

    out = [_Baseline("raw_pixels", "raw pixels", {"baseline": "raw_pixels", **common}, raw)]
    if cfg.eval.pca_baseline:
        out.append(_Baseline("pca50", "PCA-50", {"baseline": "pca50", **common}, pca50))
    encoder_key = {
        "model": dataclasses.asdict(cfg.model),
        "seed": cfg.train.seed,
        "torch": torch.__version__,
        "encoder_code": _source_digest("mnistmax.models.encoders", "mnistmax.eval.embed"),
    }
    out.append(
        _Baseline(
            "random_init",
            f"random-init {cfg.model.encoder}",
            {"baseline": "random_init", **common, **encoder_key},
            random_init,
        )
    )
    return out


def baseline_metrics(
    cfg: RunConfig, splits: Splits, device: torch.device, *, quiet: bool = True
) -> dict[str, float]:
    """Raw-pixel, PCA-50 and random-init-encoder metrics (cached), keyed ``baseline/<name>/...``.

    Each baseline is computed once per machine and stored under the data root
    (``baselines/<checksum>.json``); a run whose baselines are missing says so, shows a
    progress bar over them and how long they took (unless ``quiet``).
    """
    from mnistmax.data.store import data_root

    folder = data_root(cfg.data.root) / "baselines"
    out: dict[str, float] = {}
    missing: list[_Baseline] = []
    for b in _baselines(cfg, splits, device):
        cached = _read_cached(folder / b.file_name, b.stored_key)
        if cached is None:
            missing.append(b)
        else:
            out |= {f"baseline/{b.name}/{k}": v for k, v in cached.items()}
    if missing:
        tic = time.perf_counter()
        if not quiet:
            labels = ", ".join(b.label for b in missing)
            print(
                f"mnistmax: computing baselines for {cfg.data.dataset} ({labels}), once per "
                f"machine; cached in {folder}",
                flush=True,
            )
        for b in progress(missing, quiet=quiet, desc="baselines", total=len(missing)):
            metrics = b.compute()
            write_json_atomic(folder / b.file_name, {"key": b.stored_key, "metrics": metrics})
            out |= {f"baseline/{b.name}/{k}": v for k, v in metrics.items()}
        if not quiet:
            print(f"mnistmax: baselines computed in {time.perf_counter() - tic:.1f} s", flush=True)
    return out


def evaluate_run(
    run: RunDir,
    *,
    device: torch.device,
    splits: Splits | None = None,
    started: float | None = None,
    eval_config: EvalConfig | None = None,
    clock: Stopwatch | None = None,
    quiet: bool = True,
) -> dict[str, Any]:
    """Evaluate a finished run; writes ``eval.json`` and ``embeddings_test.npz``; returns metrics.

    ``started`` (a ``time.perf_counter()`` value) adds ``wall_seconds``: train + figures + eval.
    ``eval_config`` replaces the run's own ``eval`` section (e.g. ``mnistmax eval --finetune``);
    eval.json then records it under ``eval_config``. ``clock`` times the phases (its phases so far
    and this evaluation's are written to eval.json as ``timings``); ``quiet`` silences the
    baselines' message and progress bar.
    """
    from mnistmax.eval.knn import knn_accuracy
    from mnistmax.train.loop import load_method

    clock = clock or Stopwatch()
    with clock("evaluation"):
        with clock("evaluation/embed"):
            method, cfg = load_method(run, "best", device)
            if eval_config is not None:
                cfg = dataclasses.replace(cfg, eval=eval_config)
            if splits is None:
                splits = load_splits(cfg.data, device)
            feats = {s: embed(method, getattr(splits, s).x) for s in ("train", "val", "test")}
        results: dict[str, Any] = run_facts(run.path, cfg, load_checkpoint(run.last_checkpoint))
        results |= representation_metrics(feats, splits, cfg.eval, clock=clock)
        labelled = labelled_indices(splits, cfg.data)
        if labelled is not None:
            # The kNN that sees only the labels the run trained with.
            with clock("evaluation/knn"):
                acc = knn_accuracy(
                    feats["train"][labelled],
                    splits.train.y[labelled],
                    feats["test"],
                    splits.test.y,
                    ks=(20,),
                    tau=cfg.eval.knn_tau,
                    num_classes=splits.num_classes,
                )
            results["test/knn@20_labelled_only"] = acc[20]
        if cfg.eval.finetune:
            with clock("evaluation/finetune"):
                results |= finetune_metrics(method, cfg, splits)
    if cfg.eval.baselines:
        with clock("baselines"):
            results |= baseline_metrics(cfg, splits, device, quiet=quiet)
    if eval_config is not None:
        results["eval_config"] = dataclasses.asdict(eval_config)
    if started is not None:
        results["wall_seconds"] = time.perf_counter() - started
    results["timings"] = clock.rounded()
    write_json_atomic(run.path / "eval.json", results)
    save_embeddings(run.path / "embeddings_test.npz", feats["test"], splits.test.y)
    return results


def save_embeddings(path: str | Path, z: torch.Tensor, y: torch.Tensor) -> None:
    """Write ``embeddings`` and ``labels`` arrays to an .npz atomically."""
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, embeddings=z.cpu().numpy().astype(np.float32), labels=y.cpu().numpy())
