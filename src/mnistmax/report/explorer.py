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
import dataclasses
import functools
import hashlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy.optimize import linear_sum_assignment

from mnistmax.data import catalog, store
from mnistmax.data.splits import per_class_subset
from mnistmax.errors import MnistmaxError
from mnistmax.io import atomic_path
from mnistmax.report.collect import RunRecord
from mnistmax.report.render import asset, render
from mnistmax.training.checkpoint import load_checkpoint
from mnistmax.viz.manifold import project_2d
from mnistmax.viz.projections import pca_basis

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
    from sklearn.cluster import (
        KMeans,  # scikit-learn: ~0.7 s to import; only the clustering here needs it
    )

    k = min(num_classes, len(z))
    pred = KMeans(n_clusters=k, n_init=n_init, random_state=0).fit_predict(_normalise(z))
    counts = np.zeros((k, num_classes), dtype=np.int64)
    np.add.at(counts, (pred, labels), 1)
    rows, cols = linear_sum_assignment(-counts)
    mapping = np.arange(k)
    mapping[rows] = cols
    return mapping[pred]


def _png_b64(img: np.ndarray) -> str:

    buf = io.BytesIO()
    Image.fromarray(np.asarray(img, dtype=np.uint8), mode="L").save(
        buf, format="PNG", optimize=True
    )
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _test_images(run: RunRecord) -> np.ndarray | None:
    """The dataset's test images from the local cache (never fetched here), or ``None``."""

    try:
        x, _ = store.load_arrays(
            run.cfg.data.dataset, "test", root=run.cfg.data.root, fetch_if_missing=False
        )
    except MnistmaxError:
        return None
    return x


def _trace(run: RunRecord) -> np.ndarray | None:
    """The run's per-epoch trace embeddings (epochs + 1, N, D), if its last checkpoint kept them."""

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

        with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, arr)
        return arr


@dataclasses.dataclass(frozen=True)
class _Trace:
    """A run's training trace: per-epoch embeddings ``z`` (epochs + 1, M, D) of the M test
    digits ``idx`` (the GIF's fixed digits)."""

    z: np.ndarray
    idx: np.ndarray


@dataclasses.dataclass(frozen=True)
class _RunEmbeddings:
    """One run's test embeddings ``z`` and labels ``y``, the test digits it shows (``subset``)
    and its training trace, where it kept a usable one."""

    run: RunRecord
    z: np.ndarray
    y: np.ndarray
    subset: np.ndarray
    trace: _Trace | None

    @property
    def dataset(self) -> str:
        """The run's dataset name."""
        return self.run.cfg.data.dataset


def _load_embeddings(run: RunRecord, per_class: int) -> _RunEmbeddings | None:
    """The run's test embeddings and explorer subset (``per_class`` digits per class, seed 0);
    ``None`` without ``embeddings_test.npz`` or with too few test digits."""

    path = run.path / "embeddings_test.npz"
    if not path.is_file():
        return None
    with np.load(path) as npz:
        z, y = np.asarray(npz["embeddings"], np.float32), np.asarray(npz["labels"], np.int64)
    smallest = int(np.bincount(y).min()) if len(y) else 0
    if smallest < 1 or len(y) < 5:
        return None
    subset = per_class_subset(y, min(per_class, smallest), seed=0)
    return _RunEmbeddings(run=run, z=z, y=y, subset=subset, trace=_load_trace(run, y))


def _load_trace(run: RunRecord, y: np.ndarray) -> _Trace | None:
    """The run's trace with the test digits it follows, or ``None`` when the run kept no trace
    or the digits cannot be recovered (their count differs from the trace's)."""

    z = _trace(run)
    if z is None:
        return None
    # mnistmax.families.representation.trace_indices: eval.pca_per_class test digits per class, seed 0.
    try:
        idx = per_class_subset(y, run.cfg.eval.pca_per_class, seed=0)
    except MnistmaxError:
        return None
    if len(idx) != z.shape[1]:
        return None
    return _Trace(z=z, idx=idx)


def _pools(loaded: Sequence[_RunEmbeddings]) -> dict[str, np.ndarray]:
    """Per dataset, the sorted test digits any of its runs shows (subsets and trace digits)."""
    pools: dict[str, np.ndarray] = {}
    for e in loaded:
        parts = [pools.get(e.dataset, np.zeros(0, np.int64)), e.subset]
        if e.trace is not None:
            parts.append(e.trace.idx)
        pools[e.dataset] = np.unique(np.concatenate(parts))
    return pools


