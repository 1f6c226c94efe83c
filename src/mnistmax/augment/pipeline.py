"""A composable augmentation pipeline with per-op probabilities and group-shared draws.

``Pipeline(ops, p)(x, generator=g, groups=G)`` treats ``x`` as G consecutive blocks of
B = len(x) // G images and draws B sets of parameters — which ops fire, and each op's parameters
— then applies draw i to the i-th image of every block. With ``groups=3`` on
``torch.cat([anchor, positive, negative])`` the three members of a triplet get the same rotation,
shift, brightness and noise (the reference project's "consistent augmentation"); ``groups=1`` is
the usual one-draw-per-image mode.

A pipeline satisfies the same ``sample``/``apply`` protocol as its ops, so pipelines nest.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mnistmax.augment.ops import AugmentOp, Op
from mnistmax.draws import Draw, Params
from mnistmax.errors import ConfigError

__all__ = ["Pipeline"]


class Pipeline(Op):
    """Apply ops in order, each to a random subset of the images.

    Called as an op, ``pipeline(x, generator=g, groups=G)`` (see :meth:`Op.__call__` and the
    module docstring for ``groups``): the batch keeps its shape, dtype and device, and ``x``
    itself comes back when nothing applies; a ValueError says when ``x`` is not a float 4-D batch
    or does not split into ``groups`` blocks.

    Args:
        ops: The ops, applied in order (anything with ``sample``/``apply``/``is_identity``).
        p: Probability that each op fires for an image: one number for every op or one per op.
            The coin is tossed per image (per group position in group mode).

    Raises:
        ConfigError: A probability lies outside [0, 1] or ``p`` has the wrong length.
    """

    def __init__(self, ops: Sequence[AugmentOp], p: float | Sequence[float] = 1.0) -> None:
        self.ops: tuple[AugmentOp, ...] = tuple(ops)
        probs = [float(p)] * len(self.ops) if isinstance(p, int | float) else [float(v) for v in p]
        if len(probs) != len(self.ops):
            raise ConfigError(f"pipeline has {len(self.ops)} ops but {len(probs)} probabilities")
        if any(not 0 <= v <= 1 for v in probs):
            raise ConfigError(f"op probabilities must lie in [0, 1], got {probs}")
        self.p: tuple[float, ...] = tuple(probs)

    def _active(self) -> list[tuple[int, AugmentOp, float]]:
        # Ops that can change an image; the rest neither draw random numbers nor cost time.
        return [
            (i, op, q)
            for i, (op, q) in enumerate(zip(self.ops, self.p, strict=True))
            if q > 0 and not op.is_identity
        ]

    @property
    def is_identity(self) -> bool:
        """True when no op can change an image."""
        return not self._active()

    def draw(self, d: Draw) -> Params:
        """Draw, for ``n`` images, which ops fire (``"{i}.on"``) and their parameters (``"{i}.*"``).

        Ops are drawn in order, each op's coin before its parameters, so a draw is reproducible
        from the generator's seed alone.
        """
        params: Params = {}
        for i, op, q in self._active():
            if q < 1:
                params[f"{i}.on"] = d.rand() < q
            for key, value in op.sample(d.n, d.generator, None, d.image_shape).items():
                params[f"{i}.{key}"] = value
        return params

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """Apply a draw from :meth:`sample` (images whose coin failed pass through exactly)."""
        for i, op, q in self._active():
            prefix = f"{i}."
            sub = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
            on = sub.pop("on", None)
            out = op.apply(x, sub)
            if q < 1 and on is not None:
                # A select, not a gather of the chosen images: no device sync and fixed shapes.
                out = torch.where(on.to(x.device).view(-1, 1, 1, 1), out, x)
            x = out
        return x

    def __repr__(self) -> str:
        inner = ", ".join(f"{op!r} (p={q:g})" for op, q in zip(self.ops, self.p, strict=True))
        return f"Pipeline([{inner}])"
