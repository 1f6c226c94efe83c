"""The interactive embedding explorer: page data (Python) and a small canvas viewer (its script
and stylesheet are package files, ``report/assets/``, inlined into the self-contained page).

For every representation run with ``embeddings_test.npz`` the explorer shows a fixed subset of
test digits (``per_class`` of each class, seed 0; the same digits for every run of a dataset)
as 2-D maps (PCA, t-SNE, UMAP from :func:`mnistmax.viz.manifold.project_2d`), coloured by label
or by k-means cluster (clusters matched to labels with the Hungarian method, so a correct cluster
wears its class's colour). Hovering a point shows its digit; clicking lists its nearest
neighbours by cosine similarity in the embedding (precomputed top-k over the subset).

Where the run kept its training trace (the per-epoch embeddings of the GIF's fixed digits, stored
in ``checkpoints/last.pt``), an epoch slider replays them in the GIF's basis: one PCA basis fitted
on the final epoch, fixed axes. No library and no network: the viewer is ~180 lines of plain
JavaScript (``report/assets/explorer.js``) inlined into the page, so the report works from ``file://`` and offline.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mnistmax.errors import MnistmaxError
from mnistmax.report.collect import RunRecord
from mnistmax.report.render import asset, render

MAP_TITLES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
CACHE_VERSION = 1
K_NEIGHBOURS = 8


def _round(a: np.ndarray, digits: int = 4) -> list[float]:
    return [float(v) for v in np.round(np.asarray(a, dtype=np.float64).ravel(), digits)]


def _bounds(xy: np.ndarray) -> list[float]:
    lo, hi = xy.reshape(-1, 2).min(0), xy.reshape(-1, 2).max(0)
    return _round(np.array([lo[0], hi[0], lo[1], hi[1]]), 5)


def _normalise(z: np.ndarray) -> np.ndarray:
    return z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-12)


def neighbours(z: np.ndarray, k: int = K_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` cosine neighbours of every row of ``z`` (itself excluded): (indices, sims)."""
    zn = _normalise(np.asarray(z, dtype=np.float64))
    sims = zn @ zn.T
    np.fill_diagonal(sims, -np.inf)
    k = min(k, len(z) - 1)
    idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    part = np.take_along_axis(sims, idx, 1)
    order = np.argsort(-part, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, 1)
    return idx, np.take_along_axis(sims, idx, 1)


def matched_clusters(
    z: np.ndarray, labels: np.ndarray, num_classes: int, n_init: int = 4
) -> np.ndarray:
    """k-means (k = classes) on L2-normalised ``z``; cluster ids renamed to their Hungarian-matched
    class (so colours agree with the label view where the clustering is right)."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.cluster import KMeans

    k = min(num_classes, len(z))
    pred = KMeans(n_clusters=k, n_init=n_init, random_state=0).fit_predict(_normalise(z))
    counts = np.zeros((k, num_classes), dtype=np.int64)
    np.add.at(counts, (pred, labels), 1)
    rows, cols = linear_sum_assignment(-counts)
    mapping = np.arange(k)
    mapping[rows] = cols
    return mapping[pred]


def _png_b64(img: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(img, dtype=np.uint8), mode="L").save(
        buf, format="PNG", optimize=True
    )
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _test_images(run: RunRecord) -> np.ndarray | None:
    """The dataset's test images from the local cache (never fetched here), or ``None``."""
    from mnistmax.data import store

    try:
        x, _ = store.load_arrays(
            run.cfg.data.dataset, "test", root=run.cfg.data.root, fetch_if_missing=False
        )
    except MnistmaxError:
        return None
    return x


def _trace(run: RunRecord) -> np.ndarray | None:
    """The run's per-epoch trace embeddings (epochs + 1, N, D), if its last checkpoint kept them."""
    from mnistmax.train.checkpoint import load_checkpoint

    path = run.path / "checkpoints" / "last.pt"
    if not path.is_file():
        return None
    try:
        state = load_checkpoint(path)
    except MnistmaxError:
        return None
    trace = state.get("trace")
    if trace is None or getattr(trace, "ndim", 0) != 3 or trace.shape[0] < 2:
        return None
    return np.asarray(trace.float().numpy())