def _classes(dataset: str, y: np.ndarray) -> tuple[int, list[str]]:
    """The number of classes and their names: from the catalogue, else from the labels."""

    if dataset in catalog.DATASETS:
        info = catalog.get(dataset)
        return info.num_classes, list(info.class_names)
    num_classes = int(y.max()) + 1
    return num_classes, [str(c) for c in range(num_classes)]


def _dataset_entry(e: _RunEmbeddings, pool: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """A dataset's shared data: class names and the pool's test indices, labels and images
    (``None`` when the test images are not in the local cache)."""
    images = _test_images(e.run)
    return {
        "classNames": class_names,
        "testIndex": [int(t) for t in pool],
        "labels": [int(e.y[t]) for t in pool],
        "images": None if images is None else [_png_b64(images[t]) for t in pool],
    }


def _run_entry(
    e: _RunEmbeddings,
    pos: dict[int, int],
    num_classes: int,
    maps: Sequence[str],
    store: MapCache,
) -> dict[str, Any]:
    """One run's data: its points (positions in the dataset's pool), 2-D maps, clusters,
    neighbours and, where it kept a trace, the per-epoch frames."""
    zs = e.z[e.subset]
    return {
        "name": e.run.name,
        "method": e.run.method,
        "dataset": e.dataset,
        "points": [pos[int(t)] for t in e.subset],
        "maps": _maps(zs, maps, store),
        "clusters": _clusters(zs, e.y[e.subset], num_classes),
        **_neighbour_lists(zs),
        "frames": None if e.trace is None else _frames(e.trace, e.y, pos, num_classes),
    }


def _maps(zs: np.ndarray, maps: Sequence[str], store: MapCache) -> dict[str, Any]:
    """Each requested 2-D map of ``zs`` (cached in ``store``) with its title and bounds."""

    out: dict[str, Any] = {}
    for kind in maps:
        xy = store.get(zs, kind, functools.partial(project_2d, zs, kind, seed=0))
        out[kind] = {"title": MAP_TITLES.get(kind, kind), "xy": _round(xy), "bounds": _bounds(xy)}
    return out


def _clusters(z: np.ndarray, labels: np.ndarray, num_classes: int, n_init: int = 4) -> list[int]:
    """:func:`matched_clusters` as a JSON list."""
    return [int(c) for c in matched_clusters(z, labels, num_classes, n_init=n_init)]


def _neighbour_lists(z: np.ndarray) -> dict[str, Any]:
    """:func:`neighbours` as JSON lists: ``neighbours`` (indices) and ``sims`` (3 decimals)."""
    nb, sims = neighbours(z)
    return {"neighbours": nb.tolist(), "sims": [_round(s, 3) for s in sims]}


def _frames(trace: _Trace, y: np.ndarray, pos: dict[int, int], num_classes: int) -> dict[str, Any]:
    """The epoch slider's frames: every epoch in the final epoch's PCA basis (fixed axes), with
    that epoch's clusters and neighbours."""

    mean, basis = pca_basis(trace.z[-1])
    coords = (trace.z - mean) @ basis
    epochs = [
        _neighbour_lists(t) | {"clusters": _clusters(t, y[trace.idx], num_classes, n_init=2)}
        for t in trace.z
    ]
    return {
        "points": [pos[int(t)] for t in trace.idx],
        "coords": [_round(c) for c in coords],
        "bounds": _bounds(coords),
        "clusters": [ep["clusters"] for ep in epochs],
        "neighbours": [ep["neighbours"] for ep in epochs],
        "sims": [ep["sims"] for ep in epochs],
        "titles": [f"epoch {i}" + (" (init)" if i == 0 else "") for i in range(len(trace.z))],
    }


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
    loaded = [e for e in (_load_embeddings(run, per_class) for run in runs) if e is not None]
    if not loaded:
        return None
    pools = _pools(loaded)
    store = MapCache(cache)
    datasets: dict[str, Any] = {}
    out_runs: list[dict[str, Any]] = []
    for e in loaded:
        pool = pools[e.dataset]
        num_classes, class_names = _classes(e.dataset, e.y)
        if e.dataset not in datasets:
            datasets[e.dataset] = _dataset_entry(e, pool, class_names)
        if log:
            log(f"explorer: {e.run.name} ({len(e.subset)} test images, maps {', '.join(maps)})")
        pos = {int(t): i for i, t in enumerate(pool)}
        out_runs.append(_run_entry(e, pos, num_classes, maps, store))
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
