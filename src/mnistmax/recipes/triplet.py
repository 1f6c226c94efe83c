"""Triplet presets: ``triplet_reference`` is the reference project's fast mode (its protocol,
minus its bugs); ``triplet_fast`` is our recipe on the same 1,000 labelled images;
``triplet_full`` uses the whole training split; ``triplet_quick`` runs on the embedded
``mnist-mini`` for demos and CI.
"""

from __future__ import annotations

from mnistmax.config import (
    DataConfig,
    EvalConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    TripletConfig,
)
from mnistmax.recipes.registry import QUICK_EVAL, InReview, preset

# The triplet issue's evaluation (kNN, linear probe, P@1, MAP@R, baselines) without few-shot and
# k-means, which cost more than the whole 1,000-image training run; `--set eval.fewshot=true
# --set eval.clustering=true` turns them back on.
FAST_EVAL = EvalConfig(fewshot=False, clustering=False)


@preset(
    "triplet_reference",
    about="the reference project's fast mode in our protocol: 1,000 labels, its encoder, 300 steps",
)
def _triplet_reference() -> RunConfig:
    # The reference's fast mode: 100 images per class, batch 64 triplets, Adam, 20 epochs × 15
    # steps, margin 1.0, random triplets, consistent augmentation, seed_cnn.
    # Its plateau halving watched the test loss. A plateau on validation kNN halves the rate
    # during the early dip every triplet run shows (kNN falls for 2–4 epochs before it rises)
    # and stalls training (85.8% test kNN@20 against 88% with a constant rate), so: constant.
    # The one departure from its hyper-parameters: Adam at 3e-4, not 1e-3. The dip is the loss
    # undoing the random encoder's features, which already score ~89% kNN@20; a smaller step
    # keeps more of them. Chosen on the validation split (kNN@20, 55k bank, 5 seeds each):
    # 2e-3 85.1, 1e-3 90.6, 5e-4 93.2, 3e-4 93.6, 2e-4 93.1, 1e-4 92.9 (docs/results.md).
    return RunConfig(
        method="triplet",
        data=DataConfig(dataset="mnist", train_per_class=100),
        model=ModelConfig(encoder="seed_cnn", embed_dim=128, dropout=0.2),
        train=TrainConfig(
            epochs=20,
            steps_per_epoch=15,
            batch_size=64,
            optimizer="adam",
            lr=3e-4,
            schedule="constant",
        ),
        triplet=TripletConfig(
            margin=1.0,
            miner="random",
            augment="reference",
            augment_mode="shared",
        ),
        eval=FAST_EVAL,
    )


# The review adds few-shot and k-means, which FAST_EVAL leaves out.
_REVIEW_EVAL = ("eval.fewshot=true", "eval.clustering=true")


@preset(
    "triplet_fast",
    about="our recipe on the same 1,000 labels: conv_small, semi-hard mining, 150 bf16 steps",
    default=True,
    review=(InReview("standard", _REVIEW_EVAL), InReview("full", _REVIEW_EVAL, seeds=(0, 1, 2))),
)
def _triplet_fast() -> RunConfig:
    return RunConfig(
        method="triplet",
        data=DataConfig(dataset="mnist", train_per_class=100),
        model=ModelConfig(encoder="conv_small", embed_dim=128, dropout=0.0),
        # 150 steps (half the reference's 300): test kNN@20 98.97 against 99.06 at 300 steps
        # (seed 0), in half the training time; bf16 where the CPU has it (training/precision.py).
        train=TrainConfig(
            epochs=10,
            steps_per_epoch=15,
            batch_size=120,
            optimizer="adamw",
            lr=2e-3,
            weight_decay=1e-4,
            schedule="cosine",
            warmup_epochs=1.0,
            precision="auto",
        ),
        triplet=TripletConfig(
            margin=0.5,
            miner="semi_hard",
            augment="auto",
            augment_mode="independent",
            classes_per_batch=10,
        ),
        eval=FAST_EVAL,
    )


@preset(
    "triplet_full",
    about="the whole 55k training split: 10 epochs, kNN@1 ≈ 99.5%",
    review=(InReview("full", seeds=(0, 1, 2)),),
)
def _triplet_full() -> RunConfig:
    return RunConfig(
        method="triplet",
        data=DataConfig(dataset="mnist"),
        model=ModelConfig(encoder="conv_small", embed_dim=128, dropout=0.0),
        train=TrainConfig(
            epochs=10,
            batch_size=200,
            optimizer="adamw",
            lr=2e-3,
            weight_decay=1e-4,
            schedule="cosine",
            warmup_epochs=0.5,
        ),
        triplet=TripletConfig(
            margin=0.5,
            miner="semi_hard",
            augment="auto",
            augment_mode="independent",
            classes_per_batch=10,
        ),
    )


@preset(
    "triplet_quick",
    about="seconds on the embedded mnist-mini: smoke runs, tests, demos",
    review=(InReview("quick", QUICK_EVAL),),
)
def _triplet_quick() -> RunConfig:
    # Seconds on the embedded mini dataset: smoke runs, tests and demos.
    return RunConfig(
        method="triplet",
        data=DataConfig(dataset="mnist-mini"),
        model=ModelConfig(encoder="conv_small", embed_dim=64, dropout=0.0),
        train=TrainConfig(
            epochs=3,
            steps_per_epoch=10,
            batch_size=80,
            optimizer="adamw",
            lr=2e-3,
            schedule="cosine",
            monitor_val_size=500,
            monitor_bank_size=1500,
        ),
        triplet=TripletConfig(
            margin=0.5,
            miner="semi_hard",
            augment="light",
            augment_mode="independent",
            classes_per_batch=10,
        ),
        eval=EvalConfig(pca_per_class=10),
    )
