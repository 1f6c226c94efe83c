"""Contrastive losses: NT-Xent (SimCLR) and supervised contrastive (SupCon).

* NT-Xent — Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations"
  (SimCLR), ICML 2020, eq. (1): for each of the 2B views, cross-entropy of its cosine
  similarities / ``temperature`` to the other 2B − 1 views, the positive being its twin view.
  Averaged over all 2B anchors, as in the paper's ``L = 1/2N Σ_k [l(2k−1, 2k) + l(2k, 2k−1)]``.
  When ``torch.distributed`` is initialised with more than one process, the keys (negatives) are
  gathered from every process with gradients, so the effective batch is the global one.
* SupCon — Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, ``L^sup_out`` (eq. 2):
  every other view of the same class is a positive and the log-probabilities of the positives are
  averaged per anchor. Departure: the paper's code multiplies the loss by
  ``temperature / base_temperature``; we leave that constant factor out (it only rescales the
  learning rate). Anchors without any positive are skipped; if none has one the loss is a
  differentiable zero.

NT-Xent is SupCon with one "class" per source image; the tests check that identity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mnistmax.errors import ConfigError

__all__ = ["gather_with_grad", "nt_xent_loss", "supcon_loss"]


def gather_with_grad(u: torch.Tensor) -> tuple[torch.Tensor, int]:
    """All rows of ``u`` from every process (gradients flow back) and this process's rank.

    Without an initialised process group (the usual single-process case) this is ``(u, 0)``.
    """
    import torch.distributed as dist  # only under torch.distributed

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return u, 0
    from torch.distributed.nn.functional import all_gather  # only under torch.distributed

    return torch.cat(all_gather(u)), dist.get_rank()


def nt_xent_loss(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.1) -> torch.Tensor:
    """NT-Xent of two views ``z1``, ``z2`` (B, P); row ``i`` of each comes from one image.

    Args:
        z1: Projections of the first views (unnormalised; L2-normalised here).
        z2: Projections of the second views, same shape.
        temperature: The softmax temperature τ (SimCLR's best on ImageNet is 0.1 for large
            batches; 0.2–0.5 for small ones).

    Returns:
        The mean loss over the 2B anchors (a 0-dim tensor).
    """
    if z1.shape != z2.shape or z1.dim() != 2 or z1.shape[0] < 1:
        raise ConfigError(
            f"nt_xent needs two (B, P) views of one shape, got {z1.shape}, {z2.shape}"
        )
    if temperature <= 0:
        raise ConfigError(f"ssl.temperature must be positive, got {temperature}")
    b = z1.shape[0]
    u1, u2 = F.normalize(z1.float(), dim=1), F.normalize(z2.float(), dim=1)
    g1, rank = gather_with_grad(u1)
    g2, _ = gather_with_grad(u2)
    n = g1.shape[0]  # global batch
    queries = torch.cat([u1, u2])
    keys = torch.cat([g1, g2])
    logits = queries @ keys.T / temperature  # (2B, 2N)
    local = torch.arange(b, device=z1.device) + rank * b
    self_idx = torch.cat([local, local + n])
    pos_idx = torch.cat([local + n, local])
    rows = torch.arange(2 * b, device=z1.device)
    # -inf on each anchor's own column: it is neither a positive nor a negative.
    logits = logits.index_put((rows, self_idx), torch.tensor(float("-inf"), device=z1.device))
    return F.cross_entropy(logits, pos_idx)


def supcon_loss(z: torch.Tensor, y: torch.Tensor, *, temperature: float = 0.1) -> torch.Tensor:
    """SupCon ``L^sup_out`` over all views ``z`` (N, P) with labels ``y`` (N,).

    Pass every view of the batch, e.g. ``cat([z1, z2])`` with ``cat([y, y])``.

    Args:
        z: Projections (unnormalised; L2-normalised here).
        y: Integer labels; views of one image share its label.
        temperature: The softmax temperature τ (the paper uses 0.1).

    Returns:
        Mean over anchors that have at least one positive; a differentiable zero if none has.
    """
    if z.dim() != 2 or y.shape != (z.shape[0],):
        raise ConfigError(
            f"supcon needs z (N, P) and y (N,), got {tuple(z.shape)}, {tuple(y.shape)}"
        )
    if temperature <= 0:
        raise ConfigError(f"ssl.temperature must be positive, got {temperature}")
    u = F.normalize(z.float(), dim=1)
    n = u.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = (u @ u.T / temperature).masked_fill(eye, float("-inf"))
    log_prob = logits.log_softmax(dim=1)
    pos = (y[:, None] == y[None, :]) & ~eye
    n_pos = pos.sum(dim=1)
    # where() rather than multiply: log_prob is -inf on the diagonal and 0 * -inf is nan.
    pos_log_prob = torch.where(pos, log_prob, torch.zeros_like(log_prob)).sum(dim=1)
    valid = n_pos > 0
    per_anchor = -pos_log_prob / n_pos.clamp_min(1)
    # Masked mean without a host sync: anchors with no positive weigh zero; all-invalid gives
    # 0 * finite = a zero that still has a grad_fn.
    weight = valid.float()
    return (per_anchor * weight).sum() / weight.sum().clamp_min(1.0)
