"""thesis_lib: the four generative models of the thesis with one shared trainer.

    >>> from thesis_lib import VAEConfig, train
    >>> run = train(VAEConfig(), epochs=1, out_dir="runs/vae")   # doctest: +SKIP
    >>> run.model.sample(16).shape                              # doctest: +SKIP
    torch.Size([16, 1, 28, 28])

Settings are split by owner: the model's config (``VAEConfig``), the training schedule
(``VAESchedule``, the chapter's by default; ``train(..., epochs=6)`` changes a field) and the
system (``System``: device, threads, progress bar). Thesis section -> module: 1.1
:mod:`thesis_lib.models.ae`, 1.2 :mod:`thesis_lib.models.gan`, 1.3 :mod:`thesis_lib.models.vae`,
1.4 :mod:`thesis_lib.models.aae`; every loss in :mod:`thesis_lib.losses`; the shared trainer in
:mod:`thesis_lib.trainer`.
"""

from .api import load, train
from .callbacks import Callback, SampleGrid
from .config import (
    AAEConfig,
    AAESchedule,
    AEConfig,
    AESchedule,
    GANConfig,
    GANSchedule,
    ModelConfig,
    RunConfig,
    Schedule,
    System,
    VAEConfig,
    VAESchedule,
    config_from_dict,
    load_config,
    run_config,
)
from .data import Dataset, data_root, load_dataset
from .diagnosis import diagnose
from .errors import CheckpointError, DataError, RunCacheError, ThesisLibError, TrainingDiverged
from .history import History
from .models import GAN, VAE, AdversarialAutoencoder, Autoencoder, GenerativeModel, Phase, build_model
from .seed import seed_everything, select_device
from .trainer import Trainer

__version__ = "0.1.0"

__all__ = [
    "AAEConfig",
    "AEConfig",
    "GANConfig",
    "VAEConfig",
    "ModelConfig",
    "AAESchedule",
    "AESchedule",
    "GANSchedule",
    "VAESchedule",
    "Schedule",
    "System",
    "RunConfig",
    "config_from_dict",
    "load_config",
    "run_config",
    "Autoencoder",
    "GAN",
    "VAE",
    "AdversarialAutoencoder",
    "GenerativeModel",
    "Phase",
    "build_model",
    "Trainer",
    "History",
    "Callback",
    "SampleGrid",
    "train",
    "load",
    "diagnose",
    "Dataset",
    "data_root",
    "load_dataset",
    "seed_everything",
    "select_device",
    "ThesisLibError",
    "DataError",
    "CheckpointError",
    "RunCacheError",
    "TrainingDiverged",
]
