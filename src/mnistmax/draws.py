"""The "sample, then apply" half shared by augmentation ops and noise models.

An op that changes images at random is split in two: ``sample(n, generator, device,
image_shape) -> params`` draws every random number for ``n`` images, and a deterministic
``apply`` uses them. :class:`Sampled` writes ``sample`` once: it hands the subclass a
:class:`Draw` (the batch size, the generator and the image shape, with ``rand``/``randn``/
``uniform`` helpers), the subclass's ``draw(d)`` returns the params, and ``sample`` moves them
to ``device``.

Random numbers are drawn, and the params computed, on the generator's own device, then moved to
the images' device: a CPU generator drives GPU images and one seed gives one result everywhere.
How many numbers a draw takes, and in which order, is the op's reproducibility contract: the
same seed must give the same params, so a ``draw`` never depends on anything but its
configuration and ``d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "MNIST_SHAPE",
    "DeviceLike",
    "Draw",
    "ImageShape",
    "Params",
    "Sampled",
    "check_batch",
    "chw",
]

Params = dict[str, torch.Tensor]
"""One random draw for n images: tensors whose first dimension is n."""

ImageShape = tuple[int, int, int]
"""(C, H, W) of one image."""

DeviceLike = torch.device | str | None

MNIST_SHAPE: ImageShape = (1, 28, 28)


@dataclass(frozen=True)
class Draw:
    """What a draw is for: ``n`` images of shape ``image_shape``, numbers from ``generator``.

    The helpers return tensors of shape ``(n, *shape)`` on the generator's device; each call
    takes the next numbers from the generator, so the order of calls is part of the draw.
    """

    n: int
    generator: torch.Generator
    image_shape: ImageShape = MNIST_SHAPE

    def rand(self, *shape: int) -> torch.Tensor:
        """(n, *shape) uniform numbers in [0, 1)."""
        return torch.rand(self.n, *shape, generator=self.generator, device=self.generator.device)

    def randn(self, *shape: int) -> torch.Tensor:
        """(n, *shape) standard normal numbers."""
        return torch.randn(self.n, *shape, generator=self.generator, device=self.generator.device)

    def uniform(self, lo: float, hi: float, *shape: int) -> torch.Tensor:
        """(n, *shape) uniform numbers in [lo, hi); exactly ``lo`` when lo == hi."""
        return lo + (hi - lo) * self.rand(*shape)


class Sampled:
    """Base of the ops whose randomness is drawn by ``sample`` and used by a deterministic apply.

    Subclasses implement :meth:`draw` (and their own ``apply``).
    """

    def draw(self, d: Draw) -> Params:
        """The params of ``d.n`` images, on the generator's device."""
        raise NotImplementedError

    def sample(
        self,
        n: int,
        generator: torch.Generator,
        device: DeviceLike = None,
        image_shape: ImageShape = MNIST_SHAPE,
    ) -> Params:
        """Draw parameters for ``n`` images of shape ``image_shape`` (C, H, W) on ``device``.

        Args:
            n: Number of images.
            generator: Source of randomness; the same seed gives the same params.
            device: Where the params go (None: the generator's device).
            image_shape: (C, H, W) of the images the params are for.

        Returns:
            Tensors whose first dimension is ``n``.
        """
        params = self.draw(Draw(n, generator, image_shape))
        return {k: v.to(device) for k, v in params.items()}


def chw(x: torch.Tensor) -> ImageShape:
    """The (C, H, W) of a (B, C, H, W) batch, as ``sample`` expects it."""
    c, h, w = x.shape[1:]
    return int(c), int(h), int(w)


def check_batch(x: torch.Tensor, what: str) -> None:
    """Raise ValueError unless ``x`` is a (B, C, H, W) floating batch (``what`` names the user)."""
    if x.ndim != 4 or not x.is_floating_point():
        raise ValueError(
            f"{what} expects a float (B, C, H, W) batch, got {x.dtype} {tuple(x.shape)}"
        )
