"""mnistmax: representation learning on MNIST-family datasets.

Metric learning, self-supervised pretraining, denoising autoencoders and an evaluation
protocol the field trusts, fast on one CPU and on a GPU alike.

The Python API (``docs/api.md``)::

    import mnistmax

    run = mnistmax.training("triplet_quick", overrides={"train.epochs": 2})
    print(run.metrics["test/knn@20"])
    features, labels = run.embed("test")
    run.plot("umap")

Importing mnistmax is cheap and changes no global state: the API (and torch) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnistmax.version import __version__

if TYPE_CHECKING:
    from mnistmax.api import Run, datasets, load, presets, train

_API = ("Run", "datasets", "load", "presets", "train")


def __getattr__(name: str) -> Any:
    # PEP 562: the API module (and torch with it) is imported on first use, so that the CLI's
    # light commands and `import mnistmax` stay fast.
    if name in _API:
        from mnistmax import api  # start-up: the API and torch load on first use

        return getattr(api, name)
    raise AttributeError(f"module 'mnistmax' has no attribute {name!r}")


__all__ = ["Run", "__version__", "datasets", "load", "presets", "train"]
