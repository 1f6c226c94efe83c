"""IDX encode/decode: round-trips (property test) and strict rejection of damaged files."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnistmax.data.idx import IDX_DTYPES, decode_idx, encode_idx, read_idx, write_idx
from mnistmax.errors import DataError

DTYPES = ["u1", "i1", ">i2", "<i2", ">i4", "<i4", ">f4", "<f4", ">f8", "<f8"]


@st.composite
def idx_arrays(draw: st.DrawFn) -> np.ndarray:
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
    return draw(hnp.arrays(dtype, shape))


@settings(max_examples=150, deadline=None)
@given(idx_arrays())
def test_encode_decode_round_trip(arr: np.ndarray) -> None:
    out = decode_idx(encode_idx(arr), "mem")
    assert out.shape == arr.shape
    assert out.dtype == arr.dtype.newbyteorder("=")
    # Bit-exact, NaN payloads and signed zeros included.
    assert out.astype(arr.dtype).tobytes() == arr.tobytes()
    assert out.flags.writeable


@settings(max_examples=25, deadline=None)
@given(arr=idx_arrays(), gz=st.booleans())
def test_write_read_round_trip(
    tmp_path_factory: pytest.TempPathFactory, arr: np.ndarray, gz: bool
) -> None:
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, arr)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == gz
    out = read_idx(path)
    assert out.astype(arr.dtype).tobytes() == arr.tobytes()


def test_header_layout_is_the_published_format() -> None:
    data = encode_idx(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert data == b"\x00\x00\x08\x02" + struct.pack(">II", 2, 3) + bytes(range(6))
    data = encode_idx(np.array([1.5], dtype="<f4"))
    assert data[:4] == b"\x00\x00\x0d\x01" and data[8:] == struct.pack(">f", 1.5)
    assert set(IDX_DTYPES) == {0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E}


def test_gzip_output_is_reproducible(tmp_path) -> None:
    arr = np.arange(100, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", arr)
    write_idx(tmp_path / "b.gz", arr)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


GOOD = encode_idx(np.zeros((3, 4), dtype=np.uint8))


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (GOOD[:-1], "truncated"),
        (GOOD[:10], "truncated"),  # header cut inside the dimension sizes
        (GOOD[:3], "shorter than the 4-byte header"),
        (GOOD + b"\x00", "oversized"),
        (b"\x01" + GOOD[1:], "not an IDX file"),
        (GOOD[:2] + b"\x0a" + GOOD[3:], "unknown IDX type code 0x0A"),
        (b"\x00\x00\x08\x01" + struct.pack(">I", 2**32 - 1), "truncated"),
    ],
)
def test_damaged_files_raise_data_error_naming_the_file(tmp_path, data: bytes, phrase: str) -> None:
    path = tmp_path / "damaged-file.idx"
    path.write_bytes(data)
    with pytest.raises(DataError, match=phrase) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    gz = tmp_path / "damaged-file.idx.gz"
    gz.write_bytes(gzip.compress(data))
    with pytest.raises(DataError, match=phrase):
        read_idx(gz)


def test_damaged_gzip_and_missing_file(tmp_path) -> None:
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(gzip.compress(GOOD)[:-6])
    with pytest.raises(DataError, match="damaged gzip") as info:
        read_idx(path)
    assert "cut.idx.gz" in str(info.value)
    with pytest.raises(DataError, match=r"nope\.idx"):
        read_idx(tmp_path / "nope.idx")


def test_unsupported_dtype_cannot_be_encoded() -> None:
    with pytest.raises(DataError, match="cannot encode dtype"):
        encode_idx(np.zeros(3, dtype=np.uint16))
    with pytest.raises(DataError, match="cannot encode dtype"):
        encode_idx(np.zeros(3, dtype=bool))


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "x.idx"
    write_idx(path, np.ones(5, dtype=np.uint8))

    def boom(fd: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr("os.fsync", boom)
    with pytest.raises(OSError, match="disk on fire"):
        write_idx(path, np.zeros(7, dtype=np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.idx"]
    np.testing.assert_array_equal(read_idx(path), np.ones(5, dtype=np.uint8))
