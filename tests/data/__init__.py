"""Tests of the data layer, plus shared helpers: a tiny synthetic dataset and a local HTTP server.

Nothing here touches the network or the user's cache: datasets are a few synthetic images,
served from 127.0.0.1 or read from folders the tests write.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from mnistmax.data.catalog import DatasetInfo, Fallback, FileSpec
from mnistmax.data.idx import encode_idx

NAME = "tiny"


@dataclass
class Tiny:
    """Arrays of a tiny dataset and their gzip IDX files keyed by mirror file name."""

    arrays: dict[str, np.ndarray]  # "train-images" -> array
    gz: dict[str, bytes] = field(default_factory=dict)  # "train-images-idx3-ubyte.gz" -> bytes

    def remote(self, key: str) -> str:
        split, kind = key.split("-")
        stem = "train" if split == "train" else "t10k"
        return f"{stem}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz"

    def info(
        self,
        *,
        mirrors: tuple[str, ...] = (),
        fallbacks: tuple[Fallback, ...] = (),
        name: str = NAME,
    ) -> DatasetInfo:
        files = []
        for key, arr in self.arrays.items():
            split, kind = key.split("-")
            md5 = hashlib.md5(encode_idx(arr)).hexdigest()
            files.append(FileSpec(split, kind, self.remote(key), md5, arr.shape))  # type: ignore[arg-type]
        return DatasetInfo(
            name=name,
            title="tiny synthetic test set",
            class_names=tuple("abcdefghij"),
            default_val_size=4,
            files=tuple(files),
            mirrors=mirrors,
            fallbacks=fallbacks,
            credit="made up by the tests",
            homepage="http://127.0.0.1/",
        )

    def write_dir(self, folder: Path) -> Path:
        """Write the gzip IDX files into ``folder`` (like a Debian package does)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.gz.items():
            (folder / name).write_bytes(data)
        return folder


def make_tiny(n_train: int = 20, n_test: int = 10, seed: int = 0) -> Tiny:
    """A synthetic dataset: random uint8 images, labels cycling through 10 classes."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        arrays[f"{split}-images"] = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        arrays[f"{split}-labels"] = (np.arange(n) % 10).astype(np.uint8)
    tiny = Tiny(arrays)
    tiny.gz = {tiny.remote(k): gzip.compress(encode_idx(a)) for k, a in arrays.items()}
    return tiny


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.files`` by file name; the first path part picks a behaviour.

    ``/cut/``: promise 1000 more bytes than sent, then hang up. ``/slow/``: stall before the body.
    ``/html/``: answer every request with a web page. Anything else: serve the file.
    """

    server: _Server

    def do_GET(self) -> None:
        cut = self.path.startswith("/cut/")
        name = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/html/"):  # a captive portal answering 200 with a web page
            page = b"<html><body>Please log in to the hotel Wi-Fi.</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        body = self.server.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) + (1000 if cut else 0)))
        self.end_headers()
        if self.path.startswith("/slow/"):
            self.server.stall.wait(5)  # released by the test's teardown
        self.wfile.write(body[: len(body) // 2] if cut else body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, bytes]
    stall: threading.Event

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up on purpose (timeouts) are expected here


@contextmanager
def http_server(files: dict[str, bytes]) -> Iterator[tuple[str, _Server]]:
    """A server on 127.0.0.1 (free port) in a thread; yields its base URL and the server.

    ``server.files`` maps a file name to its bytes and may be changed while it runs.
    """
    server = _Server(("127.0.0.1", 0), _Handler)
    server.files = dict(files)
    server.stall = threading.Event()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.stall.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def dead_url() -> str:
    """A URL on a port where nothing listens (connection refused)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def flip_byte(path: Path, offset: int = -1) -> None:
    """Invert one byte of ``path`` in place (size unchanged)."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
