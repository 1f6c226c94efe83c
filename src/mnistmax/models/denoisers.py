"""Denoisers: ``forward(x_noisy) -> logits`` of the clean image, same shape as the input.

Every model returns **logits** (the denoised image is ``sigmoid(logits)``, see
:meth:`Denoiser.denoise`); ``forward_train`` also returns an auxiliary loss (the VAE's KL term,
zero for the others). :class:`Constrained` wraps any of them so that the output is
``x_noisy · sigmoid(mask_logits)``: it can only switch pixels off (the reference's
"auto-ablation" denoiser).

* ``conv_ae`` — the reference's shape: two conv+pool stages down to 7×7, two up.
* ``unet`` — U-Net (Ronneberger et al. 2015) at 28→14→7 with skip connections, BatchNorm.

``unet``, ``residual`` and ``attention`` add a learnable global skip ``a·(x − ½)`` (a = 6 at
init) to their logits, so they start near the identity and learn the correction (residual
learning, as in DnCNN, Zhang et al. 2017); ``conv_ae`` and ``vae`` are pure bottleneck
autoencoders, like the reference's.

* ``residual`` — a stack of residual blocks (He et al. 2016) at full resolution, registered in
  an ``nn.ModuleList`` so they train, plus a learnable global skip from the input.
* ``attention`` — conv encoder to 7×7, transformer self-attention over the 49 positions with
  learned position embeddings (Vaswani et al. 2017), conv decoder with a skip from 14×14.
* ``vae`` — a convolutional VAE (Kingma & Welling 2014) that maps noisy to clean images; the KL
  term is optimised (``forward_train``) and inference decodes the posterior mean.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from mnistmax.registry import Registry

__all__ = [
    "DENOISERS",
    "Constrained",
    "Denoiser",
    "build_denoiser",
]


class Denoiser(nn.Module):
    """Base class: ``forward(x) -> logits``; ``denoise(x) -> x_hat`` in [0, 1]."""

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(output logits, auxiliary loss) for a training step."""
        return self(x), x.new_zeros(())

    def to_image(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Turn this model's raw output into an image in [0, 1]."""
        del x
        return torch.sigmoid(out)

    def denoise(self, x: torch.Tensor) -> torch.Tensor:
        """The denoised image ``x_hat`` in [0, 1]."""
        return self.to_image(self(x), x)


DENOISERS: Registry[Denoiser] = Registry("denoiser")


def build_denoiser(
    name: str, *, width: int = 32, constrained: bool = False, **kwargs: Any
) -> Denoiser:
    """Build a registered denoiser, optionally wrapped in :class:`Constrained`."""
    model = DENOISERS.build(name, width=width, **kwargs)
    return Constrained(model) if constrained else model


def _block(cin: int, cout: int, bn: bool = True) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=not bn),
        *([nn.BatchNorm2d(cout)] if bn else []),
        nn.ReLU(inplace=True),
    )


