"""Learning-rate schedules."""

from __future__ import annotations

import math

import torch

from mnistmax.config import TrainConfig
from mnistmax.training.schedule import Scheduler, lr_factor


def test_cosine_with_warmup() -> None:
    assert lr_factor(0, 100, 10, "cosine") == 0.1
    assert lr_factor(9, 100, 10, "cosine") == 1.0
    assert math.isclose(lr_factor(10, 100, 10, "cosine"), 1.0)
    assert math.isclose(lr_factor(55, 100, 10, "cosine"), 0.5)
    assert lr_factor(100, 100, 10, "cosine") < 1e-12
    assert lr_factor(50, 100, 0, "constant") == 1.0


def test_plateau_halves_after_patience_and_state_round_trips() -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = Scheduler(opt, TrainConfig(schedule="plateau", plateau_patience=1, epochs=5), 10)
    for value in (0.5, 0.6, 0.6, 0.6):
        sched.epoch_end(value)
    assert sched.lr == 0.5
    other = Scheduler(
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0),
        TrainConfig(schedule="plateau", plateau_patience=1, epochs=5),
        10,
    )
    other.load_state_dict(sched.state_dict())
    assert other.lr == 0.5 and other.state_dict() == sched.state_dict()
