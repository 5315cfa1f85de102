"""A small MNIST classifier, trained once and cached, that the sample-quality metrics look through.

The Inception network behind the FID and the Inception score was trained on ImageNet and
cannot be downloaded here, so the library trains its own judge: a LeNet-style CNN that reaches
about 99% test accuracy on MNIST in three epochs on a CPU (about a minute).

The MNIST judge ships with the package (``results/judge/classifier-mnist.pt``, written by
``scripts/store_judge.py``): every build and every reader scores with the same weights, and a
cold build does not spend its minute training it. The stored file records the settings and the
fingerprint of the code that trained it (:func:`thesis_lib.cache.source_fingerprint` without the
torch version), and it is used only while both still match; otherwise (and for Fashion-MNIST)
the judge is trained once and saved under the run cache (``$THESIS_LIB_RUNS``), keyed by the
same code, the settings and the torch version. :func:`load_classifier` refuses a classifier
below :data:`MIN_ACCURACY`: a weak judge would make the scores meaningless.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..cache import atomic_write, key, runs_root, source_fingerprint
from ..data import IMAGE_DATASETS, image_datasets_text, load_dataset
from ..profiling import timed
from ..seed import seed_everything, select_device

MIN_ACCURACY = {"mnist": 0.985, "fashion-mnist": 0.88}
"""The test accuracy a cached classifier must reach before its scores are trusted."""


class Classifier(nn.Module):
    """1x28x28 -> conv5x5(16) -> pool -> conv5x5(32) -> pool -> 128 features -> 10 logits."""

    def __init__(self, n_classes: int = 10, n_features: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, n_features), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(n_features, n_classes))

    def features(self, x: Tensor) -> Tensor:
        """The penultimate layer (the Fréchet distance compares these)."""
        return self.body(x.view(-1, 1, 28, 28))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


@dataclass(frozen=True)
class ClassifierSettings:
    """How the judge is trained (part of its cache key)."""

    dataset: str = "mnist"
    epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0


@torch.no_grad()
def accuracy(classifier: Classifier, x: Tensor, y: Tensor, batch_size: int = 1000) -> float:
    """Fraction of ``x`` classified as ``y``."""
    classifier.eval()
    device = next(classifier.parameters()).device
    correct = sum(
        (classifier(x[i : i + batch_size].to(device)).argmax(1).cpu() == y[i : i + batch_size]).sum().item()
        for i in range(0, len(x), batch_size)
    )
    return correct / len(x)


def train_classifier(
    settings: ClassifierSettings = ClassifierSettings(), progress: bool = True
) -> tuple[Classifier, float]:
    """Train the judge on all 60,000 training images; returns it and its test accuracy."""
    seed_everything(settings.seed)
    device = select_device("auto")
    data, test = load_dataset(settings.dataset, "full"), load_dataset(settings.dataset, "test")
    x, y = data.x.to(device), data.y.to(device)
    model = Classifier(data.n_classes).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    g = torch.Generator().manual_seed(settings.seed)
    steps = [
        (e, idx)
        for e in range(settings.epochs)
        for idx in torch.randperm(len(x), generator=g).split(settings.batch_size)
    ]
    model.train()
    for _, idx in tqdm(
        steps, desc=f"training the {settings.dataset} classifier", disable=not progress, mininterval=1.0
    ):
        loss = nn.functional.cross_entropy(model(x[idx.to(device)]), y[idx.to(device)])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval(), accuracy(model, test.x, test.y)


STORED_JUDGES = Path(__file__).resolve().parent.parent / "results" / "judge"
"""Where the package keeps its trained judges (``classifier-<dataset>.pt``)."""


def judge_code() -> str:
    """The fingerprint of the code that trains the judge (this module and what it imports; no torch version)."""
    return source_fingerprint([__name__.removeprefix("thesis_lib.")], with_torch=False)


def stored_judge_path(settings: ClassifierSettings = ClassifierSettings()) -> Path:
    return STORED_JUDGES / f"classifier-{settings.dataset}.pt"


def stored_judge_state(settings: ClassifierSettings = ClassifierSettings()) -> dict | None:
    """The judge stored in the package for ``settings``, if it was trained by the current code with
    these settings (else None: it would be stale)."""
    path = stored_judge_path(settings)
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("settings") != asdict(settings) or state.get("code") != judge_code():
        return None
    return state


def store_judge(model: Classifier, test_accuracy: float, settings: ClassifierSettings = ClassifierSettings()) -> Path:
    """Write ``model`` as the package's stored judge for ``settings`` (see ``scripts/store_judge.py``)."""
    path = stored_judge_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "model": model.state_dict(),
        "test_accuracy": test_accuracy,
        "settings": asdict(settings),
        "code": judge_code(),
        "torch": str(torch.__version__),
        "threads": torch.get_num_threads(),
    }
    atomic_write(path, lambda p: torch.save(state, p))
    return path


def classifier_dir(settings: ClassifierSettings = ClassifierSettings()) -> Path:
    """Where the judge for ``settings`` is cached (under the run cache, keyed by code and settings)."""
    return runs_root() / (
        f"classifier-{settings.dataset}-"
        f"{key(json.dumps(asdict(settings), sort_keys=True), source_fingerprint([__name__.removeprefix('thesis_lib.')]))}"  # noqa: E501 (shorter only with a new name: another code fingerprint for the judge)
    )


@timed("judge")
def load_classifier(dataset: str = "mnist", progress: bool = True) -> Classifier:
    """The judge for ``dataset``: the package's stored one while it matches the code (MNIST), else
    the run cache's, trained and cached the first time (about a minute)."""
    if dataset not in IMAGE_DATASETS:
        raise ValueError(
            f"the sample-quality classifier needs an image dataset ({image_datasets_text()}), got {dataset!r}"
        )
    settings = ClassifierSettings(dataset=dataset)
    path = classifier_dir(settings) / "classifier.pt"
    state = stored_judge_state(settings)
    if state is None and path.exists():
        state = torch.load(path, map_location="cpu", weights_only=True)
    if state is not None:
        model = Classifier()
        model.load_state_dict(state["model"])
        acc = float(state["test_accuracy"])
    else:
        model, acc = train_classifier(settings, progress=progress)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(
            path,
            lambda p: torch.save({"model": model.state_dict(), "test_accuracy": acc, "settings": asdict(settings)}, p),
        )
    if acc < MIN_ACCURACY[dataset]:
        raise ValueError(
            (
                f"the cached {dataset} classifier at {path} has test accuracy {acc:.4f}, below the required "
                f"{MIN_ACCURACY[dataset]}: delete it to retrain"
            )
        )
    model.test_accuracy = acc
    return model.eval()
