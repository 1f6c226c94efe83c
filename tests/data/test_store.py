"""The cache: root resolution, corruption detection, stamps, the embedded mini dataset."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from mnistmax.data import catalog, store
from mnistmax.data.catalog import DatasetInfo, Fallback, FileSpec
from mnistmax.data.idx import decode_idx
from mnistmax.data.sources import Fetched, Source
from mnistmax.errors import ChecksumError, ConfigError, DataError

from . import NAME, Tiny, flip_byte, make_tiny


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNISTMAX_DATA", str(tmp_path / "cache"))


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tiny:
    """A tiny dataset whose only source is a folder of gzip files (the Debian-style source)."""
    t = make_tiny()
    deb = t.write_dir(tmp_path / "deb")
    fb = Fallback("debian-package", "dataset-tiny-test", str(deb))
    monkeypatch.setitem(catalog.DATASETS, NAME, t.info(fallbacks=(fb,)))
    return t


def _cache(tmp_path: Path) -> Path:
    return tmp_path / "cache" / NAME


def test_data_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store.data_root(tmp_path / "arg") == tmp_path / "arg"
    assert store.data_root() == tmp_path / "cache"
    monkeypatch.delenv("MNISTMAX_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store.data_root() == tmp_path / "home" / ".cache" / "mnistmax"
    assert store.data_root("~/x") == tmp_path / "home" / "x"


def test_fetch_then_load_uses_env_root(tiny: Tiny, tmp_path: Path) -> None:
    assert store.fetch(NAME, quiet=True) == _cache(tmp_path)
    x, y = store.load_arrays(NAME, "train")
    assert x.dtype == np.uint8 and x.shape == (20, 28, 28) and y.shape == (20,)
    assert x.flags.writeable and y.flags.writeable
    np.testing.assert_array_equal(x, tiny.arrays["train-images"])
    stamp = json.loads((_cache(tmp_path) / store.STAMP_NAME).read_text())
    assert stamp["dataset"] == NAME
    for spec in catalog.DATASETS[NAME].files:
        entry = stamp["files"][spec.key]
        assert entry["md5"] == spec.md5 and entry["size"] == spec.nbytes


def test_flipped_byte_is_detected_and_refetched(tiny: Tiny, tmp_path: Path) -> None:
    store.fetch(NAME, quiet=True)
    path = _cache(tmp_path) / "train-images.idx"
    flip_byte(path, offset=500)
    with pytest.raises(ChecksumError, match=r"train-images\.idx has md5 .*mnistmax data fetch"):
        store.load_arrays(NAME, "train", fetch_if_missing=False)
    x, _ = store.load_arrays(NAME, "train")  # re-fetches the damaged file
    np.testing.assert_array_equal(x, tiny.arrays["train-images"])
    assert hashlib.md5(path.read_bytes()).hexdigest() == catalog.DATASETS[NAME].md5s["train-images"]


def test_truncated_cache_file_is_detected_by_size(tiny: Tiny, tmp_path: Path) -> None:
    store.fetch(NAME, quiet=True)
    path = _cache(tmp_path) / "test-labels.idx"
    path.write_bytes(path.read_bytes()[:-1])
    status = store.verify_status(NAME)
    assert status["state"] == "corrupt" and not status["verified"]
    (problem,) = [f["problem"] for f in status["files"] if f["problem"]]
    assert "test-labels.idx has 17 bytes, expected 18" in problem
    store.fetch(NAME, quiet=True)
    assert store.verify_status(NAME)["verified"]


class _MustNotBeCalled(Source):
    label = "a source that must not be used"
    hint = "-"

    def fetch(
        self, info: DatasetInfo, files: Sequence[FileSpec], *, quiet: bool
    ) -> dict[str, Fetched]:
        raise AssertionError(f"source asked for {[f.key for f in files]}")


def test_missing_stamp_is_restored_without_downloading(tiny: Tiny, tmp_path: Path) -> None:
    store.fetch(NAME, quiet=True)
    (_cache(tmp_path) / store.STAMP_NAME).unlink()
    with pytest.raises(DataError, match="no completed fetch"):
        store.load_arrays(NAME, "test", fetch_if_missing=False)
    store.fetch(NAME, quiet=True, sources=[_MustNotBeCalled()])
    stamp = json.loads((_cache(tmp_path) / store.STAMP_NAME).read_text())
    assert stamp["files"]["test-images"]["origin"] == "found in cache"
    store.load_arrays(NAME, "test", fetch_if_missing=False)
    # A complete, verified cache never consults a source either.
    store.fetch(NAME, quiet=True, sources=[_MustNotBeCalled()])


def test_not_cached_without_fetch_says_what_to_run(tiny: Tiny) -> None:
    with pytest.raises(DataError, match="run `mnistmax data fetch --dataset tiny`") as info:
        store.load_arrays(NAME, "train", fetch_if_missing=False)
    assert not isinstance(info.value, ChecksumError)


def test_unknown_names_are_config_errors(tiny: Tiny) -> None:
    with pytest.raises(
        ConfigError, match="unknown dataset 'nope'; choose one of: mnist, fashion-mnist"
    ):
        store.load_arrays("nope", "train")
    with pytest.raises(ConfigError, match="unknown dataset"):
        store.fetch("nope")
    with pytest.raises(ConfigError, match="unknown split 'val'"):
        store.load_arrays(NAME, "val")  # type: ignore[arg-type]


def test_verify_status_reports_states_and_counts(tiny: Tiny) -> None:
    assert store.verify_status(NAME)["state"] == "missing"
    store.fetch(NAME, quiet=True)
    status = store.verify_status(NAME)
    assert status["state"] == "verified"
    assert status["counts"] == {"train": [2] * 10, "test": [1] * 10}
    json.dumps(status)  # JSON-ready
    os.unlink(status["files"][0]["path"])
    assert store.verify_status(NAME)["state"] == "incomplete"


def test_stale_temp_files_are_removed_young_ones_kept(tiny: Tiny, tmp_path: Path) -> None:
    folder = _cache(tmp_path)
    folder.mkdir(parents=True)
    old, young = folder / ".train-images.idx.tmp-old", folder / ".train-images.idx.tmp-new"
    old.write_bytes(b"x")
    young.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old, (past, past))
    store.fetch(NAME, quiet=True)
    assert not old.exists() and young.exists()


def test_failed_fetch_reports_sources_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = make_tiny()
    fb = Fallback("debian-package", "dataset-tiny-test", str(tmp_path / "absent"))
    monkeypatch.setitem(catalog.DATASETS, NAME, t.info(fallbacks=(fb,)))
    with pytest.raises(
        DataError, match=r"could not fetch tiny: tried Debian package dataset-tiny-test"
    ):
        store.load_arrays(NAME, "train")
    assert list(_cache(tmp_path).iterdir()) == []


# --- the embedded mini dataset ------------------------------------------------------------------


@pytest.mark.parametrize(("split", "per_class"), [("train", 200), ("test", 100)])
def test_mnist_mini_loads_balanced(split: str, per_class: int) -> None:
    x, y = store.load_arrays("mnist-mini", split)  # type: ignore[arg-type]
    assert x.dtype == np.uint8 and y.dtype == np.uint8
    assert x.shape == (10 * per_class, 28, 28) and y.shape == (10 * per_class,)
    assert np.bincount(y, minlength=10).tolist() == [per_class] * 10
    assert 0.05 < (x > 128).mean() < 0.3  # digits: mostly background, some ink


def test_mnist_mini_assets_match_catalogue_and_record() -> None:
    info = catalog.DATASETS["mnist-mini"]
    record = json.loads((store.ASSETS_DIR / "CHECKSUMS.json").read_text())
    for spec in info.files:
        raw = gzip.decompress((store.ASSETS_DIR / spec.remote).read_bytes())
        md5 = hashlib.md5(raw).hexdigest()
        assert md5 == spec.md5 == record["files"][spec.remote]["md5_uncompressed"]
        assert decode_idx(raw, spec.remote).shape == spec.shape
    assert record["source_md5"] == catalog.DATASETS["mnist"].md5s
    assert store.fetch("mnist-mini") == store.ASSETS_DIR
    assert store.verify_status("mnist-mini")["state"] == "verified"


def test_mnist_mini_damaged_asset_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    for p in store.ASSETS_DIR.iterdir():
        (assets / p.name).write_bytes(p.read_bytes())
    raw = bytearray(gzip.decompress((assets / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10
    (assets / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    monkeypatch.setattr(store, "ASSETS_DIR", assets)
    with pytest.raises(ChecksumError, match="embedded mnist-mini files are damaged"):
        store.load_arrays("mnist-mini", "test")


def test_catalogue_entries_are_complete() -> None:
    assert catalog.names()[:3] == ["mnist", "fashion-mnist", "mnist-mini"]
    for info in catalog.DATASETS.values():
        assert info.num_classes == 10 == len(set(info.class_names))
        assert [f.key for f in info.files] == [
            "train-images",
            "train-labels",
            "test-images",
            "test-labels",
        ]
        assert all(re.fullmatch(r"[0-9a-f]{32}", f.md5) for f in info.files)
        assert info.credit and info.homepage.startswith("http")
        assert info.embedded or (info.mirrors and info.fallbacks and info.default_val_size == 5000)
    assert catalog.DATASETS["mnist"].md5s["train-images"] == "6bbc9ace898e44ae57da46a324031adb"
    assert catalog.DATASETS["fashion-mnist"].class_names[9] == "Ankle boot"
    assert catalog.DATASETS["mnist"].file("train", "images").nbytes == 47040016
