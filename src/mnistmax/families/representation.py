"""Representation learning (triplet and the self-supervised methods): an encoder whose features
are evaluated by kNN, linear probe, retrieval, few-shot and clustering next to baselines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from matplotlib.figure import Figure

from mnistmax.config import RunConfig
from mnistmax.data import catalog
from mnistmax.data.splits import Splits, per_class_subset
from mnistmax.eval.clustering import KMEANS_ACC, KMEANS_ARI, KMEANS_NMI
from mnistmax.eval.embed import embed
from mnistmax.eval.fewshot import FEWSHOT_10
from mnistmax.eval.knn import KNN_AT_20
from mnistmax.eval.linear_probe import LINEAR_PROBE
from mnistmax.eval.metric import Metric, feature_metrics
from mnistmax.families.base import FAMILIES, BaselineRef, Family, Tracer
from mnistmax.methods.base import Method
from mnistmax.representation.evaluation import evaluate_run
from mnistmax.timing import Stopwatch
from mnistmax.training.loop import FitResult
from mnistmax.training.runlog import RunDir
from mnistmax.viz.animation import pca_evolution_frames, save_gif, save_png
from mnistmax.viz.dashboard import save_figure, training_dashboard
from mnistmax.viz.manifold import project_2d
from mnistmax.viz.projections import embedding_scatter

#: The headline metrics ``mnistmax train`` prints, next to two baselines.
SUMMARY_KEYS = (
    "test/knn@1",
    "test/knn@20",
    "test/knn@200",
    "test/linear_probe",
    "test/p@1",
    "test/map@r",
)


def trace_indices(splits: Splits, per_class: int) -> torch.Tensor:
    """Fixed test digits (``per_class`` of each class, seed 0) for the clustering animation."""
    idx = per_class_subset(splits.test.y.cpu().numpy(), per_class, seed=0)
    return torch.from_numpy(idx).to(splits.test.y.device)


def write_figures(
    run: RunDir, result: FitResult, labels: np.ndarray, class_names: tuple[str, ...]
) -> None:
    """The clustering-evolution GIF with its per-epoch PNG frames, and the dashboard."""

    if result.trace is not None and len(result.trace) > 1:
        trace = result.trace.numpy()
        titles = [f"epoch {i}" + (" (init)" if i == 0 else "") for i in range(len(trace))]
        frames = pca_evolution_frames(trace, labels, class_names, titles=titles)
        for i, frame in enumerate(frames):
            save_png(frame, run.figures / "pca_frames" / f"epoch_{i:03d}.png")
        save_gif(frames, run.figures / "clustering_evolution_pca.gif")
    if result.history:
        save_figure(
            training_dashboard(result.history, title=str(run.path.name)),
            run.figures / "dashboard.png",
        )


@FAMILIES.register("representation")
class Representation(Family):
    """Trained by ``mnistmax train METHOD``; the clustering-evolution GIF traces fixed test digits."""

    name = "representation"
    command = "mnistmax train {method}"
    metrics = (KNN_AT_20, LINEAR_PROBE, FEWSHOT_10, KMEANS_ACC, KMEANS_NMI, KMEANS_ARI)
    baselines: ClassVar[Mapping[str, str]] = {
        "raw_pixels": "raw pixels",
        "pca50": "PCA-50 of pixels",
        "random_init": "",
    }

    figure_kinds = ("dashboard", "pca", "tsne", "umap")

    def figure(self, run: Any, kind: str) -> Figure:
        # A map of the test embeddings: ``eval.pca_per_class``-style fixed subset, 100 a class.
        if kind == "dashboard":
            return super().figure(run, kind)
        self._check_kind(kind)

        z, y = run.embed("test")
        idx = per_class_subset(y, min(100, int(np.bincount(y).min())), seed=0)
        coords = project_2d(z[idx], kind)
        names = catalog.get(run.config.data.dataset).class_names
        return embedding_scatter(coords, y[idx], names, title=f"{run.path.name}: {kind}")

    def report_metrics(self) -> tuple[Metric, ...]:
        # The built-in columns, then every metric declared with a function of frozen features
        # (the protocol computes those for each run and baseline).
        return self.metrics + tuple(feature_metrics())

    def summary_lines(self, metrics: Mapping[str, Any]) -> list[str]:
        def pct(v: object) -> str:
            return f"{100 * v:.2f}" if isinstance(v, float) else "-"

        lines = [f"{'metric':<22}{'run':>9}{'raw pixels':>12}{'random init':>13}"]
        for key in SUMMARY_KEYS:
            if key not in metrics:
                continue
            base = key.split("/", 1)[1]
            raw = metrics.get(f"baseline/raw_pixels/{base}")
            rnd = metrics.get(f"baseline/random_init/{base}")
            lines.append(f"{key:<22}{pct(metrics[key]):>9}{pct(raw):>12}{pct(rnd):>13}")
        for key in ("train_seconds", "train_img_per_s", "wall_seconds"):
            if key in metrics:
                lines.append(f"{key:<22}{metrics[key]:>9.1f}")
        return lines

    def baseline_ref(
        self, cfg: RunConfig, eval_json: Mapping[str, Any], name: str, values: Mapping[str, float]
    ) -> BaselineRef:
        if name != "random_init":
            return super().baseline_ref(cfg, eval_json, name, values)
        # One row per encoder architecture; each run's seed draws its own random encoder.
        m = cfg.model
        return BaselineRef(
            label=f"random-init {m.encoder} ({m.embed_dim}-d)",
            group=f"{self.name}/{cfg.data.dataset}/random_init/{m.encoder}/{m.embed_dim}/{m.dropout}",
            draw=str(cfg.train.seed),
            data=cfg.data.dataset,
        )

    def tracer(self, splits: Splits, cfg: RunConfig) -> Tracer:
        idx = trace_indices(splits, cfg.eval.pca_per_class)
        x = splits.test.x[idx]
        labels = splits.test.y[idx].cpu().numpy()

        def trace(m: Method) -> torch.Tensor:
            return torch.nn.functional.normalize(embed(m, x), dim=1)

        def figures(run: RunDir, result: FitResult) -> None:
            write_figures(run, result, labels, splits.class_names)

        return Tracer(trace, figures)

    def evaluate(
        self,
        run: RunDir,
        *,
        device: torch.device,
        splits: Splits,
        started: float | None,
        clock: Stopwatch,
        quiet: bool,
    ) -> dict[str, Any]:

        return evaluate_run(
            run, device=device, splits=splits, started=started, clock=clock, quiet=quiet
        )
