"""MNIST-family data: IDX files, the dataset catalogue and a verified local cache.

Typical use::

    from mnistmax.data import fetch, load_arrays

    fetch("mnist")                               # download (or fall back offline) and verify
    x, y = load_arrays("mnist", "train")         # uint8 (60000, 28, 28), uint8 (60000,)

Only numpy is imported here; the torch-based parts (``splits``, ``loader``) are imported on
their own so that the CLI's data commands start fast.

May import: nothing but the foundation. Imported by every layer that trains or evaluates.
"""

from __future__ import annotations

from mnistmax.data import catalog
from mnistmax.data.catalog import DATASETS, DatasetInfo, FileSpec
from mnistmax.data.idx import decode_idx, encode_idx, read_idx, write_idx
from mnistmax.data.store import data_root, dataset_dir, fetch, load_arrays, verify_status

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "FileSpec",
    "catalog",
    "data_root",
    "dataset_dir",
    "decode_idx",
    "encode_idx",
    "fetch",
    "load_arrays",
    "read_idx",
    "verify_status",
    "write_idx",
]
