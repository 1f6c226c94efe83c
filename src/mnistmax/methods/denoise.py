"""Denoising autoencoders as a method of the shared training loop.

Each step corrupts the clean batch on the fly (per-image random intensity, clean ratio and the
curriculum ramp of :class:`~mnistmax.noise.sampling.NoiseSampler`), runs the denoiser and scores
its image against the clean target with the configured reconstruction loss (plus the VAE's KL
term). Validation scores a fixed noisy validation subset (fixed noise seed and intensity) so that
``val/psnr`` can drive model selection in :func:`mnistmax.training.loop.fit`.

The optimiser-step counter is a buffer, so the curriculum resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from mnistmax.config import RunConfig
from mnistmax.data.loader import epoch_batches
from mnistmax.data.splits import Split
from mnistmax.errors import ConfigError
from mnistmax.eval.denoise_metrics import psnr, set_psnr, ssim
from mnistmax.losses.reconstruction import kept_noise_loss, reconstruction_loss
from mnistmax.methods import METHODS
from mnistmax.methods.base import Method, StepOutput
from mnistmax.models.denoisers import Denoiser, build_denoiser
from mnistmax.noise import build_noise
from mnistmax.noise.sampling import NoiseSampler
from mnistmax.training.precision import full_precision

TRACKS = ("gray", "bitmap")
VAL_IMAGES = 1000  # fixed validation subset scored after every epoch


def prepare_clean(x: torch.Tensor, track: str) -> torch.Tensor:
    """The clean target of a track: ``x`` itself (gray) or ``x`` binarised at 0.5 (bitmap)."""
    if track == "gray":
        return x
    if track == "bitmap":
        return (x > 0.5).to(x.dtype)
    raise ConfigError(f"denoise.track must be one of {', '.join(TRACKS)}, not {track!r}")


@METHODS.register("denoise")
class DenoiseMethod(Method):
    """A denoiser trained to map noisy digits to clean ones."""

    family = "denoising"

    def inference_module(self) -> torch.nn.Module:
        return self.model

    def __init__(self, cfg: RunConfig, **_: Any) -> None:
        super().__init__()
        d = cfg.denoise
        prepare_clean(torch.zeros(1), d.track)  # validates the track early
        self.cfg = d
        self.model: Denoiser = build_denoiser(
            d.model,
            width=d.width,
            constrained=d.constrained,
            **({"latent": 32} if d.model == "vae" else {}),
        )
        self.loss_fn = reconstruction_loss(d.loss)
        if d.removal_weight < 1 or (d.removal_weight != 1 and not d.constrained):
            raise ConfigError(
                f"denoise.removal_weight={d.removal_weight}: use a weight >= 1, and only with "
                "denoise.constrained=true"
            )
        if d.single_ratio and d.noise != "mixed":
            raise ConfigError(
                f"denoise.single_ratio applies to the 'mixed' training noise, not {d.noise!r}"
            )
        self.op = build_noise(d.noise, **({"single": d.single_ratio} if d.single_ratio else {}))
        self.steps_per_epoch = max(1, cfg.train.steps_per_epoch or 1)
        self.step: torch.Tensor
        self.register_buffer("step", torch.zeros((), dtype=torch.long))
        self._val: tuple[torch.Tensor, torch.Tensor] | None = None

    def sampler(self) -> NoiseSampler:
        """The training noise sampler (its ramp length follows the epoch length)."""
        d = self.cfg
        return NoiseSampler(
            self.op,
            low=d.intensity_min,
            high=d.intensity_max,
            clean_ratio=d.clean_ratio,
            ramp_steps=round(d.curriculum_epochs * self.steps_per_epoch),
        )

    def batches(
        self, train: Split, steps: int, batch_size: int, *, generator: torch.Generator
    ) -> Iterator[torch.Tensor]:
        """``steps`` shuffled batches, re-shuffling after each pass (an epoch may be several)."""

        if batch_size > len(train):
            raise ConfigError(f"batch size {batch_size} exceeds the {len(train)} training images")
        self.steps_per_epoch = steps
        done = 0
        while done < steps:
            for idx in epoch_batches(
                len(train), batch_size, generator=generator, drop_last=True, device=train.y.device
            ):
                if done >= steps:
                    return
                done += 1
                yield idx

    def denoise(self, x_noisy: torch.Tensor) -> torch.Tensor:
        """The denoised image in [0, 1]."""
        return self.model.denoise(x_noisy)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Features for the generic evaluation: the denoised image, flattened (B, H·W)."""
        return self.denoise(x).flatten(1)

    def training_step(
        self, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator
    ) -> StepOutput:
        del y
        with full_precision(x.device):  # noise in float32 (training/precision.py)
            clean = prepare_clean(x, self.cfg.track)
            noisy, intensity = self.sampler()(clean, int(self.step), generator=generator)
        out, aux = self.model.forward_train(noisy)
        with full_precision(out.device):  # the loss in float32 (training/precision.py)
            x_hat = self.model.to_image(out.float(), noisy)
            rec = self.loss_fn(x_hat, clean)
            if self.cfg.removal_weight != 1:
                rec = rec + (self.cfg.removal_weight - 1) * kept_noise_loss(x_hat, noisy, clean)
            loss = rec + self.cfg.kl_weight * aux.float()
        self.step.add_(1)
        logs = {
            "loss": loss.detach(),
            "recon": rec.detach(),
            "psnr": psnr(x_hat.detach(), clean).mean(),
            "intensity": intensity.mean(),
        }
        if self.cfg.model == "vae":
            logs["kl"] = aux.detach()
        return StepOutput(loss, logs, n_images=int(x.shape[0]))

    def validation_set(self, val: Split) -> tuple[torch.Tensor, torch.Tensor]:
        """(clean, noisy) of the fixed validation subset (cached)."""
        if self._val is None:
            clean = prepare_clean(val.x[:VAL_IMAGES], self.cfg.track)
            g = torch.Generator(device="cpu").manual_seed(self.cfg.noise_seed)
            noisy = self.op(clean.cpu(), self.cfg.val_intensity, generator=g).to(clean.device)
            self._val = (clean, noisy)
        return self._val

    @torch.no_grad()
    def validation_logs(self, val: Split, z: torch.Tensor | None = None) -> dict[str, float]:
        """Loss, PSNR and SSIM on fixed noisy validation images (no test data)."""
        was_training = self.training
        self.eval()
        clean, noisy = self.validation_set(val)
        x_hat = torch.cat([self.denoise(noisy[i : i + 500]) for i in range(0, len(noisy), 500)])
        self.train(was_training)
        return {
            "loss": float(self.loss_fn(x_hat, clean)),
            "psnr": set_psnr(x_hat, clean),
            "ssim": float(ssim(x_hat, clean).mean()),
        }
