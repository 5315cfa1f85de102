"""Data: MNIST and Fashion-MNIST (through torchvision) and the toy sets, as in-memory tensors.

The whole dataset is one float tensor on the training device; minibatches are served by indexing
with a shuffled permutation (see :func:`minibatch_indices`), so no per-sample PIL or
``ToTensor`` work happens in the training loop. That is where the speed comes from.

The data root is ``$THESIS_LIB_DATA`` (default ``~/.cache/thesis_lib/data``). Files are
downloaded only when they are missing and a network exists; a read-only root that already holds
the files (e.g. ``../shared/data``) is used as it is and nothing is written into it.

Splits follow the papers: ``train`` = train[:50000], ``val`` = train[50000:60000], ``test`` = the
10,000 test images, ``full`` = all 60,000 training images.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import torch
from torch import Tensor

from . import toy
from .errors import DataError

DATA_ENV = "THESIS_LIB_DATA"
DEFAULT_ROOT = Path.home() / ".cache" / "thesis_lib" / "data"
SPLITS = ("train", "val", "test", "full")

# The one list of datasets: configs type their ``dataset`` field with DatasetName, the CLI and the
# metrics read the tuples below.
ImageDataset = Literal["mnist", "fashion-mnist"]
ToyDataset = Literal["toy-1d", "mixture-2d", "swiss-roll"]
DatasetName = Literal[ImageDataset, ToyDataset]
IMAGE_DATASETS: tuple[str, ...] = get_args(ImageDataset)
TOY_DATASETS: tuple[str, ...] = get_args(ToyDataset)
DATASETS: tuple[str, ...] = get_args(DatasetName)
TORCHVISION_NAMES = {
    "mnist": "MNIST",
    "fashion-mnist": "FashionMNIST",
}  # torchvision's class (and folder) per image dataset
N_TRAIN = 50_000

# Exact sizes of the decompressed IDX files: a truncated file is caught before parsing.
_RAW_FILES = {
    True: {"train-images-idx3-ubyte": 16 + 60000 * 784, "train-labels-idx1-ubyte": 8 + 60000},
    False: {"t10k-images-idx3-ubyte": 16 + 10000 * 784, "t10k-labels-idx1-ubyte": 8 + 10000},
}
CLASS_NAMES = {
    "mnist": tuple(str(i) for i in range(10)),
    "fashion-mnist": (
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
}


def image_datasets_text() -> str:
    """The image datasets for a message: ``'mnist' or 'fashion-mnist'``."""
    return " or ".join(map(repr, IMAGE_DATASETS))


def class_names(dataset: str, n_classes: int = 10) -> list[str]:
    """The label names of a dataset (digits for MNIST, clothing for Fashion-MNIST; the label number otherwise)."""
    names = CLASS_NAMES.get(dataset)
    return list(names) if names else [str(i) for i in range(n_classes)]


@dataclass
class Dataset:
    """A whole split in memory: ``x`` of shape ``(N, *shape)`` (pixels in [0, 1]) and labels ``y``."""

    name: str
    split: str
    x: Tensor
    y: Tensor
    n_classes: int

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. ``(1, 28, 28)``."""
        return tuple(self.x.shape[1:])

    def to(self, device: torch.device | str) -> "Dataset":
        return Dataset(self.name, self.split, self.x.to(device), self.y.to(device), self.n_classes)

    def subset(self, n: int) -> "Dataset":
        """The first ``n`` examples (deterministic, no shuffling)."""
        return Dataset(self.name, self.split, self.x[:n], self.y[:n], self.n_classes)


def data_root() -> Path:
    """The data root: ``$THESIS_LIB_DATA`` if set, else ``~/.cache/thesis_lib/data``."""
    value = os.environ.get(DATA_ENV)
    return Path(value).expanduser() if value else DEFAULT_ROOT


def dataset_shape(name: str) -> tuple[int, ...]:
    """Shape of one example of a dataset, without loading it."""
    if name in IMAGE_DATASETS:
        return (1, 28, 28)
    return {"toy-1d": (1,), "mixture-2d": (2,), "swiss-roll": (2,)}[name]


def dataset_classes(name: str) -> int:
    """Number of label classes of a dataset."""
    return 2 if name == "toy-1d" else 10


