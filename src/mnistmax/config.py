"""Configuration as frozen dataclasses, named presets, and ``section.field=value`` overrides.

Configs are values: change them with :func:`dataclasses.replace` or :func:`apply_overrides`,
never by mutation. A run folder's ``config.json`` is ``asdict(RunConfig)`` and
:func:`run_config_from_dict` rebuilds it, so a run can be re-created from its folder alone.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, Union

from mnistmax.errors import ConfigError
from mnistmax.rules import Rule, check_fields, each, integer, number, one_of, optional, text

# The vocabularies of the fields that take one of a few words (the code that acts on them
# imports these, so there is one list of each).
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine", "plateau")
PRECISIONS = ("fp32", "bf16", "auto")
GMM_COVARIANCES = ("diag", "full", "tied", "spherical")
TRACKS = ("gray", "bitmap")
# Upper bounds that only keep a typo (an extra 000) from starting a run that cannot end.
BIG = 10_000_000

C = TypeVar("C")


@dataclass(frozen=True)
class DataConfig:
    """Which images a run sees.

    Attributes:
        dataset: catalogue name (``mnist``, ``fashion-mnist``, ``mnist-mini``...).
        val_size: validation images carved (stratified) from the training file; ``None`` uses
            the catalogue default (5,000 for full datasets).
        train_per_class: keep only this many labelled training images per class (the
            reference's fast mode uses 100); ``None`` keeps all.
        split_seed: seed of the validation carve and the per-class subset; fixed so that every
            run of a dataset shares one validation split.
        root: dataset cache folder; ``None`` means ``$MNISTMAX_DATA`` or ``~/.cache/mnistmax``.
    """

    dataset: str = "mnist"
    val_size: int | None = None
    train_per_class: int | None = None
    split_seed: int = 0
    root: str | None = None

    RULES: ClassVar[dict[str, Rule]] = {
        "dataset": text(bool, "a dataset name (mnistmax data list)"),
        "val_size": optional(integer(1, BIG)),
        "train_per_class": optional(integer(1, BIG)),
        "split_seed": integer(0),
    }

    def __post_init__(self) -> None:
        check_fields(self, "data")


@dataclass(frozen=True)
class ModelConfig:
    """Encoder choice. ``embed_dim`` is the size of the features ``h`` evaluation uses."""

    encoder: str = "seed_cnn"
    embed_dim: int = 128
    dropout: float = 0.2

    RULES: ClassVar[dict[str, Rule]] = {
        "encoder": text(bool, "an encoder name"),
        "embed_dim": integer(1, 65_536),
        "dropout": number(0.0, 0.99),
    }

    def __post_init__(self) -> None:
        check_fields(self, "model")


@dataclass(frozen=True)
class TrainConfig:
    """The shared training loop's settings (one loop for every method)."""

    epochs: int = 20
    steps_per_epoch: int | None = None  # None: one pass over the training split
    batch_size: int = 64
    optimizer: str = "adam"  # OPTIMIZERS
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"  # constant | cosine | plateau
    warmup_epochs: float = 0.0
    plateau_patience: int = 2
    plateau_factor: float = 0.5
    early_stop_patience: int | None = None  # epochs without a better monitor value
    monitor: str = "val/knn@20"  # always a validation metric, higher is better
    monitor_val_size: int = 1000  # fixed validation subset for per-epoch validation and the monitor
    monitor_bank_size: int = 5000  # training images used as the monitor's kNN bank
    seed: int = 0
    device: str = "auto"
    channels_last: bool = True
    # fp32 | bf16 | auto: bf16 autocasts the forward pass (losses, weights, optimiser stay fp32);
    # auto = bf16 where the device computes it natively (training/precision.py)
    precision: str = "fp32"
    log_every: int = 50  # steps between loss/throughput log lines
    tensorboard: bool = False  # also write TensorBoard events under RUN/tensorboard/

    RULES: ClassVar[dict[str, Rule]] = {
        "epochs": integer(1, 100_000),
        "steps_per_epoch": optional(integer(1, BIG)),
        "batch_size": integer(1, 65_536),
        "optimizer": one_of(*OPTIMIZERS),
        "lr": number(0.0, 100.0, open_lo=True),
        "weight_decay": number(0.0, 10.0),
        "schedule": one_of(*SCHEDULES),
        "warmup_epochs": number(0.0, 100_000.0),
        "plateau_patience": integer(0, 100_000),
        "plateau_factor": number(0.0, 1.0, open_lo=True),
        "early_stop_patience": optional(integer(1, 100_000)),
        "monitor": text(lambda v: v.startswith("val/"), "a validation metric, val/..."),
        "monitor_val_size": integer(1, BIG),
        "monitor_bank_size": integer(1, BIG),
        "seed": integer(0, 2**63 - 1),
        "precision": one_of(*PRECISIONS),
        "log_every": integer(0, BIG),
    }

    def __post_init__(self) -> None:
        check_fields(self, "train")


@dataclass(frozen=True)
class TripletConfig:
    """Triplet loss and mining (Schroff et al. 2015, FaceNet; Hermans et al. 2017)."""

    margin: float = 1.0
    distance: str = "squared_euclidean"  # squared_euclidean | cosine
    miner: str = "random"  # random | batch_all | batch_hard | semi_hard
    augment: str = "reference"  # augmentation preset name; auto: the dataset's (digits on digits)
    augment_mode: str = "shared"  # shared | independent (across a triplet's members)
    classes_per_batch: int = 8  # P of a P×K batch (distance miners; K = batch_size // P)
    # The random miner ignores it: its batch is batch_size triplets drawn from the whole set.

    RULES: ClassVar[dict[str, Rule]] = {
        "margin": number(0.0, 100.0),
        "augment": text(bool, "an augmentation preset name or auto"),
        "classes_per_batch": integer(2, 100_000),
    }

    def __post_init__(self) -> None:
        check_fields(self, "triplet")


@dataclass(frozen=True)
class EvalConfig:
    """What the end-of-run evaluation computes."""

    knn_ks: tuple[int, ...] = (1, 20, 200)
    knn_tau: float = 0.07
    linear_probe: bool = True
    baselines: bool = True
    figures: bool = True
    pca_per_class: int = 25  # test digits per class in the clustering-evolution GIF
    # Few-shot (test/fewshot@N, _std) and clustering (test/kmeans_acc/nmi/ari): on by default;
    # see docs/results.md (## Self-supervised) for what they cost after a run.
    fewshot: bool = True
    fewshot_shots: tuple[int, ...] = (1, 5, 10, 100)
    fewshot_draws: int = 5
    clustering: bool = True
    kmeans_n_init: int = 10
    pca_baseline: bool = True  # PCA-50 of raw pixels next to the raw-pixel baseline
    # More clustering, off by default (each costs more than a quick run): a Gaussian mixture on
    # the test features (test/gmm_acc|nmi|ari; covariance type on PCA-reduced normalised
    # features, see mnistmax.eval.clustering) and k-means over train + val + test, all 70k
    # images of MNIST (all/kmeans_acc|nmi|ari). Both use kmeans_n_init restarts.
    gmm: bool = False
    gmm_covariance: str = "full"  # diag | full | tied | spherical
    gmm_pca_dim: int | None = 32  # None: cluster the normalised features themselves
    cluster_all: bool = False
    # Fine-tuning transfer (test/finetune@N vs test/scratch@N, mnistmax.eval.finetune): the
    # encoder + a linear head trained on N labels per class, next to the same architecture
    # trained from scratch on the same labels; the learning rate is picked from finetune_lrs on
    # the validation split, separately for each arm (why 500 steps and this grid: the module doc).
    finetune: bool = False
    finetune_shots: tuple[int, ...] = (10, 100)
    finetune_steps: int = 500
    finetune_lrs: tuple[float, ...] = (1e-3, 3e-3)

    RULES: ClassVar[dict[str, Rule]] = {
        "knn_ks": each(integer(1, BIG)),
        "knn_tau": number(0.0, 100.0, open_lo=True),
        "pca_per_class": integer(1, 100_000),
        "fewshot_shots": each(integer(1, 100_000)),
        "fewshot_draws": integer(1, 10_000),
        "kmeans_n_init": integer(1, 10_000),
        "gmm_covariance": one_of(*GMM_COVARIANCES),
        "gmm_pca_dim": optional(integer(1, 65_536)),
        "finetune_shots": each(integer(1, 100_000)),
        "finetune_steps": integer(1, BIG),
        "finetune_lrs": each(number(0.0, 100.0, open_lo=True)),
    }

    def __post_init__(self) -> None:
        check_fields(self, "eval")


@dataclass(frozen=True)
class SSLConfig:
    """Self-supervised methods (simclr, supcon, byol, swav, vicreg, barlow_twins).

    Heads are specs: ``"512-128"`` is Linear→BN→ReLU to 512 then Linear to 128; ``""`` means no
    head. Each loss's paper is cited in ``mnistmax.losses``.
    """

    augment: str = "auto"  # two-view augmentation preset; auto: the dataset's (strong on digits)
    projector: str = "512-128"
    predictor: str = "512-128"  # byol only
    temperature: float = 0.2  # simclr, supcon (NT-Xent / SupCon τ); swav uses swav_temperature
    ema_base: float = 0.99  # byol: target momentum at step 0, cosine-scheduled to 1
    prototypes: int = 100  # swav
    swav_temperature: float = 0.1
    sinkhorn_epsilon: float = 0.05
    sinkhorn_iters: int = 3
    queue_size: int = 0  # swav: past projections added to Sinkhorn's batch (0: no queue)
    queue_start_epoch: int = 1  # swav: epochs before the queue is used
    freeze_prototypes_steps: int = 0  # swav: prototypes get no gradient for these first steps
    vicreg_sim: float = 25.0
    vicreg_var: float = 25.0
    vicreg_cov: float = 1.0
    barlow_lambda: float = 5e-3

    RULES: ClassVar[dict[str, Rule]] = {
        "augment": text(bool, "an augmentation preset name or auto"),
        "temperature": number(0.0, 100.0, open_lo=True),
        "ema_base": number(0.0, 1.0),
        "prototypes": integer(2, 1_000_000),
        "swav_temperature": number(0.0, 100.0, open_lo=True),
        "sinkhorn_epsilon": number(0.0, 100.0, open_lo=True),
        "sinkhorn_iters": integer(1, 10_000),
        "queue_size": integer(0, BIG),
        "queue_start_epoch": integer(0, 100_000),
        "freeze_prototypes_steps": integer(0, BIG),
        "vicreg_sim": number(0.0, 1e6),
        "vicreg_var": number(0.0, 1e6),
        "vicreg_cov": number(0.0, 1e6),
        "barlow_lambda": number(0.0, 1e6),
    }

    def __post_init__(self) -> None:
        check_fields(self, "ssl")


@dataclass(frozen=True)
class DenoiseConfig:
    """Denoising autoencoders (method ``denoise``): model, loss, training noise, evaluation.

    Attributes:
        model: registered denoiser (conv_ae, unet, residual, attention, vae).
        width: base channel width of the model.
        constrained: wrap the model so that output = input × mask (it only removes ink).
        removal_weight: constrained models only: weight of the ink the noise added in the loss
            (1: plain loss; w > 1 adds ``(w − 1) ·`` the cross-entropy of keeping added ink,
            which trades a little kept ink for more removed noise).
        loss: reconstruction loss name; terms join with ``+`` (``bce+dice``).
        kl_weight: weight of the VAE's per-pixel KL term (1 is the ELBO).
        track: ``gray`` (targets in [0, 1]) or ``bitmap`` (clean images binarised at 0.5).
        noise: training noise type (see ``mnistmax.noise``).
        intensity_min: smallest per-image training intensity.
        intensity_max: largest per-image training intensity.
        clean_ratio: share of training images left clean.
        single_ratio: with ``noise="mixed"``, share of training images given one zoo type at
            the full intensity instead of two at half of it (reaches each type's severe end).
        curriculum_epochs: epochs over which the intensity ramps up from 0 (0: no ramp).
        val_intensity: intensity of the fixed noisy validation set the monitor scores.
        eval_noises: noise types of the evaluation sweep (empty: the track's default zoo).
        eval_intensities: intensities of the evaluation sweep.
        eval_size: test images used by the sweep (``None``: all of them).
        noise_seed: seed of the evaluation and validation noise (fixed across runs).
    """

    model: str = "unet"
    width: int = 32
    constrained: bool = False
    removal_weight: float = 1.0
    loss: str = "bce"
    kl_weight: float = 1.0
    track: str = "gray"
    noise: str = "mixed"
    intensity_min: float = 0.0
    intensity_max: float = 1.0
    clean_ratio: float = 0.0
    single_ratio: float = 0.0
    curriculum_epochs: float = 0.0
    val_intensity: float = 0.5
    eval_noises: tuple[str, ...] = ()
    eval_intensities: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    eval_size: int | None = None
    noise_seed: int = 1234

    RULES: ClassVar[dict[str, Rule]] = {
        "model": text(bool, "a denoiser name"),
        "width": integer(1, 4096),
        "removal_weight": number(1.0, 1e6),
        "loss": text(bool, "a reconstruction loss name"),
        "kl_weight": number(0.0, 1e6),
        "track": one_of(*TRACKS),
        "noise": text(bool, "a noise type name"),
        "intensity_min": number(0.0, 1.0),
        "intensity_max": number(0.0, 1.0),
        "clean_ratio": number(0.0, 1.0),
        "single_ratio": number(0.0, 1.0),
        "curriculum_epochs": number(0.0, 100_000.0),
        "val_intensity": number(0.0, 1.0),
        "eval_noises": each(text(bool, "a noise type name"), non_empty=False),
        "eval_intensities": each(number(0.0, 1.0)),
        "eval_size": optional(integer(1, BIG)),
        "noise_seed": integer(0, 2**63 - 1),
    }

    def __post_init__(self) -> None:
        check_fields(self, "denoise")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; ``config.json`` in a run folder is this, resolved."""

    method: str = "triplet"
    preset: str = ""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    triplet: TripletConfig = field(default_factory=TripletConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    ssl: SSLConfig = field(default_factory=SSLConfig)
    denoise: DenoiseConfig = field(default_factory=DenoiseConfig)


def _coerce(text: str, tp: Any, where: str) -> Any:
    """Parse ``text`` as a value of annotation ``tp`` (int, float, str, bool, optional, tuple)."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if text.lower() in ("none", "null"):
            return None
        return _coerce(text, args[0], where)
    if origin is tuple:
        (inner, *_rest) = typing.get_args(tp)
        return tuple(_coerce(t.strip(), inner, where) for t in text.split(",") if t.strip())
    try:
        if tp is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if tp is int:
            return int(text)
        if tp is float:
            return float(text)
        if tp is str:
            return text
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a valid {tp.__name__}") from None
    raise ConfigError(f"{where}: cannot set a field of type {tp}")


def override_text(value: Any) -> str:
    """``value`` as ``--set`` spells it (``true``, ``none``, ``1,20,200``); :func:`apply_overrides`
    reads it back to the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ",".join(override_text(v) for v in value)
    return str(value)


def apply_overrides(cfg: C, overrides: list[str]) -> C:
    """Return ``cfg`` with ``section.field=value`` overrides applied (types from annotations)."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.field=value")
        key, text = item.split("=", 1)
        cfg = _set_path(cfg, key.strip().split("."), text.strip(), key)
    return cfg


def _set_path(obj: Any, path: list[str], text: str, key: str) -> Any:
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise ConfigError(f"override {key!r}: {path[0]!r} is not a config section")
    hints = typing.get_type_hints(type(obj))
    name = path[0]
    if name not in hints:
        choices = ", ".join(f.name for f in dataclasses.fields(obj))
        raise ConfigError(f"override {key!r}: unknown field {name!r}; fields here: {choices}")
    if len(path) == 1:
        value = _coerce(text, hints[name], key)
    else:
        value = _set_path(getattr(obj, name), path[1:], text, key)
    return dataclasses.replace(obj, **{name: value})


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Rebuild a (nested) config dataclass from ``asdict`` output; unknown keys are errors."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ConfigError(f"unknown config keys for {cls.__name__}: {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        tp = hints[key]
        if dataclasses.is_dataclass(tp) and isinstance(value, dict):
            kwargs[key] = from_dict(tp, value)  # type: ignore[arg-type]
        elif typing.get_origin(tp) is tuple and isinstance(value, list):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return cls(**kwargs)


def run_config_from_dict(data: dict[str, Any]) -> RunConfig:
    """Rebuild a :class:`RunConfig` from a ``config.json`` dictionary."""
    return from_dict(RunConfig, data)
