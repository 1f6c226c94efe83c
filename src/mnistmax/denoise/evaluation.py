"""The evaluation sweep: every noise type × intensity, the model beside the classical baselines.

For each (noise, I) the test images (the first ``eval_size``, clean targets per the track) are
corrupted once with a fixed seed (``denoise.noise_seed``; the same draw for every method and,
thanks to common random numbers, nested across intensities), then the model and every baseline
are scored with :class:`~mnistmax.eval.denoise_metrics.DenoiseMeter` and the reference
classifier's accuracy on their output (``downstream_acc``; ``clean_acc`` is its accuracy on
the clean images). ``I = 0`` is the identity for every type, so it is computed once and shared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from mnistmax.config import RunConfig
from mnistmax.denoise.baselines import baselines
from mnistmax.eval.denoise_metrics import DenoiseMeter
from mnistmax.eval.metric import declare
from mnistmax.methods.denoise import prepare_clean
from mnistmax.noise import ADDITIVE_NOISES, GRAY_NOISES, build_noise
from mnistmax.progress import progress

Denoise = Callable[[torch.Tensor], torch.Tensor]
CHUNK = 1000

ROW_KEYS = (
    "noise", "intensity", "method", "psnr", "ssim", "mse", "bce", "pixel_acc", "dice", "iou",
    "precision", "recall", "f1", "specificity", "fpr", "image_acc", "hamming", "downstream_acc",
    "clean_acc",
)  # fmt: skip


#: The intensity of the headline numbers (eval.json ``test/*@0.5``, the report's columns).
HEADLINE_LEVEL = 0.5
#: The report's columns: PSNR and SSIM at I = 0.5 on the run's own training noise (``mixed``
#: when the sweep lacks it, else the first swept noise); baselines on the same draw.
OWN_NOISE_PSNR = declare("own_noise/psnr@0.5", f"PSNR @ I={HEADLINE_LEVEL}", "f2")
OWN_NOISE_SSIM = declare("own_noise/ssim@0.5", f"SSIM @ I={HEADLINE_LEVEL}", "f3")


def default_noises(cfg: RunConfig) -> tuple[str, ...]:
    """The sweep's noise types: the config's list, else the additive family for a constrained
    model, else the grayscale zoo (``pixel_flip`` only on the bitmap track)."""
    d = cfg.denoise
    if d.eval_noises:
        return tuple(d.eval_noises)
    if d.constrained or d.noise in ADDITIVE_NOISES:
        return ADDITIVE_NOISES
    if d.track == "bitmap":
        return GRAY_NOISES
    return tuple(n for n in GRAY_NOISES if n != "pixel_flip")


def model_label(cfg: RunConfig) -> str:
    """How the model is named in tables (``unet``, ``unet+constrained``)."""
    return cfg.denoise.model + ("+constrained" if cfg.denoise.constrained else "")


@torch.no_grad()
def evaluate_sweep(
    model: Denoise,
    label: str,
    clean_x: torch.Tensor,
    labels: torch.Tensor,
    cfg: RunConfig,
    *,
    classifier: torch.nn.Module | None = None,
    noises: Sequence[str] | None = None,
    intensities: Sequence[float] | None = None,
    quiet: bool = True,
) -> list[dict[str, Any]]:
    """Rows of the sweep (one per noise × intensity × method).

    Args:
        model: The denoiser, images in [0, 1] → images in [0, 1] (eval mode, no grad).
        label: The model's name in the rows.
        clean_x: Test images (N, 1, 28, 28) in [0, 1] (not yet binarised).
        labels: Their classes (N,), for the downstream accuracy.
        cfg: The run config (track, noise seed, intensities).
        classifier: The reference classifier; without it downstream columns are absent.
        noises: Noise types (default: :func:`default_noises`).
        intensities: Levels (default: ``cfg.denoise.eval_intensities``).
        quiet: No progress bar.
    """

    d = cfg.denoise
    clean = prepare_clean(clean_x, d.track)
    noises = tuple(noises or default_noises(cfg))
    levels = tuple(d.eval_intensities if intensities is None else intensities)
    methods: dict[str, Denoise] = {label: model, **baselines(d.track)}
    predict = getattr(classifier, "predict", None)
    clean_acc = float((predict(clean) == labels).float().mean()) if predict is not None else None
    rows: list[dict[str, Any]] = []
    zero_rows: list[dict[str, Any]] | None = None
    grid = [(n, float(i)) for n in noises for i in levels]
    for name, level in progress(grid, quiet=quiet, desc="denoise eval", total=len(grid)):
        if level == 0.0 and zero_rows is not None:
            rows += [{**r, "noise": name} for r in zero_rows]
            continue
        op = build_noise(name)
        g = torch.Generator(device="cpu").manual_seed(d.noise_seed)
        meters = {m: DenoiseMeter() for m in methods}
        correct = dict.fromkeys(methods, 0)
        for start in range(0, len(clean), CHUNK):
            c = clean[start : start + CHUNK]
            noisy = op(c.cpu(), level, generator=g).to(c.device)
            for m, fn in methods.items():
                out = fn(noisy).clamp(0, 1)
                meters[m].update(out, c, noisy)
                if predict is not None:
                    correct[m] += int((predict(out) == labels[start : start + CHUNK]).sum())
        block = []
        for m, meter in meters.items():
            row: dict[str, Any] = {"noise": name, "intensity": level, "method": m}
            row |= meter.result()
            if predict is not None:
                row["downstream_acc"] = correct[m] / len(clean)
                row["clean_acc"] = clean_acc
            block.append(row)
        if level == 0.0:
            zero_rows = block
        rows += block
    return rows


def best_baseline(
    rows: Sequence[dict[str, Any]], label: str, metric: str = "psnr"
) -> dict[tuple[str, float], dict[str, Any]]:
    """For each (noise, intensity): the baseline row (not ``noisy``... unless it wins) with the
    highest ``metric`` among the non-model methods."""
    best: dict[tuple[str, float], dict[str, Any]] = {}
    for r in rows:
        if r["method"] == label:
            continue
        key = (r["noise"], r["intensity"])
        if key not in best or r[metric] > best[key][metric]:
            best[key] = r
    return best


def markdown_table(
    rows: Sequence[dict[str, Any]],
    *,
    intensities: Sequence[float] | None = None,
    metrics: Sequence[str] = ("psnr", "ssim", "dice", "downstream_acc"),
) -> str:
    """A markdown table of the rows (optionally only some intensities)."""
    cols = [m for m in metrics if any(m in r for r in rows)]
    extra = [k for k in ("removal", "ink_kept") if any(k in r for r in rows)]
    cols += [k for k in extra if k not in cols]
    lines = [
        "| noise | I | method | " + " | ".join(cols) + " |",
        "|---|---:|---|" + "---:|" * len(cols),
    ]
    for r in rows:
        if intensities is not None and not any(abs(r["intensity"] - i) < 1e-9 for i in intensities):
            continue
        vals = []
        for c in cols:
            v = r.get(c)
            vals.append("" if v is None else (f"{v:.2f}" if c == "psnr" else f"{v:.4f}"))
        lines.append(
            f"| {r['noise']} | {r['intensity']:.1f} | {r['method']} | " + " | ".join(vals) + " |"
        )
    return "\n".join(lines) + "\n"


def summary(rows: Sequence[dict[str, Any]], label: str) -> dict[str, Any]:
    """Headline numbers: model vs best baseline at I = 0.5 per noise, and the PSNR wins."""
    best = best_baseline(rows, label)
    model = {(r["noise"], r["intensity"]): r for r in rows if r["method"] == label}
    out: dict[str, Any] = {"at_0.5": {}, "psnr_losses_at_I>=0.2": []}
    for key, r in model.items():
        b = best[key]
        if abs(key[1] - 0.5) < 1e-9:
            out["at_0.5"][key[0]] = {
                "model_psnr": r["psnr"],
                "best_baseline": b["method"],
                "baseline_psnr": b["psnr"],
                "psnr_gain": r["psnr"] - b["psnr"],
                "ssim_gain": r["ssim"] - best_baseline(rows, label, "ssim")[key]["ssim"],
                **(
                    {"downstream_acc": r["downstream_acc"], "clean_acc": r["clean_acc"]}
                    if "downstream_acc" in r
                    else {}
                ),
                **(
                    {"removal": r["removal"], "ink_kept": r["ink_kept"]}
                    if key[0] in ADDITIVE_NOISES
                    else {}
                ),
            }
        if key[1] >= 0.2 - 1e-9 and r["psnr"] <= b["psnr"]:
            out["psnr_losses_at_I>=0.2"].append(
                {"noise": key[0], "intensity": key[1], "baseline": b["method"]}
            )
    return out


def headline_noise(rows: Sequence[dict[str, Any]], cfg: RunConfig) -> str | None:
    """The noise of the headline numbers: the training noise if swept, else ``mixed``, else the
    first noise swept at :data:`HEADLINE_LEVEL` (``None``: the sweep has no row at that level)."""
    noises = [r["noise"] for r in rows if abs(float(r["intensity"]) - HEADLINE_LEVEL) < 1e-9]
    for noise in (cfg.denoise.noise, "mixed", *noises):
        if noise in noises:
            return noise
    return None


def flat_metrics(
    rows: Sequence[dict[str, Any]], at_half: dict[str, Any], cfg: RunConfig, label: str
) -> dict[str, float]:
    """The sweep's numbers as eval.json metric keys (see :mod:`mnistmax.eval.schema`).

    ``test/<noise>/psnr@0.5`` per noise type; ``test/psnr@0.5``, ``test/psnr_gain@0.5`` and
    ``test/ssim_gain@0.5`` averaged over the noise types (gains over the best baseline); the
    declared own-noise PSNR and SSIM of the model and, as ``baseline/<filter>/...``, of every
    baseline on the same draw. ``at_half``: :func:`summary`'s ``at_0.5``.
    """
    out: dict[str, float] = {}
    for swept, r in at_half.items():
        out[f"test/{swept}/psnr@0.5"] = float(r["model_psnr"])
    if at_half:
        for key, name in (
            ("model_psnr", "psnr"),
            ("psnr_gain", "psnr_gain"),
            ("ssim_gain", "ssim_gain"),
        ):
            out[f"test/{name}@0.5"] = sum(float(r[key]) for r in at_half.values()) / len(at_half)
    noise = headline_noise(rows, cfg)
    for r in rows:
        if r["noise"] != noise or abs(float(r["intensity"]) - HEADLINE_LEVEL) >= 1e-9:
            continue
        for metric, value in ((OWN_NOISE_PSNR, r["psnr"]), (OWN_NOISE_SSIM, r["ssim"])):
            key = metric.key() if r["method"] == label else metric.baseline_key(r["method"])
            out[key] = float(value)
    return out
