"""SwAV: Sinkhorn-Knopp equipartitioned codes and the swapped-prediction loss.

Caron et al., "Unsupervised Learning of Visual Features by Contrasting Cluster Assignments",
NeurIPS 2020 (Algorithm 1 and §3.1):

* :func:`sinkhorn` turns prototype scores (B, K) into soft codes ``Q`` by alternately
  normalising ``exp(scores / ε)``: every sample's row sums to exactly 1 (it is a distribution
  over prototypes) and every prototype's column sums to ≈ B / K (equipartition), the closer the
  more iterations. As in the paper, codes are computed without gradient. Departure: the
  iterations run in the log domain in float64 (the paper's code exponentiates first, which
  under/overflows for peaked scores); the result is the same where both are finite.
* :func:`swav_loss` is the swapped prediction ``−½ Σ [q₂ log softmax(s₁/τ) + q₁ log softmax(s₂/τ)]``
  averaged over the batch (two views, no multi-crop).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mnistmax.errors import ConfigError

__all__ = ["sinkhorn", "swav_loss"]


@torch.no_grad()
def sinkhorn(scores: torch.Tensor, *, epsilon: float = 0.05, iters: int = 3) -> torch.Tensor:
    """Soft codes (B, K): rows sum to 1, columns to ≈ B / K.

    Args:
        scores: Sample-by-prototype scores (B, K), usually cosine similarities.
        epsilon: Entropy regularisation ε (the paper uses 0.05).
        iters: Sinkhorn-Knopp iterations (the paper uses 3).
    """
    if scores.dim() != 2:
        raise ConfigError(f"sinkhorn needs scores of shape (B, K), got {tuple(scores.shape)}")
    if epsilon <= 0 or iters < 1:
        raise ConfigError(f"sinkhorn needs epsilon > 0 and iters >= 1, got {epsilon}, {iters}")
    # Log domain: exp(s / ε) under- or overflows for peaked scores even in float64, and a
    # prototype whose column underflows to 0 would turn into 0 / 0.
    log_q = scores.detach().double() / epsilon
    b, k = log_q.shape
    log_q = log_q - torch.logsumexp(log_q.flatten(), dim=0)
    for _ in range(iters):
        log_q = log_q - torch.logsumexp(log_q, dim=0, keepdim=True) - math.log(k)  # mass 1/K
        log_q = log_q - torch.logsumexp(log_q, dim=1, keepdim=True) - math.log(b)  # mass 1/B
    return torch.exp(log_q + math.log(b)).to(scores.dtype)


def swav_loss(
    scores1: torch.Tensor,
    scores2: torch.Tensor,
    q1: torch.Tensor,
    q2: torch.Tensor,
    *,
    temperature: float = 0.1,
) -> torch.Tensor:
    """Swapped prediction: view 1's scores predict view 2's codes and vice versa.

    Args:
        scores1: Prototype scores of view 1 (B, K).
        scores2: Prototype scores of view 2 (B, K).
        q1: Codes of view 1 (B, K), constants (from :func:`sinkhorn`).
        q2: Codes of view 2 (B, K).
        temperature: Softmax temperature τ (the paper uses 0.1).
    """
    if not scores1.shape == scores2.shape == q1.shape == q2.shape:
        raise ConfigError("swav_loss needs scores and codes of one (B, K) shape")
    if temperature <= 0:
        raise ConfigError(f"ssl.temperature must be positive, got {temperature}")
    lp1 = F.log_softmax(scores1.float() / temperature, dim=1)
    lp2 = F.log_softmax(scores2.float() / temperature, dim=1)
    return -0.5 * ((q2.detach() * lp1).sum(dim=1) + (q1.detach() * lp2).sum(dim=1)).mean()
