"""VICReg: variance-invariance-covariance regularisation.

Bardes, Ponce and LeCun, "VICReg", ICLR 2022 (eqs. 1–6 and the official code):

* invariance ``s = mean‖z − z′‖²`` per element (``F.mse_loss``);
* variance ``v(Z) = mean_j relu(γ − sqrt(Var(z_j) + ε))`` with unbiased variance, γ = 1,
  ε = 1e-4, averaged over the two branches (the code's ``/ 2``);
* covariance ``c(Z) = Σ_{i≠j} C(Z)_{ij}² / D`` with the unbiased covariance, summed over the two
  branches;
* loss ``λ s + μ [v(Z) + v(Z′)] / 2 + ν [c(Z) + c(Z′)]`` with λ = μ = 25, ν = 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mnistmax.errors import ConfigError

__all__ = ["covariance_term", "variance_term", "vicreg_loss", "vicreg_terms"]


def variance_term(z: torch.Tensor, *, gamma: float = 1.0, eps: float = 1e-4) -> torch.Tensor:
    """Hinge on the per-dimension standard deviation: ``mean_j relu(γ − sqrt(Var z_j + ε))``."""
    std = torch.sqrt(z.float().var(dim=0) + eps)
    return F.relu(gamma - std).mean()


def covariance_term(z: torch.Tensor) -> torch.Tensor:
    """Sum of squared off-diagonal covariances over the dimension D."""
    z = z.float()
    n, d = z.shape
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / max(n - 1, 1)
    off = cov - torch.diag(torch.diagonal(cov))
    return off.pow(2).sum() / d


def vicreg_terms(z1: torch.Tensor, z2: torch.Tensor) -> dict[str, torch.Tensor]:
    """The three VICReg terms of two views (B, D): ``inv``, ``var`` (mean of branches), ``cov``."""
    if z1.shape != z2.shape or z1.dim() != 2 or z1.shape[0] < 2:
        raise ConfigError(
            f"vicreg needs two (B >= 2, D) views of one shape, got {z1.shape}, {z2.shape}"
        )
    return {
        "inv": F.mse_loss(z1.float(), z2.float()),
        "var": (variance_term(z1) + variance_term(z2)) / 2,
        "cov": covariance_term(z1) + covariance_term(z2),
    }


def vicreg_loss(
    z1: torch.Tensor,
    z2: torch.Tensor,
    *,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 1.0,
) -> torch.Tensor:
    """``λ·inv + μ·var + ν·cov`` (see the module docstring)."""
    t = vicreg_terms(z1, z2)
    return sim_weight * t["inv"] + var_weight * t["var"] + cov_weight * t["cov"]
