"""Baselines of the representation protocol, cached by what they depend on.

Raw pixels, PCA-50 of raw pixels and the same encoder at random initialisation depend only on
the data, the protocol and (for the random encoder) the encoder config and seed, so they are
cached under the data root and computed once per machine. The cache key is a checksum of
everything they depend on: the data files' md5s and the split, the evaluation config, the
source of the protocol code (which declares the metrics, so a new or changed metric recomputes
them, with no version to bump by hand) and, for the random encoder, its config, seed, encoder
source and torch version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import inspect
import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

from mnistmax.config import RunConfig
from mnistmax.data import catalog
from mnistmax.data.splits import Splits
from mnistmax.data.store import data_root
from mnistmax.eval.embed import embed
from mnistmax.eval.metric import feature_metrics
from mnistmax.io import read_json, write_json_atomic
from mnistmax.models.encoders import build_encoder
from mnistmax.progress import progress
from mnistmax.representation.protocol import pca_features, representation_metrics

log = logging.getLogger(__name__)


def _source_digest(*modules: str) -> str:
    """sha256 of the named modules' source files: the code a cached number was computed by."""

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
    "mnistmax.representation.protocol",
    "mnistmax.representation.baselines",
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


def _declared_metrics_digest() -> str:
    """A checksum of the declared metrics of frozen features: their names, declarations and
    the source of their functions (a metric declared anywhere, a test included, counts)."""
    h = hashlib.sha256()
    for metric in feature_metrics():
        h.update(repr((metric.name, metric.label, metric.fmt)).encode())
        try:
            h.update(inspect.getsource(metric.from_features).encode())  # type: ignore[arg-type]
        except (OSError, TypeError):
            h.update(repr(metric.from_features).encode())  # no source: a new process recomputes
    return h.hexdigest()


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
    common = {
        "data": data_key,
        "eval": ev_key,
        "code": _source_digest(*_PROTOCOL_MODULES),
        "metrics": _declared_metrics_digest(),
    }

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
            log.info(
                "mnistmax: computing baselines for %s (%s), once per machine; cached in %s",
                cfg.data.dataset,
                labels,
                folder,
            )
        for b in progress(missing, quiet=quiet, desc="baselines", total=len(missing)):
            metrics = b.compute()
            write_json_atomic(folder / b.file_name, {"key": b.stored_key, "metrics": metrics})
            out |= {f"baseline/{b.name}/{k}": v for k, v in metrics.items()}
        if not quiet:
            log.info("mnistmax: baselines computed in %.1f s", time.perf_counter() - tic)
    return out
