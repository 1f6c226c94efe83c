"""IDX files (the MNIST container format), read and written with numpy.

An IDX file is a 4-byte magic number ``00 00 <type code> <ndim>``, then ``ndim`` big-endian
uint32 dimension sizes, then the array in C order, big-endian. The type codes are

====  ================
0x08  unsigned byte
0x09  signed byte
0x0B  short (2 bytes)
0x0C  int (4 bytes)
0x0D  float (4 bytes)
0x0E  double (8 bytes)
====  ================

Decoding is strict: the byte count must match the header exactly, so a truncated download or
trailing garbage is an error instead of a silently short or padded array. ``.gz`` files are
recognised by their gzip magic bytes (the IDX magic starts with ``00`` and gzip with ``1f 8b``,
so there is no ambiguity) and written compressed when the path ends in ``.gz``.

:func:`encode_idx` is canonical (one array, one byte string), which is what lets the data layer
verify data from any source against the published md5 of the uncompressed files.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from mnistmax.errors import DataError
from mnistmax.io import write_bytes_atomic

__all__ = [
    "IDX_DTYPES",
    "decode_idx",
    "encode_idx",
    "read_idx",
    "write_idx",
]

#: IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# (kind, itemsize) -> type code; byte order is normalised to big-endian when encoding.
_CODES = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


def decode_idx(data: bytes | bytearray | memoryview, name: str) -> np.ndarray:
    """Decode the bytes of an uncompressed IDX file.

    Args:
        data: The whole file. A writable buffer (``bytearray``) is used without a copy.
        name: What to call the data in error messages (usually the file path or URL).

    Returns:
        A writable array in native byte order with the shape the header declares.

    Raises:
        DataError: Bad magic, unknown type code, truncated or oversized data.
    """
    view = memoryview(data).cast("B")
    n = view.nbytes
    if n < 4:
        raise DataError(
            f"{name} is not an IDX file: it is {n} bytes long, shorter than the 4-byte header."
        )
    if view[0] != 0 or view[1] != 0:
        raise DataError(
            f"{name} is not an IDX file: it starts with bytes {bytes(view[:2]).hex(' ')} "
            "instead of 00 00."
        )
    code, ndim = view[2], view[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"{name} has unknown IDX type code 0x{code:02X} (known: {known}).")
    header = 4 + 4 * ndim
    if n < header:
        raise DataError(
            f"{name} is truncated: its header declares {ndim} dimensions but the file ends "
            f"after {n} bytes."
        )
    shape = tuple(int(d) for d in np.frombuffer(view, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow on a bogus header
    actual = n - header
    if actual < expected:
        raise DataError(
            f"{name} is truncated: shape {shape} of {dtype.name} needs {expected} bytes of data "
            f"but only {actual} follow the header."
        )
    if actual > expected:
        raise DataError(
            f"{name} is oversized: {actual - expected} unexpected bytes follow the {expected} "
            f"bytes of data its header declares for shape {shape}."
        )
    count = expected // dtype.itemsize
    arr = np.frombuffer(view, dtype=dtype, count=count, offset=header).reshape(shape)
    if dtype.byteorder == ">":
        arr = arr.astype(dtype.newbyteorder("="))  # a copy, native order and writable
    elif not arr.flags.writeable:
        arr = arr.copy()
    return arr


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as the bytes of an uncompressed IDX file.

    Args:
        array: uint8, int8, int16, int32, float32 or float64, any byte order, any layout.

    Returns:
        The canonical IDX bytes (big-endian data in C order).

    Raises:
        DataError: The dtype has no IDX type code, or the array has too many or too large
            dimensions for the format.
    """
    arr = np.asarray(array)
    code = _CODES.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        raise DataError(
            f"cannot encode dtype {arr.dtype} as IDX; use uint8, int8, int16, int32, float32 "
            "or float64."
        )
    if arr.ndim > 255 or any(d >= 2**32 for d in arr.shape):
        raise DataError(f"cannot encode shape {arr.shape} as IDX: at most 255 dims below 2**32.")
    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    body = np.ascontiguousarray(arr, dtype=IDX_DTYPES[code]).tobytes()
    return header + body


def _decompress(raw: bytes | bytearray, name: str) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{name} is a damaged gzip file ({exc}).") from exc


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, plain or gzip-compressed.

    Args:
        path: The file.

    Returns:
        The array (writable, native byte order).

    Raises:
        DataError: The file is missing, unreadable, not gzip/IDX, truncated or oversized.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        buf = bytearray(size)
        with open(p, "rb") as fh:
            got = fh.readinto(buf)
    except OSError as exc:
        raise DataError(f"cannot read IDX file {p}: {exc.strerror or exc}.") from exc
    if got != size:
        raise DataError(f"{p} changed size while being read; try again.")
    if buf[:2] == _GZIP_MAGIC:
        return decode_idx(_decompress(buf, str(p)), str(p))
    return decode_idx(buf, str(p))


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, compresslevel: int = 9) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    The write is atomic (see :func:`mnistmax.io.atomic_path`) and gzip output is reproducible (no
    timestamp or file name in the gzip header).

    Args:
        path: Destination file.
        array: See :func:`encode_idx` for the supported dtypes.
        compresslevel: gzip level 1-9 (ignored for plain files).

    Raises:
        DataError: The array cannot be encoded as IDX.
    """
    data = encode_idx(array)
    if str(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=compresslevel, mtime=0)
    write_bytes_atomic(path, data)
