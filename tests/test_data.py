"""Datasets: MNIST splits, the read-only data root, missing/damaged files, minibatches, toy sets."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from urllib.error import URLError

import pytest
import torch
import torchvision

import thesis_lib.data as data_mod
from thesis_lib import toy
from thesis_lib.data import DATA_ENV, binarize, data_root, load_dataset, minibatch_indices
from thesis_lib.errors import DataError

RAW_NAMES = [*data_mod._RAW_FILES[True], *data_mod._RAW_FILES[False]]  # the four IDX file names


# ============================================================================ MNIST splits
def test_mnist_splits_shapes_ranges_and_labels(mnist_train):
    train, val, test, full = (
        mnist_train,
        load_dataset("mnist", "val"),
        load_dataset("mnist", "test"),
        load_dataset("mnist", "full"),
    )
    for ds, n in ((train, 50_000), (val, 10_000), (test, 10_000), (full, 60_000)):
        assert len(ds) == n and ds.x.shape == (n, 1, 28, 28) and ds.y.shape == (n,)
        assert ds.shape == (1, 28, 28) and ds.n_classes == 10 and ds.name == "mnist"
        assert ds.x.dtype == torch.float32 and ds.y.dtype == torch.int64
        assert ds.x.min() == 0.0 and ds.x.max() == 1.0
        assert set(ds.y.unique().tolist()) == set(range(10))
    assert (val.split, test.split) == ("val", "test")
    # Pixels are the bytes / 255.
    assert torch.equal(torch.round(train.x[:100] * 255) / 255, train.x[:100])
    # train and val partition the full training file; test is a different file.
    assert torch.equal(train.x, full.x[:50_000]) and torch.equal(train.y, full.y[:50_000])
    assert torch.equal(val.x, full.x[50_000:]) and torch.equal(val.y, full.y[50_000:])
    assert not torch.equal(test.x[:100], val.x[:100])
    # Known facts about the MNIST files: label counts of the test set.
    assert torch.bincount(test.y, minlength=10).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_subset_takes_the_first_examples(mnist_train):
    sub = mnist_train.subset(10)
    assert len(sub) == 10 and torch.equal(sub.x, mnist_train.x[:10]) and torch.equal(sub.y, mnist_train.y[:10])


def test_fashion_mnist_loads(require_fashion_mnist, require_mnist):
    train = load_dataset("fashion-mnist", "train")
    test = load_dataset("fashion-mnist", "test")
    assert train.x.shape == (50_000, 1, 28, 28) and test.x.shape == (10_000, 1, 28, 28)
    assert 0.0 <= train.x.min() and train.x.max() <= 1.0
    assert torch.bincount(test.y).tolist() == [1000] * 10  # Fashion-MNIST's test set is balanced
    assert not torch.equal(train.x[:100], load_dataset("mnist", "train").x[:100])


def test_bad_split_and_dataset_names():
    with pytest.raises(ValueError, match="split must be one of .* got 'training'"):
        load_dataset("mnist", "training")
    with pytest.raises(ValueError, match="dataset must be one of .* got 'cifar'"):
        load_dataset("cifar")


def test_data_root_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert data_root() == tmp_path
    monkeypatch.delenv(DATA_ENV)
    assert data_root() == Path.home() / ".cache" / "thesis_lib" / "data"


# ============================================================================ the data root is never written
def _snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its type, size and modification time."""
    snap = {".": ("dir", os.stat(root).st_mtime_ns)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            snap[str(p.relative_to(root))] = (p.is_dir(), st.st_size, st.st_mtime_ns)
    return snap


def test_loading_writes_nothing_into_the_data_root(require_mnist):
    root = data_root()
    before = _snapshot(root)
    data_mod._load_idx.cache_clear()  # make the loads below really read the files
    for split in ("train", "test", "full", "val"):
        load_dataset("mnist", split)
    if (root / "FashionMNIST" / "raw").is_dir():
        for split in ("train", "test"):
            load_dataset("fashion-mnist", split)
    assert _snapshot(root) == before


# ============================================================================ missing or damaged files
@pytest.fixture
def no_network(monkeypatch):
    """torchvision's download fails as it does offline; records that it was attempted."""
    attempts = []

    def download(self):
        attempts.append(self.root)
        raise URLError("no network in tests")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", download)
    return attempts


def test_missing_data_without_network_raises_data_error(monkeypatch, tmp_path, no_network):
    root = tmp_path / "empty"
    root.mkdir()
    monkeypatch.setenv(DATA_ENV, str(root))
    # The cache is keyed by root, and this root is new, so nothing stale can answer.
    data_mod._load_idx.cache_clear()
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "train")
    message = str(info.value)
    assert no_network, "the download must have been attempted (and failed)"
    assert DATA_ENV in message
    assert str(root / "MNIST" / "raw") in message
    for name in RAW_NAMES:
        assert name in message
    assert "URLError" in message
    assert "\n" not in message