def load_dataset(name: str, split: str = "train", root: str | Path | None = None) -> Dataset:
    """Load a whole split of a dataset as in-memory tensors.

    Args:
        name: ``mnist``, ``fashion-mnist``, ``toy-1d``, ``mixture-2d`` or ``swiss-roll``.
        split: ``train`` (first 50,000), ``val`` (last 10,000 of the training file), ``test``
            or ``full`` (all 60,000).
        root: data root; default :func:`data_root`.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))}, got {split!r}")
    if name in TOY_DATASETS:
        return _toy(name, split)
    if name not in IMAGE_DATASETS:
        allowed = ", ".join(map(repr, DATASETS))
        raise ValueError(f"dataset must be one of {allowed}, got {name!r}")
    images, labels = _load_idx(name, split != "test", str(Path(root) if root else data_root()))
    if split == "train":
        images, labels = images[:N_TRAIN], labels[:N_TRAIN]
    elif split == "val":
        images, labels = images[N_TRAIN:], labels[N_TRAIN:]
    x = images.unsqueeze(1).float().div_(255.0)
    return Dataset(name, split, x, labels.to(torch.long, copy=True), 10)  # a copy: never alias the cache


def binarize(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Dynamic binarisation: each pixel becomes 1 with probability equal to its intensity."""
    return torch.bernoulli(x, generator=generator)


def minibatch_indices(
    n: int, batch_size: int, seed: int, epoch: int, device: torch.device | str = "cpu"
) -> list[Tensor]:
    """The shuffled minibatches of one epoch, as index tensors.

    The permutation depends only on ``(seed, epoch)``, so a run resumed in the middle of an epoch
    sees exactly the batches an uninterrupted run would. The last batch may be smaller.
    """
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    perm = torch.randperm(n, generator=g).to(device)
    return list(perm.split(batch_size))


# ----------------------------------------------------------------------------- internals
def _expected_files_message(folder: Path) -> str:
    names = [*_RAW_FILES[True], *_RAW_FILES[False]]
    return f"expected {', '.join(names)} (or their .gz) in {folder}"


@functools.lru_cache(maxsize=8)
def _load_idx(name: str, train: bool, root: str) -> tuple[Tensor, Tensor]:
    """Parse one IDX file pair with torchvision (cached per process)."""
    from torchvision import datasets  # imported lazily: torchvision takes a second to import

    cls = getattr(datasets, TORCHVISION_NAMES[name])
    raw = Path(root) / TORCHVISION_NAMES[name] / "raw"
    _check_raw_files(raw, train)
    if not all((raw / f).exists() for f in (*_RAW_FILES[True], *_RAW_FILES[False])):  # torchvision needs all four
        _download(cls, Path(root), raw)
    try:
        ds = cls(root, train=train, download=False)
        images, labels = ds.data, ds.targets
    except Exception as e:  # torchvision raises assorted errors on damaged files
        raise DataError(
            (
                f"could not read {name} from {raw}: {e.__class__.__name__}: {e}; delete the damaged files to "
                "download them again"
            )
        ) from None
    n = 60000 if train else 10000
    if tuple(images.shape) != (n, 28, 28) or tuple(labels.shape) != (n,):
        raise DataError(
            (
                f"{name} in {raw} has images {tuple(images.shape)} and labels {tuple(labels.shape)}, "
                f"expected ({n}, 28, 28) and ({n},)"
            )
        )
    return images, labels


def _check_raw_files(raw: Path, train: bool) -> None:
    """Refuse truncated or padded files before torchvision tries to parse them."""
    for fname, size in _RAW_FILES[train].items():
        path = raw / fname
        if path.exists() and path.stat().st_size != size:
            raise DataError(
                (
                    f"{path} is {path.stat().st_size} bytes, expected {size}: the file is truncated or corrupt; "
                    "delete it to download it again"
                )
            )


def _download(cls, root: Path, raw: Path) -> None:
    """Download with torchvision into ``root``; one clear error when that is impossible."""
    hint = f"set {DATA_ENV} to a folder holding {cls.__name__}/raw, or connect to the internet"
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise DataError(
            f"{cls.__name__} is missing and {root} is not writable; {_expected_files_message(raw)}; {hint}"
        ) from None
    try:
        cls(str(root), train=True, download=True)
    except Exception as e:
        raise DataError(
            f"{cls.__name__} is not in {raw} and could not be downloaded ({e.__class__.__name__}); "
            f"{_expected_files_message(raw)}; {hint}"
        ) from None


def _toy(name: str, split: str) -> Dataset:
    n = {"train": 50_000, "val": 10_000, "test": 10_000, "full": 60_000}[split]
    g = torch.Generator().manual_seed({"train": 0, "val": 1, "test": 2, "full": 3}[split])
    if name == "toy-1d":
        x, y = toy.gaussian_mixture_1d(n, generator=g)
        return Dataset(name, split, x, y, 2)
    if name == "mixture-2d":
        x, y = toy.gaussian_mixture_2d(n, generator=g)
    else:
        x, y = toy.swiss_roll(n, generator=g)
    return Dataset(name, split, x, y, 10)