@DENOISERS.register("conv_ae")
class ConvAE(Denoiser):
    """Conv(w)→pool→Conv(2w)→pool→Conv(2w)→up→Conv(w)→up→Conv(1); no BatchNorm (as the reference)."""

    def __init__(self, width: int = 32, **_: Any) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            _block(1, w, bn=False),
            nn.MaxPool2d(2),
            _block(w, 2 * w, bn=False),
            nn.MaxPool2d(2),
            _block(2 * w, 2 * w, bn=False),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _block(2 * w, w, bn=False),
            nn.Upsample(scale_factor=2, mode="nearest"),
            _block(w, w, bn=False),
            nn.Conv2d(w, 1, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@DENOISERS.register("unet")
class UNet(Denoiser):
    """Two-level U-Net: 28×28 (w) → 14×14 (2w) → 7×7 (4w) and back with concatenated skips."""

    def __init__(self, width: int = 32, **_: Any) -> None:
        super().__init__()
        w = width
        self.enc1 = nn.Sequential(_block(1, w), _block(w, w))
        self.enc2 = nn.Sequential(_block(w, 2 * w), _block(2 * w, 2 * w))
        self.mid = nn.Sequential(_block(2 * w, 4 * w), _block(4 * w, 4 * w))
        self.up2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2)
        self.dec2 = nn.Sequential(_block(4 * w, 2 * w), _block(2 * w, 2 * w))
        self.up1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.dec1 = nn.Sequential(_block(2 * w, w), _block(w, w))
        self.out = nn.Conv2d(w, 1, 1)
        self.skip = nn.Parameter(torch.tensor(6.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return self.out(d1) + self.skip * (x - 0.5)


class ResBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus identity, then ReLU (He et al. 2016)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.body(x))


@DENOISERS.register("residual")
class ResidualDenoiser(Denoiser):
    """Stem → ``blocks`` residual blocks → 1×1 head, plus a
    learnable global skip ``a·(x − ½)`` added to the logits, so the identity is easy to learn."""

    def __init__(self, width: int = 32, blocks: int = 4, **_: Any) -> None:
        super().__init__()
        self.stem = _block(1, width)
        self.blocks = nn.ModuleList(ResBlock(width) for _ in range(blocks))
        self.head = nn.Conv2d(width, 1, 1)
        self.skip = nn.Parameter(torch.tensor(6.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h) + self.skip * (x - 0.5)


@DENOISERS.register("attention")
class AttentionDenoiser(Denoiser):
    """Conv encoder to 7×7×2w, ``layers`` transformer encoder layers over the 49 positions
    (learned position embeddings, 4 heads), conv decoder with a skip from the 14×14 stage."""

    def __init__(self, width: int = 32, layers: int = 2, heads: int = 4, **_: Any) -> None:
        super().__init__()
        w = width
        d = 2 * w
        self.enc1 = _block(1, w)
        self.enc2 = _block(w, d)
        self.pos = nn.Parameter(torch.randn(1, 49, d) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d, heads, dim_feedforward=2 * d, dropout=0.0, batch_first=True, norm_first=True
        )
        self.attn = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.up2 = nn.ConvTranspose2d(d, d, 2, stride=2)
        self.dec2 = _block(2 * d, w)
        self.up1 = nn.ConvTranspose2d(w, w, 2, stride=2)
        self.dec1 = _block(2 * w, w)
        self.out = nn.Conv2d(w, 1, 1)
        self.skip = nn.Parameter(torch.tensor(6.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)  # 28×28
        e2 = self.enc2(F.max_pool2d(e1, 2))  # 14×14
        m = F.max_pool2d(e2, 2)  # 7×7
        b, c, h, w = m.shape
        tokens = m.flatten(2).transpose(1, 2) + self.pos
        m = self.attn(tokens).transpose(1, 2).reshape(b, c, h, w)
        d2 = self.dec2(torch.cat([self.up2(m), e2], 1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))
        return self.out(d1) + self.skip * (x - 0.5)


@DENOISERS.register("vae")
class VAEDenoiser(Denoiser):
    """Conv encoder → (μ, log σ²) of a ``latent``-d Gaussian → conv decoder of the clean image.

    ``forward_train`` samples z = μ + σ·ε and returns the KL divergence to N(0, I) per image,
    divided by the number of pixels (so that, next to a per-pixel reconstruction loss, a weight
    of 1 is the ELBO); ``forward`` decodes μ.
    """

    def __init__(self, width: int = 32, latent: int = 32, **_: Any) -> None:
        super().__init__()
        w = width
        self.enc = nn.Sequential(
            _block(1, w), nn.MaxPool2d(2), _block(w, 2 * w), nn.MaxPool2d(2), nn.Flatten()
        )
        self.stats = nn.Linear(2 * w * 49, 2 * latent)
        self.fc = nn.Linear(latent, 2 * w * 49)
        self.dec = nn.Sequential(
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
            _block(2 * w, w),
            nn.Upsample(scale_factor=2),
            _block(w, w),
            nn.Conv2d(w, 1, 3, padding=1),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each (B, latent)."""
        mu, logvar = self.stats(self.enc(x)).chunk(2, dim=1)
        return mu, logvar.clamp(-10, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu, _ = self.encode(x)
        return self.dec(self.fc(mu))

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1).mean()
        return self.dec(self.fc(z)), kl / x[0].numel()


class Constrained(Denoiser):
    """Wraps a denoiser so that ``x_hat = x_noisy · sigmoid(mask_logits)`` (it only removes ink).

    The inner model's logits are read as a keep-mask; the output can never exceed the input, for
    any weights and any input in [0, 1].
    """

    def __init__(self, inner: Denoiser) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)

    def forward_train(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.inner.forward_train(x)

    def to_image(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(out)