class MapCache:
    """2-D maps cached on disk by content (t-SNE/UMAP cost seconds; a rebuilt report reuses them)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, z: np.ndarray, kind: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        if self.folder is None:
            return compute()
        digest = hashlib.sha1(np.ascontiguousarray(z, dtype=np.float32).tobytes()).hexdigest()[:20]
        path = self.folder / f"{kind}-v{CACHE_VERSION}-{digest}.npy"
        if path.is_file():
            try:
                arr = np.load(path)
                if arr.shape == (len(z), 2):
                    return np.asarray(arr, dtype=np.float32)
            except (OSError, ValueError):
                pass
        arr = compute()
        from mnistmax.io import atomic_path

        with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, arr)
        return arr


def explorer_data(
    runs: Sequence[RunRecord],
    *,
    maps: Sequence[str] = ("pca", "tsne", "umap"),
    per_class: int = 100,
    cache: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any] | None:
    """The page data of the explorer (``None`` when no run has test embeddings).

    Args:
        runs: Runs of the report; runs without ``embeddings_test.npz`` (denoisers) are skipped.
        maps: Projections to compute, in ``pca``, ``tsne``, ``umap``.
        per_class: Test digits per class in the explorer's fixed subset.
        cache: Folder for cached 2-D maps (``None``: no cache).
        log: Called with one line per run (progress).
    """
    from mnistmax.data import catalog
    from mnistmax.data.splits import per_class_subset
    from mnistmax.viz.manifold import project_2d
    from mnistmax.viz.projections import pca_basis

    store = MapCache(cache)
    # First pass: which test digits each dataset's pool needs (the subset plus trace digits).
    loaded: list[
        tuple[RunRecord, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]
    ] = []
    for run in runs:
        path = run.path / "embeddings_test.npz"
        if not path.is_file():
            continue
        with np.load(path) as npz:
            z, y = np.asarray(npz["embeddings"], np.float32), np.asarray(npz["labels"], np.int64)
        smallest = int(np.bincount(y).min()) if len(y) else 0
        if smallest < 1 or len(y) < 5:
            continue
        subset = per_class_subset(y, min(per_class, smallest), seed=0)
        trace = _trace(run)
        trace_idx = None
        if trace is not None:
            # mnistmax.families.representation.trace_indices: eval.pca_per_class test digits per class, seed 0.
            try:
                trace_idx = per_class_subset(y, run.cfg.eval.pca_per_class, seed=0)
            except MnistmaxError:
                trace_idx = None
            if trace_idx is None or len(trace_idx) != trace.shape[1]:
                trace, trace_idx = None, None
        loaded.append((run, z, y, subset, trace, trace_idx))
    if not loaded:
        return None
    pools: dict[str, np.ndarray] = {}
    for run, _, _, subset, _, trace_idx in loaded:
        ds = run.cfg.data.dataset
        parts = [pools.get(ds, np.zeros(0, np.int64)), subset]
        if trace_idx is not None:
            parts.append(trace_idx)
        pools[ds] = np.unique(np.concatenate(parts))

    datasets: dict[str, Any] = {}
    out_runs: list[dict[str, Any]] = []
    for run, z, y, subset, trace, trace_idx in loaded:
        ds = run.cfg.data.dataset
        pool = pools[ds]
        pos = {int(t): i for i, t in enumerate(pool)}
        num_classes = catalog.get(ds).num_classes if ds in catalog.DATASETS else int(y.max()) + 1
        if ds not in datasets:
            images = _test_images(run)
            names = (
                list(catalog.get(ds).class_names)
                if ds in catalog.DATASETS
                else [str(c) for c in range(num_classes)]
            )
            datasets[ds] = {
                "classNames": names,
                "testIndex": [int(t) for t in pool],
                "labels": [int(y[t]) for t in pool],
                "images": None if images is None else [_png_b64(images[t]) for t in pool],
            }
        if log:
            log(f"explorer: {run.name} ({len(subset)} test digits, maps {', '.join(maps)})")
        zs = z[subset]
        entry: dict[str, Any] = {
            "name": run.name,
            "method": run.method,
            "dataset": ds,
            "points": [pos[int(t)] for t in subset],
            "maps": {},
        }
        for kind in maps:
            xy = store.get(zs, kind, functools.partial(project_2d, zs, kind, seed=0))
            entry["maps"][kind] = {
                "title": MAP_TITLES.get(kind, kind),
                "xy": _round(xy),
                "bounds": _bounds(xy),
            }
        entry["clusters"] = [int(c) for c in matched_clusters(zs, y[subset], num_classes)]
        nb, sims = neighbours(zs)
        entry["neighbours"] = nb.tolist()
        entry["sims"] = [_round(s, 3) for s in sims]
        entry["frames"] = None
        if trace is not None and trace_idx is not None:
            mean, basis = pca_basis(trace[-1])
            coords = (trace - mean) @ basis
            frames_nb, frames_sims, frames_cl = [], [], []
            for t in trace:
                fnb, fs = neighbours(t)
                frames_nb.append(fnb.tolist())
                frames_sims.append([_round(s, 3) for s in fs])
                frames_cl.append(
                    [int(c) for c in matched_clusters(t, y[trace_idx], num_classes, n_init=2)]
                )
            entry["frames"] = {
                "points": [pos[int(t)] for t in trace_idx],
                "coords": [_round(c) for c in coords],
                "bounds": _bounds(coords),
                "clusters": frames_cl,
                "neighbours": frames_nb,
                "sims": frames_sims,
                "titles": [f"epoch {i}" + (" (init)" if i == 0 else "") for i in range(len(trace))],
            }
        out_runs.append(entry)
    return {"datasets": datasets, "runs": out_runs, "k": K_NEIGHBOURS}


def explorer_html(data: dict[str, Any]) -> str:
    """The explorer's markup, data and script (``templates/explorer.html.j2``, autoescaped;
    the data as JSON that cannot end its script element)."""
    kinds = [k for k in MAP_TITLES if any(k in r["maps"] for r in data["runs"])]
    if not kinds and data["runs"]:
        kinds = list(data["runs"][0]["maps"])
    return render(
        "explorer.html.j2",
        runs=data["runs"],
        maps=[(k, MAP_TITLES.get(k, k)) for k in kinds],
        data=data,
        script=asset("explorer.js"),
    )
