"""The four models of the thesis, and :func:`build_model` to make one from its config."""

from __future__ import annotations

from ..config import ModelConfig, RunConfig
from .aae import AdversarialAutoencoder
from .ae import Autoencoder
from .base import ELBOTerms, GenerativeModel, LatentAxes, Phase
from .gan import GAN
from .vae import VAE

MODELS: dict[str, type[GenerativeModel]] = {
    "ae": Autoencoder,
    "gan": GAN,
    "vae": VAE,
    "aae": AdversarialAutoencoder,
}


def build_model(config: ModelConfig | RunConfig, **kwargs) -> GenerativeModel:
    """The model a config describes (e.g. :class:`VAE` for a :class:`~thesis_lib.config.VAEConfig`).

    A :class:`~thesis_lib.config.RunConfig` builds its model config's model. Seed first
    (:func:`thesis_lib.seed.seed_everything`) for repeatable initial weights.
    """
    if isinstance(config, RunConfig):
        config = config.config
    return MODELS[config.model](config, **kwargs)


__all__ = [
    "MODELS",
    "build_model",
    "ELBOTerms",
    "GenerativeModel",
    "LatentAxes",
    "Phase",
    "Autoencoder",
    "GAN",
    "VAE",
    "AdversarialAutoencoder",
]
