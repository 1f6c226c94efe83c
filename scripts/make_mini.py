"""Build the embedded ``mnist-mini`` dataset from the verified full MNIST.

Selection (deterministic, no randomness): the first 200 training images and the first 100 test
images of each digit, taken in file order, and kept in file order. The result is written as
gzip IDX files (reproducible: no timestamp in the gzip header) to ``src/mnistmax/data/assets``
together with ``CHECKSUMS.json``; the md5 of each uncompressed file must also be copied into
``mnistmax.data.catalog`` (the script prints them), where the loader verifies them.

Usage::

    python scripts/make_mini.py            # fetches MNIST if needed, writes the assets
    python scripts/make_mini.py --check    # rebuild in memory, compare with the committed files
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from mnistmax.data import catalog
from mnistmax.data.idx import encode_idx
from mnistmax.data.store import ASSETS_DIR, fetch, load_arrays
from mnistmax.io import write_bytes_atomic

PER_CLASS = {"train": 200, "test": 100}


def first_per_class(labels: np.ndarray, per_class: int, num_classes: int) -> np.ndarray:
    """Sorted indices of the first ``per_class`` items of each class, in file order."""
    picks = [np.flatnonzero(labels == c)[:per_class] for c in range(num_classes)]
    for c, idx in enumerate(picks):
        if len(idx) < per_class:
            raise SystemExit(f"class {c} has only {len(idx)} items, need {per_class}")
    return np.sort(np.concatenate(picks))


def build(root: str | None) -> dict[str, bytes]:
    """``{asset file name: uncompressed IDX bytes}`` of the mini dataset."""
    fetch("mnist", root=root, quiet=True)
    mini = catalog.get("mnist-mini")
    out: dict[str, bytes] = {}
    for split, n in PER_CLASS.items():
        images, labels = load_arrays("mnist", split, root=root)  # type: ignore[arg-type]
        idx = first_per_class(labels, n, mini.num_classes)
        out[mini.file(split, "images").remote] = encode_idx(images[idx])
        out[mini.file(split, "labels").remote] = encode_idx(labels[idx])
    return out


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) the mnist-mini assets; returns an exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="cache root holding full MNIST")
    parser.add_argument("--out", type=Path, default=ASSETS_DIR, help="asset folder")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)

    files = build(args.data_root)
    md5s = {name: hashlib.md5(data).hexdigest() for name, data in files.items()}
    if args.check:
        bad = []
        for name, md5 in md5s.items():
            path = args.out / name
            have = hashlib.md5(gzip.decompress(path.read_bytes())).hexdigest()
            if have != md5:
                bad.append(name)
        print("assets match" if not bad else f"assets differ: {', '.join(bad)}")
        return 1 if bad else 0

    args.out.mkdir(parents=True, exist_ok=True)
    record = {
        "dataset": "mnist-mini",
        "made_by": "scripts/make_mini.py",
        "selection": "first 200 train and first 100 test images per class, file order",
        "source_md5": catalog.get("mnist").md5s,
        "files": {},
    }
    for name, data in files.items():
        write_bytes_atomic(args.out / name, gzip.compress(data, compresslevel=9, mtime=0))
        record["files"][name] = {"md5_uncompressed": md5s[name], "bytes_uncompressed": len(data)}
        print(f"{md5s[name]}  {name} (uncompressed)")
    write_bytes_atomic(args.out / "CHECKSUMS.json", (json.dumps(record, indent=2) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