def test_missing_data_in_unwritable_root_raises_data_error(tmp_path, no_network):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    root = blocker / "data"  # cannot be created: its parent is a file
    with pytest.raises(DataError) as info:
        load_dataset("fashion-mnist", "test", root=root)
    message = str(info.value)
    assert "not writable" in message and DATA_ENV in message
    assert all(name in message for name in RAW_NAMES)
    assert not no_network, "no download should be tried where nothing can be written"


def _copy_raw(tmp_path: Path, skip: str = "", only: tuple[str, ...] = ()) -> Path:
    src = data_root() / "MNIST" / "raw"
    if not all((src / name).exists() for name in RAW_NAMES):
        pytest.skip("needs the decompressed IDX files")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in only or RAW_NAMES:
        if name != skip:
            shutil.copyfile(src / name, raw / name)
    return raw


def test_partial_data_folder_downloads_the_missing_files(tmp_path, require_mnist, monkeypatch):
    """Only the training files present (e.g. an interrupted download): the rest is fetched."""
    train_files = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    raw = _copy_raw(tmp_path, only=train_files)
    fetched = []

    def fake_download(self):  # stands in for the network: "downloads" the missing files
        for name in RAW_NAMES:
            if not (Path(self.raw_folder) / name).exists():
                shutil.copyfile(data_root() / "MNIST" / "raw" / name, Path(self.raw_folder) / name)
                fetched.append(name)

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fake_download)
    train = load_dataset("mnist", "train", root=tmp_path)
    assert fetched == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    assert torch.equal(train.x[:100], load_dataset("mnist", "train").x[:100])
    assert sorted(p.name for p in raw.iterdir()) == sorted(RAW_NAMES)


def test_partial_data_folder_without_network_names_the_missing_files(tmp_path, require_mnist, no_network):
    raw = _copy_raw(tmp_path, only=("train-images-idx3-ubyte", "train-labels-idx1-ubyte"))
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "train", root=tmp_path)
    message = str(info.value)
    assert no_network and "could not be downloaded" in message
    assert str(raw) in message and "t10k-images-idx3-ubyte" in message


def test_datasets_do_not_share_memory_with_the_loader_cache(require_mnist):
    """Editing one loaded dataset in place must not change what later loads return."""
    a = load_dataset("mnist", "train")
    label, pixel = a.y[0].item(), a.x[0, 0, 14, 14].item()
    a.y[0] = (label + 1) % 10
    a.x[0] += 0.5
    try:
        b = load_dataset("mnist", "train")
        assert b.y[0].item() == label and b.x[0, 0, 14, 14].item() == pixel
        assert load_dataset("mnist", "full").y[0].item() == label
    finally:
        a.y[0] = label  # if the cache were aliased, leave it as it was for the other tests


def test_truncated_file_raises_data_error(tmp_path, require_mnist, no_network):
    raw = _copy_raw(tmp_path, skip="train-images-idx3-ubyte")
    src = data_root() / "MNIST" / "raw" / "train-images-idx3-ubyte"
    with open(src, "rb") as f:
        (raw / "train-images-idx3-ubyte").write_bytes(f.read(1_000_000))
    data_mod._load_idx.cache_clear()
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "train", root=tmp_path)
    message = str(info.value)
    assert str(raw / "train-images-idx3-ubyte") in message
    assert "truncated" in message and "1000000 bytes" in message
    assert not no_network
    # The test split's files are intact and still load from the same root.
    assert load_dataset("mnist", "test", root=tmp_path).x.shape == (10_000, 1, 28, 28)


def test_corrupt_file_of_the_right_size_raises_data_error(tmp_path, require_mnist, no_network):
    raw = _copy_raw(tmp_path, skip="train-labels-idx1-ubyte")
    (raw / "train-labels-idx1-ubyte").write_bytes(b"\xff" * (8 + 60_000))  # right size, bad header
    data_mod._load_idx.cache_clear()
    with pytest.raises(DataError, match=r"could not read mnist from .*raw"):
        load_dataset("mnist", "full", root=tmp_path)
    assert not no_network


