"""The interactive embedding explorer: page data (Python) and a small canvas viewer (inline JS).

For every representation run with ``embeddings_test.npz`` the explorer shows a fixed subset of
test digits (``per_class`` of each class, seed 0; the same digits for every run of a dataset)
as 2-D maps (PCA, t-SNE, UMAP from :func:`mnistmax.viz.manifold.project_2d`), coloured by label
or by k-means cluster (clusters matched to labels with the Hungarian method, so a correct cluster
wears its class's colour). Hovering a point shows its digit; clicking lists its nearest
neighbours by cosine similarity in the embedding (precomputed top-k over the subset).

Where the run kept its training trace (the per-epoch embeddings of the GIF's fixed digits, stored
in ``checkpoints/last.pt``), an epoch slider replays them in the GIF's basis: one PCA basis fitted
on the final epoch, fixed axes. No library and no network: the viewer is ~180 lines of plain
JavaScript inlined into the page, so the report works from ``file://`` and offline.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mnistmax.errors import MnistmaxError
from mnistmax.report.collect import RunRecord

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
        runs: Runs of the report; denoisers and runs without ``embeddings_test.npz`` are skipped.
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
        if run.is_denoise or not path.is_file():
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
            # mnistmax.runner.trace_indices: eval.pca_per_class test digits per class, seed 0.
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


def data_script(data: dict[str, Any]) -> str:
    """The data as an inline JSON script element (``</`` escaped so it cannot end the element)."""
    text = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="explorer-data">{text}</script>'


def explorer_html(data: dict[str, Any]) -> str:
    """The explorer's markup, data and script (placed inside the report's body)."""
    options = "".join(
        f'<option value="{i}">{r["name"]} ({r["method"]})</option>'
        for i, r in enumerate(data["runs"])
    )
    kinds = list(data["runs"][0]["maps"]) if data["runs"] else []
    all_kinds = [k for k in MAP_TITLES if any(k in r["maps"] for r in data["runs"])] or kinds
    map_options = "".join(f'<option value="{k}">{MAP_TITLES[k]}</option>' for k in all_kinds)
    map_options += '<option value="epochs">PCA per epoch (GIF digits)</option>'
    return f"""
<div id="explorer" class="explorer">
  <div class="ex-controls">
    <label>run <select id="ex-run">{options}</select></label>
    <label>map <select id="ex-map">{map_options}</select></label>
    <label>colour <select id="ex-colour"><option value="label">label</option>
      <option value="cluster">k-means cluster</option></select></label>
    <label>epoch <input type="range" id="ex-epoch" min="0" max="0" value="0" step="1">
      <span id="ex-epoch-label">—</span></label>
  </div>
  <div class="ex-main">
    <div class="ex-plot">
      <div id="ex-title" class="ex-title"></div>
      <canvas id="ex-canvas" width="640" height="520"></canvas>
      <div id="ex-tooltip" class="ex-tooltip" hidden><img id="ex-tip-img" alt="digit">
        <div id="ex-tip-text"></div></div>
    </div>
    <div class="ex-side">
      <div id="ex-legend" class="ex-legend"></div>
      <div id="ex-neighbours" class="ex-neighbours"><p class="ex-hint">Hover a point to see its
        digit; click it to list its nearest neighbours (cosine, in the embedding).</p></div>
    </div>
  </div>
