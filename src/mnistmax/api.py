"""The Python API: train a preset, load a run folder, read its numbers, embed, plot.

The CLI is a thin layer over the same calls. Nothing here changes global state: figures are
``matplotlib.figure.Figure`` objects (no pyplot, no backend switch), messages go to the
``mnistmax`` logger, and a run's progress bars and lines are silenced with ``quiet=True``.

>>> run = mnistmax.training("triplet_quick", overrides={"train.epochs": 2})
>>> run.metrics["test/knn@20"]
>>> features, labels = run.embed("test")
>>> run.plot("umap")
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistmax.config import RunConfig, apply_overrides, override_text
from mnistmax.errors import ConfigError
from mnistmax.io import read_json

if TYPE_CHECKING:
    import numpy as np
    import torch
    from matplotlib.figure import Figure

    from mnistmax.families import Family
    from mnistmax.methods import Method

Overrides = Mapping[str, object] | Sequence[str] | None


def _override_strings(overrides: Overrides) -> list[str]:
    """``{"train.epochs": 5}`` or ``["train.epochs=5"]`` as ``--set`` strings."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return [f"{key}={override_text(value)}" for key, value in overrides.items()]
    if isinstance(overrides, str):
        raise ConfigError("overrides: give a dict or a list of 'section.field=value' strings")
    return [str(o) for o in overrides]


def _fresh_folder(stem: str, root: Path = Path("runs")) -> Path:
    """``runs/<stem>``, or ``runs/<stem>_2``, ``_3``... if taken."""
    candidate, k = root / stem, 2
    while candidate.exists():
        candidate, k = root / f"{stem}_{k}", k + 1
    return candidate


@dataclass(frozen=True)
class Run:
    """A run folder: its config, its numbers and its trained model.

    Attributes:
        path: The run folder.
    """

    path: Path

    @property
    def config(self) -> RunConfig:
        """The resolved config the run was trained with."""
        from mnistmax.training.runlog import RunDir

        return RunDir(self.path).config()

    @property
    def metrics(self) -> dict[str, Any]:
        """The run's eval.json (empty until it is evaluated)."""
        file = self.path / "eval.json"
        return dict(read_json(file)) if file.is_file() else {}

    @property
    def history(self) -> list[dict[str, Any]]:
        """One record per trained epoch (losses, validation metrics, learning rate)."""
        from mnistmax.training.runlog import RunDir

        return [r for r in RunDir(self.path).read_metrics() if r.get("kind") == "epoch"]

    @functools.cached_property
    def family(self) -> Family:
        """The family of the run's method (representation, denoising, ...)."""
        from mnistmax.families import family_of

        return family_of(self.config.method)

    @functools.cached_property
    def method(self) -> Method:
        """The trained method (best checkpoint, chosen on validation), in eval mode, on CPU."""
        from mnistmax.training.loop import load_method
        from mnistmax.training.runlog import RunDir

        method, _ = load_method(RunDir(self.path), "best", "cpu")
        return method

    @property
    def encoder(self) -> torch.nn.Module:
        """The model used at test time (a representation run's encoder, a denoiser's network),
        in eval mode."""
        return self.method.inference_module().eval()

    def embed(self, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
        """``(features, labels)`` of ``split`` (``train``, ``val``, ``test``) as numpy arrays."""
        import torch

        from mnistmax.data.splits import load_splits
        from mnistmax.eval.embed import embed

        if split not in ("train", "val", "test"):
            raise ConfigError(f"split {split!r}: choose train, val or test")
        part = getattr(load_splits(self.config.data, torch.device("cpu")), split)
        return embed(self.method, part.x).numpy(), part.y.numpy()

    def denoise(self, x: Any) -> np.ndarray:
        """A denoiser run's output for images ``x`` ((N, 28, 28) or (N, 1, 28, 28); uint8 in
        0..255 or floats in [0, 1]) as float32 (N, 28, 28) in [0, 1]."""
        import numpy as np
        import torch

        from mnistmax.methods.denoise import DenoiseMethod

        if not isinstance(self.method, DenoiseMethod):
            raise ConfigError(f"{self.path} is a {self.config.method} run, not a denoiser")
        t = torch.as_tensor(np.asarray(x))
        t = t.float() / 255.0 if t.dtype == torch.uint8 else t.float()
        if t.ndim == 3:
            t = t.unsqueeze(1)
        with torch.no_grad():
            out = self.method.denoise(t)
        return np.asarray(out[:, 0].clamp(0, 1).numpy(), dtype=np.float32)

    def plot(self, kind: str = "dashboard") -> Figure:
        """A figure of the run: ``dashboard`` for every run; ``pca``, ``tsne``, ``umap`` of the
        test embeddings for representation runs; ``psnr``, ``ssim`` against intensity for
        denoisers (see ``run.family.figure_kinds``)."""
        return self.family.figure(self, kind)

    def evaluate(self, *, quiet: bool = True) -> dict[str, Any]:
        """Evaluate the run again (its best checkpoint); writes and returns eval.json."""
        import torch

        from mnistmax.data.splits import load_splits
        from mnistmax.timing import Stopwatch
        from mnistmax.training.runlog import RunDir

        device = torch.device("cpu")
        return self.family.evaluate(
            RunDir(self.path),
            device=device,
            splits=load_splits(self.config.data, device),
            started=None,
            clock=Stopwatch(),
            quiet=quiet,
        )


def train(
    preset: str,
    out: str | Path | None = None,
    *,
    seed: int = 0,
    overrides: Overrides = None,
    quiet: bool = False,
) -> Run:
    """Train (or resume) ``preset`` into ``out``, write its figures, evaluate it.

    Args:
        preset: A preset name (:func:`presets` lists them).
        out: The run folder; ``None``: a fresh folder ``runs/<preset>_seed<seed>``.
        seed: The run's seed (``train.seed``).
        overrides: ``{"train.epochs": 5}`` or ``["train.epochs=5"]``: the rules and errors of
            the CLI's ``--set``.
        quiet: No progress bars and no per-epoch lines.

    Raises:
        ConfigError: Unknown preset, bad override, or a folder holding another run.
    """
    from mnistmax.families import train_run
    from mnistmax.recipes import get_preset

    cfg = apply_overrides(get_preset(preset), _override_strings(overrides))
    cfg = replace(cfg, train=replace(cfg.train, seed=seed))
    folder = Path(out) if out is not None else _fresh_folder(f"{preset}_seed{seed}")
    train_run(cfg, folder, quiet=quiet)
    return Run(folder)


def load(path: str | Path) -> Run:
    """The run in folder ``path`` (trained by the CLI, a study, the review or :func:`train`)."""
    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise ConfigError(f"{folder} is not a run folder (no config.json)")
    return Run(folder)


def presets(method: str | None = None) -> dict[str, str]:
    """Preset names (of ``method``, or all) with the line that says what each is for."""
    from mnistmax.recipes import preset_about, preset_names

    return {name: preset_about(name) for name in preset_names(method)}


def datasets() -> dict[str, bool]:
    """Every catalogued dataset and whether it is ready here (embedded or fetched and
    verified); ``mnistmax data fetch --dataset NAME`` gets the others."""
    from mnistmax.data import catalog, store

    return {name: store.is_ready(catalog.get(name)) for name in catalog.names()}


__all__ = ["Run", "datasets", "load", "presets", "train"]