# ============================================================================ minibatches
def test_minibatch_indices_cover_every_index_once():
    batches = minibatch_indices(103, 10, seed=3, epoch=0)
    assert [len(b) for b in batches] == [10] * 10 + [3]
    assert torch.equal(torch.cat(batches).sort().values, torch.arange(103))
    assert not torch.equal(torch.cat(batches), torch.arange(103))  # shuffled


def test_minibatch_indices_depend_only_on_seed_and_epoch():
    torch.manual_seed(123)
    a = torch.cat(minibatch_indices(500, 64, seed=1, epoch=4))
    torch.manual_seed(999)  # the global RNG plays no part
    torch.randn(10)
    assert torch.equal(a, torch.cat(minibatch_indices(500, 64, seed=1, epoch=4)))
    assert not torch.equal(a, torch.cat(minibatch_indices(500, 64, seed=1, epoch=5)))
    assert not torch.equal(a, torch.cat(minibatch_indices(500, 64, seed=2, epoch=4)))


# ============================================================================ toy data
@pytest.mark.parametrize("name, dim, n_classes", [("toy-1d", 1, 2), ("mixture-2d", 2, 10), ("swiss-roll", 2, 10)])
def test_toy_datasets_shapes_and_determinism(name, dim, n_classes):
    train = load_dataset(name, "train")
    assert train.x.shape == (50_000, dim) and train.y.shape == (50_000,) and train.shape == (dim,)
    assert train.x.dtype == torch.float32 and train.n_classes == n_classes
    assert set(train.y.unique().tolist()) == set(range(n_classes))
    again = load_dataset(name, "train")
    assert torch.equal(train.x, again.x) and torch.equal(train.y, again.y)
    val = load_dataset(name, "val")
    assert len(val) == 10_000 and not torch.equal(val.x, train.x[:10_000])
    assert len(load_dataset(name, "full")) == 60_000


def test_toy_1d_matches_its_density():
    x = load_dataset("toy-1d", "train").x[:, 0].double()
    # Mixture of N(-2, 0.5^2) and N(2, 0.5^2), equal weights: mean 0, variance 4 + 0.25.
    se_mean = math.sqrt(4.25 / len(x))
    assert abs(x.mean().item()) < 4 * se_mean
    assert abs(x.var().item() - 4.25) < 0.05
    grid = torch.linspace(-8, 8, 16001, dtype=torch.float64)
    density = toy.gaussian_mixture_1d_density(grid)
    assert abs(torch.trapezoid(density, grid).item() - 1.0) < 1e-6
    # Histogram against density: fraction of points in [1, 3] = P(component 2 within 2 sd) / 2 + tiny.
    frac = ((x > 1) & (x < 3)).double().mean().item()
    expected = torch.trapezoid(density[(grid > 1) & (grid < 3)], grid[(grid > 1) & (grid < 3)]).item()
    assert abs(frac - expected) < 0.01


def test_toy_samplers_are_deterministic_given_a_generator():
    a = toy.gaussian_mixture_2d(100, generator=torch.Generator().manual_seed(1))
    b = toy.gaussian_mixture_2d(100, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    radius = a[0].norm(dim=1)
    assert abs(radius.mean().item() - 4.0) < 0.1
    # Chosen labels pick the component: its points lie around the component's centre.
    x, labels = toy.gaussian_mixture_2d(500, labels=torch.full((500,), 3), generator=torch.Generator().manual_seed(2))
    assert torch.all(labels == 3)
    assert (x.mean(0) - toy.mixture_2d_means()[3]).norm() < 0.3
    roll, _ = toy.swiss_roll(1000, generator=torch.Generator().manual_seed(3))
    assert roll.abs().max() < 1.3


# ============================================================================ binarisation
def test_binarize_gives_bernoulli_pixels():
    x = torch.full((200, 1, 28, 28), 0.3)
    x[:, :, :14] = 0.8
    b = binarize(x, generator=torch.Generator().manual_seed(0))
    assert b.shape == x.shape and b.dtype == x.dtype
    assert set(b.unique().tolist()) == {0.0, 1.0}
    for p, part in ((0.8, b[:, :, :14]), (0.3, b[:, :, 14:])):
        se = math.sqrt(p * (1 - p) / part.numel())
        assert abs(part.mean().item() - p) < 4 * se
    assert torch.equal(b, binarize(x, generator=torch.Generator().manual_seed(0)))
    assert torch.equal(binarize(torch.zeros(10)), torch.zeros(10)) and torch.equal(
        binarize(torch.ones(10)), torch.ones(10)
    )
