"""Nearest-neighbour grids: cosine top-k against a naive ranking, red frames on wrong labels."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.colors import to_hex

from mnistmax.viz.neighbors import WRONG, nearest_neighbors, neighbor_grid


def _naive_topk(q: torch.Tensor, bank: torch.Tensor, k: int) -> list[list[int]]:
    out = []
    for row in q.double():
        sims = []
        for j, b in enumerate(bank.double()):
            sims.append((float(row @ b / (row.norm() * b.norm())), j))
        out.append([j for _, j in sorted(sims, key=lambda t: (-t[0], t[1]))[:k]])
    return out


def test_nearest_neighbors_match_a_naive_cosine_ranking() -> None:
    g = torch.Generator().manual_seed(0)
    bank = torch.randn(40, 5, generator=g)
    bank[7] = bank[3]  # a duplicate: tied similarity, the smaller index ranks first
    q = torch.randn(6, 5, generator=g)
    q[0] = bank[3]
    sims, idx = nearest_neighbors(q, bank, 5)
    assert idx.tolist() == _naive_topk(q, bank, 5)
    assert idx[0, :2].tolist() == [3, 7]
    assert sims.shape == (6, 5) and bool((sims[:, :-1] >= sims[:, 1:]).all())


def test_grid_frames_exactly_the_wrong_neighbours_in_red() -> None:
    q, k = 3, 4
    qx = np.random.default_rng(0).random((q, 28, 28))
    nx = np.random.default_rng(1).random((q, k, 28, 28))
    qy = np.array([0, 1, 2])
    ny = np.array([[0, 0, 1, 0], [1, 1, 1, 1], [0, 2, 2, 1]])
    fig = neighbor_grid(qx, qy, nx, ny, np.full((q, k), 0.9), ["a", "b", "c"], title="t")
    axes = np.asarray(fig.axes).reshape(q, k + 1)
    for r in range(q):
        for j in range(k):
            red = to_hex(axes[r, j + 1].spines["left"].get_edgecolor()) == WRONG
            assert red == (ny[r, j] != qy[r]), (r, j)
        assert axes[r, 0].get_title().startswith("query")
