"""Self-supervised (and SupCon) two-view methods on the shared training loop.

Every method here draws two views of each image with ONE batched augmentation call on
``cat([x, x])`` (each image gets its own draw), encodes both views in one forward pass (so
BatchNorm sees the 2B views together, as SimCLR's global BN), projects them with a head built
from a spec, and applies its loss from :mod:`mnistmax.losses`. ``embed(x)`` returns the encoder
features ``h`` — never projections — because evaluation and transfer use ``h``.

Each step logs a collapse monitor: the per-dimension standard deviation of L2-normalised
features, averaged over dimensions, times √D (≈ 1 for features spread over the sphere, → 0 when
every image maps to one point). ``collapse`` is on ``h``, ``collapse_z`` on the projections.

Methods: ``simclr`` (NT-Xent), ``supcon`` (labels, SupCon), ``byol`` (predictor, EMA target with
a cosine momentum schedule, updated in :meth:`Method.after_step`), ``swav`` (prototypes,
Sinkhorn-Knopp codes, optional queue), ``vicreg`` and ``barlow_twins``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mnistmax.augment import build_augment
from mnistmax.config import RunConfig, SSLConfig
from mnistmax.data import catalog
from mnistmax.data.splits import Split
from mnistmax.errors import ConfigError
from mnistmax.eval.embed import embed
from mnistmax.losses.barlow import barlow_twins_loss
from mnistmax.losses.byol import byol_loss, cosine_momentum, ema_update
from mnistmax.losses.contrastive import nt_xent_loss, supcon_loss
from mnistmax.losses.swav import sinkhorn, swav_loss
from mnistmax.losses.vicreg import vicreg_terms
from mnistmax.methods import METHODS
from mnistmax.methods.base import Method, StepOutput
from mnistmax.models.encoders import build_encoder
from mnistmax.training.precision import full_precision

__all__ = [
    "BYOL",
    "SSL_METHODS",
    "BarlowTwins",
    "SSLMethod",
    "SimCLR",
    "SupCon",
    "SwAV",
    "VICReg",
    "build_mlp",
    "collapse_std",
]


def build_mlp(in_dim: int, spec: str, *, where: str = "ssl.projector") -> nn.Module:
    """A head from a spec: ``"512-512-128"`` is two Linear→BN→ReLU blocks then Linear to 128.

    Args:
        in_dim: Input width.
        spec: Dash-separated widths; the last is the output; ``""`` gives ``nn.Identity``.
        where: Config field named in errors.

    Raises:
        ConfigError: The spec is not dash-separated positive integers.
    """
    if not spec.strip():
        return nn.Identity()
    try:
        widths = [int(w) for w in spec.split("-")]
    except ValueError:
        raise ConfigError(f"{where}={spec!r} must be dash-separated widths like 512-128") from None
    if any(w < 1 for w in widths):
        raise ConfigError(f"{where}={spec!r} must hold positive widths")
    layers: list[nn.Module] = []
    dim = in_dim
    for w in widths[:-1]:
        layers += [nn.Linear(dim, w, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True)]
        dim = w
    layers.append(nn.Linear(dim, widths[-1]))
    return nn.Sequential(*layers)


def head_dim(in_dim: int, spec: str) -> int:
    """Output width of :func:`build_mlp` for ``spec``."""
    return int(spec.split("-")[-1]) if spec.strip() else in_dim


def collapse_std(h: torch.Tensor) -> torch.Tensor:
    """``mean_j std_i(ĥ_ij) · √D`` of L2-normalised rows ĥ (≈ 1 healthy, ≈ 0 collapsed)."""
    u = F.normalize(h.detach().float(), dim=1)
    return u.std(dim=0).mean() * math.sqrt(u.shape[1])


class SSLMethod(Method):
    """Shared two-view wiring: encoder, projector, augmentation, collapse logs."""

    def __init__(self, cfg: RunConfig, **_: Any) -> None:
        super().__init__()
        self.ssl: SSLConfig = cfg.ssl
        self.encoder = build_encoder(
            cfg.model.encoder, embed_dim=cfg.model.embed_dim, dropout=cfg.model.dropout
        )
        self.projector = build_mlp(cfg.model.embed_dim, cfg.ssl.projector)
        self.proj_dim = head_dim(cfg.model.embed_dim, cfg.ssl.projector)
        self.augment = build_augment(
            cfg.ssl.augment, auto=catalog.get(cfg.data.dataset).augment.two_views
        )

    def two_views(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(2B, C, H, W): rows ``i`` and ``B + i`` are two independent views of image ``i``."""
        with full_precision(x.device):  # augmentation in float32 (training/precision.py)
            return self.augment(torch.cat([x, x]), generator=generator)

    def loss(
        self, h: torch.Tensor, z: torch.Tensor, xv: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The method's loss from features ``h`` and projections ``z`` of the 2B views."""
        raise NotImplementedError

    def training_step(
        self, x: torch.Tensor, y: torch.Tensor, *, generator: torch.Generator
    ) -> StepOutput:
        xv = self.two_views(x, generator)
        h = self.encoder(xv)
        z = self.projector(h)
        with full_precision(z.device):  # the loss in float32 (training/precision.py)
            h, z = h.float(), z.float()
            loss, extra = self.loss(h, z, xv, y)
            logs = {
                "loss": loss.detach(),
                "collapse": collapse_std(h),
                "collapse_z": collapse_std(z),
            }
            logs |= {k: v.detach() for k, v in extra.items()}
        return StepOutput(loss, logs, n_images=int(xv.shape[0]))

    @torch.no_grad()
    def validation_logs(self, val: Split, z: torch.Tensor | None = None) -> dict[str, float]:
        """Collapse monitor of ``h`` on (at most 1,000) validation images (no augmentation)."""

        if z is None:
            z = embed(self, val.x)
        return {"collapse": float(collapse_std(z[:1000]))}


@METHODS.register("simclr")
class SimCLR(SSLMethod):
    """SimCLR (Chen et al. 2020): NT-Xent between the two views' projections."""

    def loss(
        self, h: torch.Tensor, z: torch.Tensor, xv: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z1, z2 = z.chunk(2)
        return nt_xent_loss(z1, z2, temperature=self.ssl.temperature), {}


@METHODS.register("supcon")
class SupCon(SSLMethod):
    """Supervised contrastive (Khosla et al. 2020): positives are both views of every same-label image."""

    uses_labels = True

    def loss(
        self, h: torch.Tensor, z: torch.Tensor, xv: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return supcon_loss(z, torch.cat([y, y]), temperature=self.ssl.temperature), {}


@METHODS.register("byol")
class BYOL(SSLMethod):
    """BYOL (Grill et al. 2020): online predictor regresses the EMA target's projection."""

    def __init__(self, cfg: RunConfig, **kw: Any) -> None:
        super().__init__(cfg, **kw)
        if not cfg.ssl.predictor.strip():
            raise ConfigError("byol needs a predictor; set ssl.predictor, e.g. 512-128")
        if head_dim(self.proj_dim, cfg.ssl.predictor) != self.proj_dim:
            raise ConfigError(
                f"ssl.predictor={cfg.ssl.predictor!r} must end in the projection width {self.proj_dim}"
            )
        self.predictor = build_mlp(self.proj_dim, cfg.ssl.predictor, where="ssl.predictor")
        # The target is a copy whose weights follow the online ones by EMA; it gets no gradient,
        # so the loop's optimiser (which skips requires_grad=False) never touches it.
        self.target_encoder = copy.deepcopy(self.encoder)
        self.target_projector = copy.deepcopy(self.projector)
        for p in self._target_tensors():
            p.requires_grad_(False)
        self.momentum = cfg.ssl.ema_base

    def _target_tensors(self) -> list[torch.Tensor]:
        return [
            *self.target_encoder.parameters(),
            *self.target_projector.parameters(),
            *self.target_encoder.buffers(),
            *self.target_projector.buffers(),
        ]

    def _online_tensors(self) -> list[torch.Tensor]:
        return [
            *self.encoder.parameters(),
            *self.projector.parameters(),
            *self.encoder.buffers(),
            *self.projector.buffers(),
        ]

    def loss(
        self, h: torch.Tensor, z: torch.Tensor, xv: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        p1, p2 = self.predictor(z).chunk(2)
        with torch.no_grad():
            t1, t2 = self.target_projector(self.target_encoder(xv)).chunk(2)
        loss = byol_loss(p1, t2) + byol_loss(p2, t1)
        return loss, {"momentum": torch.tensor(self.momentum)}

    def after_step(self, step: int, total_steps: int) -> None:
        """EMA update of the target with the momentum of the step just taken."""
        self.momentum = cosine_momentum(step, total_steps, self.ssl.ema_base)
        ema_update(self._target_tensors(), self._online_tensors(), self.momentum)


@METHODS.register("swav")
class SwAV(SSLMethod):
    """SwAV (Caron et al. 2020): swapped prediction of Sinkhorn codes over learnable prototypes."""

    queue: torch.Tensor
    steps_done: torch.Tensor

    def __init__(self, cfg: RunConfig, **kw: Any) -> None:
        super().__init__(cfg, **kw)
        s = cfg.ssl
        if s.prototypes < 2:
            raise ConfigError(f"ssl.prototypes must be at least 2, got {s.prototypes}")
        if s.queue_size < 0:
            raise ConfigError(f"ssl.queue_size must be >= 0, got {s.queue_size}")
        self.prototypes = nn.Linear(self.proj_dim, s.prototypes, bias=False)
        self._normalise_prototypes()
        self.epochs = cfg.train.epochs
        # Queue of past (normalised) projections of both views; persistent for resumes.
        self.register_buffer("queue", torch.zeros(2, s.queue_size, self.proj_dim))
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self._step: int | None = None  # host copy of steps_done (read once, then tracked)
        self._total_steps = 0

    @torch.no_grad()
    def _normalise_prototypes(self) -> None:
        w = self.prototypes.weight
        w.copy_(F.normalize(w, dim=1))

    def _queue_active(self, batch: int) -> bool:
        s = self.ssl
        if s.queue_size == 0 or self._step is None:
            return False
        start = s.queue_start_epoch * self._total_steps // max(self.epochs, 1)
        # Only once the queue holds real projections (it fills batch by batch).
        return self._step >= start and self._step * batch >= s.queue_size

    def loss(
        self, h: torch.Tensor, z: torch.Tensor, xv: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self._step is None:
            self._step = int(self.steps_done)  # one host read per process (resume-safe)
        s = self.ssl
        u = F.normalize(z, dim=1)
        w = self.prototypes.weight
        if self._step < s.freeze_prototypes_steps:
            w = w.detach()  # SwAV freezes prototypes early on: they lag the encoder otherwise
        scores = u @ w.T
        s1, s2 = scores.chunk(2)
        b = s1.shape[0]
        with torch.no_grad():
            codes = []
            use_queue = self._queue_active(b)
            for v, sv in enumerate((s1, s2)):
                if use_queue:
                    sv = torch.cat([sv, self.queue[v] @ w.T])
                codes.append(sinkhorn(sv, epsilon=s.sinkhorn_epsilon, iters=s.sinkhorn_iters)[:b])
            if s.queue_size:
                u1, u2 = u.detach().chunk(2)
                new = torch.stack([u1, u2])[:, : s.queue_size]
                self.queue.copy_(torch.cat([new, self.queue], dim=1)[:, : s.queue_size])
        loss = swav_loss(s1, s2, codes[0], codes[1], temperature=s.swav_temperature)
        return loss, {"queue_on": torch.tensor(float(use_queue))}

    def after_step(self, step: int, total_steps: int) -> None:
        """Re-project the prototypes onto the sphere and count steps."""
        self._normalise_prototypes()
        self._step, self._total_steps = step, total_steps
        self.steps_done.fill_(step)


@METHODS.register("vicreg")
class VICReg(SSLMethod):
    """VICReg (Bardes et al. 2022): invariance + variance hinge + covariance penalty."""

    def loss(
        self, h: torch.Tensor, z: torch.Tensor, xv: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        s = self.ssl
        t = vicreg_terms(*z.chunk(2))
        loss = s.vicreg_sim * t["inv"] + s.vicreg_var * t["var"] + s.vicreg_cov * t["cov"]
        return loss, t


@METHODS.register("barlow_twins")
class BarlowTwins(SSLMethod):
    """Barlow Twins (Zbontar et al. 2021): cross-correlation of the views driven to identity."""

    def loss(
        self, h: torch.Tensor, z: torch.Tensor, xv: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        z1, z2 = z.chunk(2)
        return barlow_twins_loss(z1, z2, lambd=self.ssl.barlow_lambda), {}


#: The registered two-view methods, in registration order (derived, never listed by hand).
SSL_METHODS = tuple(
    name
    for name in METHODS.in_order()
    if issubclass(METHODS.factory(name), SSLMethod)  # type: ignore[arg-type]
)