</div>
{data_script(data)}
<script>{EXPLORER_JS}</script>
"""


EXPLORER_CSS = """
.explorer{border:1px solid #ddd;border-radius:6px;padding:10px;background:#fafafa}
.ex-controls{display:flex;flex-wrap:wrap;gap:14px;align-items:center;margin-bottom:8px}
.ex-controls label{font-size:14px}
.ex-main{display:flex;gap:14px;align-items:flex-start}
.ex-plot{position:relative}
.ex-title{font-weight:600;font-size:14px;margin-bottom:4px}
#ex-canvas{border:1px solid #ccc;background:#fff;cursor:crosshair;display:block}
.ex-tooltip{position:absolute;pointer-events:none;background:#fff;border:1px solid #888;
  border-radius:4px;padding:4px;font-size:12px;box-shadow:0 1px 4px rgba(0,0,0,.3);z-index:5}
.ex-tooltip img{width:84px;height:84px;image-rendering:pixelated;display:block;background:#000}
.ex-side{min-width:220px;max-width:320px}
.ex-legend div{font-size:13px;display:flex;align-items:center;gap:6px;margin:2px 0}
.ex-swatch{width:12px;height:12px;border-radius:50%;display:inline-block}
.ex-neighbours ol{padding-left:0;list-style:none;display:flex;flex-wrap:wrap;gap:6px}
.ex-nb{font-size:11px;text-align:center;cursor:pointer}
.ex-nb img{width:56px;height:56px;image-rendering:pixelated;display:block;background:#000}
.ex-hint{font-size:12px;color:#555}
"""

# Plain ES5 so any browser runs it; it only reads the JSON element above and draws on a canvas.
EXPLORER_JS = r"""
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("explorer-data").textContent);
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
                 "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"];
  var W = 640, H = 520, PAD = 18, R = 3.2, HIT = 8;
  var $ = function (id) { return document.getElementById(id); };
  var canvas = $("ex-canvas"), ctx = canvas.getContext("2d");
  var runSel = $("ex-run"), mapSel = $("ex-map"), colourSel = $("ex-colour");
  var slider = $("ex-epoch"), epochLabel = $("ex-epoch-label"), title = $("ex-title");
  var tip = $("ex-tooltip"), tipImg = $("ex-tip-img"), tipText = $("ex-tip-text");
  var legend = $("ex-legend"), nbPanel = $("ex-neighbours");
  var state = { run: 0, map: "pca", colour: "label", epoch: 0, selected: -1 };
  var screen = [], drawn = {};
  var dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  canvas.style.width = W + "px"; canvas.style.height = H + "px";

  function run() { return DATA.runs[state.run]; }
  function pool() { return DATA.datasets[run().dataset]; }
  function hasMap(r, kind) { return kind === "epochs" ? !!r.frames : !!r.maps[kind]; }
  function firstMap(r) { for (var k in r.maps) { return k; } return "epochs"; }

  function view() {
    var r = run();
    if (state.map === "epochs" && r.frames) {
      var f = r.frames, e = state.epoch;
      return { points: f.points, xy: f.coords[e], clusters: f.clusters[e], nb: f.neighbours[e],
               sims: f.sims[e], bounds: f.bounds, title: "PCA per epoch (final-epoch basis), " + f.titles[e] };
    }
    var m = r.maps[state.map];
    return { points: r.points, xy: m.xy, clusters: r.clusters, nb: r.neighbours, sims: r.sims,
             bounds: m.bounds, title: m.title + " of " + r.points.length + " test digits" };
  }

  function colourOf(v, i) {
    return state.colour === "cluster" ? v.clusters[i] : pool().labels[v.points[i]];
  }

  function imageSrc(p) {
    var imgs = pool().images;
    return imgs ? "data:image/png;base64," + imgs[p] : "";
  }

  function render() {
    var v = view(), b = v.bounds;
    var sx = (W - 2 * PAD) / Math.max(b[1] - b[0], 1e-9), sy = (H - 2 * PAD) / Math.max(b[3] - b[2], 1e-9);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, W, H);
    screen = []; drawn = {};
    for (var i = 0; i < v.points.length; i++) {
      var x = PAD + (v.xy[2 * i] - b[0]) * sx, y = H - PAD - (v.xy[2 * i + 1] - b[2]) * sy;
      screen.push([x, y]);
    }
    for (i = 0; i < v.points.length; i++) {
      var c = colourOf(v, i);
      drawn[c] = (drawn[c] || 0) + 1;
      ctx.fillStyle = PALETTE[c % PALETTE.length];
      ctx.beginPath(); ctx.arc(screen[i][0], screen[i][1], R, 0, 2 * Math.PI); ctx.fill();
    }
    if (state.selected >= 0 && state.selected < v.points.length) {
      ctx.lineWidth = 1.5; ctx.strokeStyle = "#000";
      var ring = [state.selected].concat(v.nb[state.selected]);
      for (i = 0; i < ring.length; i++) {
        ctx.beginPath(); ctx.arc(screen[ring[i]][0], screen[ring[i]][1], i === 0 ? R + 4 : R + 2, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    title.textContent = run().name + ": " + v.title;
    canvas.setAttribute("data-classes", String(Object.keys(drawn).length));
    canvas.setAttribute("data-points", String(v.points.length));
    renderLegend();
  }

  function renderLegend() {
    var names = pool().classNames, html = "";
    for (var c = 0; c < names.length; c++) {
      html += '<div class="ex-legend-item"><span class="ex-swatch" style="background:' + PALETTE[c % PALETTE.length] +
        '"></span>' + (state.colour === "cluster" ? "cluster → " : "") + names[c] +
        " <small>(" + (drawn[c] || 0) + ")</small></div>";
    }
    legend.innerHTML = html;
  }

  function nearest(ev) {
    var rect = canvas.getBoundingClientRect();
    var mx = (ev.clientX - rect.left) * (W / rect.width), my = (ev.clientY - rect.top) * (H / rect.height);
    var best = -1, bd = HIT * HIT;
    for (var i = 0; i < screen.length; i++) {
      var dx = screen[i][0] - mx, dy = screen[i][1] - my, d = dx * dx + dy * dy;
      if (d <= bd) { bd = d; best = i; }
    }
    return { index: best, x: mx, y: my };
  }

  function describe(v, i) {
    var p = v.points[i], names = pool().classNames;
    return "test #" + pool().testIndex[p] + " · label " + names[pool().labels[p]] +
      " · cluster → " + names[v.clusters[i]];
  }

  canvas.addEventListener("mousemove", function (ev) {
    var hit = nearest(ev);
    if (hit.index < 0) { tip.hidden = true; return; }
    var v = view();
    tipImg.src = imageSrc(v.points[hit.index]);
    tipImg.style.display = pool().images ? "block" : "none";
    tipText.textContent = describe(v, hit.index);
    tip.style.left = (hit.x + 14) + "px"; tip.style.top = (hit.y + 30) + "px";
    tip.hidden = false;
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
  canvas.addEventListener("click", function (ev) {
    var hit = nearest(ev);
    select(hit.index);
  });

  function select(i) {
    state.selected = i;
    render();
    if (i < 0) { return; }
    var v = view(), html = "<p><b>" + describe(v, i) + "</b><br>nearest neighbours (cosine similarity):</p><ol>";
    for (var j = 0; j < v.nb[i].length; j++) {
      var n = v.nb[i][j], p = v.points[n];
      html += '<li class="ex-nb" data-index="' + n + '">' + (pool().images ? '<img alt="neighbour" src="' + imageSrc(p) + '">' : "") +
        pool().classNames[pool().labels[p]] + " · " + v.sims[i][j].toFixed(3) + "</li>";
    }
    nbPanel.innerHTML = html + "</ol>";
    var items = nbPanel.querySelectorAll(".ex-nb");
    for (j = 0; j < items.length; j++) {
      items[j].addEventListener("click", function () { select(parseInt(this.getAttribute("data-index"), 10)); });
    }
  }

  function configureRun() {
    var r = run();
    for (var i = 0; i < mapSel.options.length; i++) {
      mapSel.options[i].disabled = !hasMap(r, mapSel.options[i].value);
    }
    if (!hasMap(r, state.map)) { state.map = firstMap(r); }
    mapSel.value = state.map;
    if (r.frames) {
      slider.disabled = false;
      slider.max = String(r.frames.coords.length - 1);
      state.epoch = Math.min(state.epoch, r.frames.coords.length - 1);
      if (state.map !== "epochs") { state.epoch = r.frames.coords.length - 1; }
      slider.value = String(state.epoch);
      epochLabel.textContent = r.frames.titles[state.epoch];
    } else {
      slider.disabled = true; slider.max = "0"; slider.value = "0";
      epochLabel.textContent = "no per-epoch frames in this run";
    }
    state.selected = -1;
    nbPanel.innerHTML = '<p class="ex-hint">Hover a point to see its digit; click it to list its nearest neighbours (cosine, in the embedding).</p>';
  }

  runSel.addEventListener("change", function () { state.run = parseInt(runSel.value, 10); configureRun(); render(); });
  mapSel.addEventListener("change", function () { state.map = mapSel.value; state.selected = -1; configureRun(); render(); });
  colourSel.addEventListener("change", function () { state.colour = colourSel.value; render(); });
  slider.addEventListener("input", function () {
    if (!run().frames) { return; }
    state.epoch = parseInt(slider.value, 10);
    if (state.map !== "epochs") { state.map = "epochs"; mapSel.value = "epochs"; state.selected = -1; }
    epochLabel.textContent = run().frames.titles[state.epoch];
    render();
  });

  window.mnistmaxExplorer = {
    state: state,
    render: render,
    pointPosition: function (i) { return screen[i] ? [screen[i][0], screen[i][1]] : null; },
    drawnClasses: function () { return Object.keys(drawn).length; },
    palette: PALETTE
  };
  configureRun();
  render();
})();
"""
