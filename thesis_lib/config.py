"""Configurations: one dataclass per model, validated on construction, saved as JSON.

Every model's defaults are the settings its book chapter uses, so ``thesis-lib train gan``
with no options trains exactly the chapter's GAN. A bad value raises :class:`ValueError`
naming the field, the value and what is allowed::

    >>> VAEConfig(latent_dim=0)
    Traceback (most recent call last):
    ...
    ValueError: latent_dim must be an integer >= 1, got 0
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

IMAGE_DATASETS = ("mnist", "fashion-mnist")
DATASETS = (*IMAGE_DATASETS, "toy-1d", "mixture-2d", "swiss-roll")
OPTIMIZERS = ("sgd", "adagrad", "adam")
DEVICES = ("auto", "cpu", "cuda", "mps")


# ----------------------------------------------------------------------------- checks
def check_int(name: str, value: Any, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}")


def check_range(name: str, value: Any, low: float, high: float, *, high_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and low <= value and (value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must be a number in [{low}, {high}{bracket}, got {value!r}")


def check_choice(name: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


def check_sizes(name: str, value: Any, *, allow_empty: bool = False) -> None:
    ok = isinstance(value, tuple) and all(not isinstance(v, bool) and isinstance(v, int) and v >= 1 for v in value)
    if not ok or (not value and not allow_empty):
        what = "a (possibly empty) list" if allow_empty else "a non-empty list"
        raise ValueError(f"{name} must be {what} of integers >= 1, got {list(value) if isinstance(value, tuple) else value!r}")


# ----------------------------------------------------------------------------- base
@dataclass
class TrainConfig:
    """Settings every model shares: data, optimiser and schedule.

    Attributes:
        dataset: ``mnist``, ``fashion-mnist`` or a toy set (``toy-1d``, ``mixture-2d``, ``swiss-roll``).
        epochs: passes over the training split (train[:50000] for the image sets).
        batch_size: minibatch size m (Algorithm 1) or M (Algorithm 2).
        lr: learning rate of every optimiser the model declares (models may scale it per optimiser).
        optimizer: ``sgd``, ``adagrad`` (the VAE paper's) or ``adam``.
        momentum: SGD momentum (ignored by the other optimisers).
        adam_betas: Adam's (beta1, beta2).
        seed: seeds Python, NumPy and PyTorch; CPU runs are repeatable bit for bit.
        device: ``auto`` picks cuda, then mps, then cpu.
        binarize: dynamic binarisation: every minibatch is resampled as Bernoulli(pixel).
    """

    model: ClassVar[str] = ""

    dataset: str = "mnist"
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    seed: int = 0
    device: str = "auto"
    binarize: bool = False

    def __post_init__(self) -> None:
        # JSON and argparse give lists; the dataclass stores tuples so configs compare equal after a JSON round trip.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                setattr(self, f.name, tuple(value))
        check_choice("dataset", self.dataset, DATASETS)
        check_int("epochs", self.epochs)
        check_int("batch_size", self.batch_size)
        check_positive("lr", self.lr)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        if not (isinstance(self.adam_betas, tuple) and len(self.adam_betas) == 2):
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        for b in self.adam_betas:
            check_range("adam_betas", b, 0.0, 1.0, high_open=True)
        check_int("seed", self.seed, minimum=0)
        check_choice("device", self.device, DEVICES)
        if not isinstance(self.binarize, bool):
            raise ValueError(f"binarize must be true or false, got {self.binarize!r}")

    # -- serialisation ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = {"model": self.model}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            d[f.name] = list(value) if isinstance(value, tuple) else value
        return d

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    def replace(self, **changes: Any) -> "TrainConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


# ----------------------------------------------------------------------------- models
@dataclass
class AEConfig(TrainConfig):
    """Autoencoder (thesis 1.1).

    Attributes:
        latent_dim: size of the code y = E(x); the thesis's example compresses 28x28 to 10.
        hidden_dims: hidden layer sizes of the encoder; the decoder mirrors them.
            ``(h,)`` is the thesis's simplest 3-layer form; ``()`` is a linear autoencoder.
        arch: ``mlp`` (fully connected) or ``conv`` (convolutional, images only).
        recon_loss: ``bce`` (Bernoulli negative log-likelihood) or ``mse`` (Gaussian, fixed variance).
        corruption: ``none``, ``gaussian`` (denoising) or ``mask`` (inpainting): the input is
            corrupted, the clean image is the target.
        noise_std: standard deviation of the Gaussian corruption.
        mask_size: side of the square hole cut out by the ``mask`` corruption.
    """

    model: ClassVar[str] = "ae"

    epochs: int = 5
    lr: float = 3e-3
    latent_dim: int = 10
    hidden_dims: tuple[int, ...] = (512, 256)
    arch: str = "mlp"
    recon_loss: str = "bce"
    corruption: str = "none"
    noise_std: float = 0.5
    mask_size: int = 12

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("latent_dim", self.latent_dim)
        check_sizes("hidden_dims", self.hidden_dims, allow_empty=True)
        check_choice("arch", self.arch, ("mlp", "conv"))
        check_choice("recon_loss", self.recon_loss, ("bce", "mse"))
        check_choice("corruption", self.corruption, ("none", "gaussian", "mask"))
        check_positive("noise_std", self.noise_std)
        check_int("mask_size", self.mask_size)
        if self.dataset not in IMAGE_DATASETS:
            for name, value, bad in (("arch", self.arch, "conv"), ("recon_loss", self.recon_loss, "bce"), ("corruption", self.corruption, "mask")):
                if value == bad:
                    raise ValueError(f"{name} {bad!r} needs an image dataset ('mnist' or 'fashion-mnist'), got dataset {self.dataset!r}")


@dataclass
class GANConfig(TrainConfig):
    """Generative adversarial network (thesis 1.2, Goodfellow et al. 2014).

    Attributes:
        latent_dim: size of the noise z ~ p_z = N(0, I).
        g_hidden: hidden layer sizes of the generator G.
        d_hidden: hidden layer sizes of the discriminator D.
        k: discriminator steps per generator step (Algorithm 1), each on a fresh minibatch.
        generator_loss: ``minimax`` descends log(1 - D(G(z))) as in Algorithm 1;
            ``nonsaturating`` descends -log D(G(z)), the paper's recommended fix.
        conditional: model p(x | c): the one-hot label c is given to both G and D.
        dropout: dropout in D's hidden layers.
    """

    model: ClassVar[str] = "gan"

    epochs: int = 6
    batch_size: int = 64
    lr: float = 3e-4
    adam_betas: tuple[float, float] = (0.5, 0.999)
    latent_dim: int = 64
    g_hidden: tuple[int, ...] = (256, 512)
    d_hidden: tuple[int, ...] = (512,)
    k: int = 1
    generator_loss: str = "nonsaturating"
    conditional: bool = False
    dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("latent_dim", self.latent_dim)
        check_sizes("g_hidden", self.g_hidden)
        check_sizes("d_hidden", self.d_hidden)
        check_int("k", self.k)
        check_choice("generator_loss", self.generator_loss, ("minimax", "nonsaturating"))
        if not isinstance(self.conditional, bool):
            raise ValueError(f"conditional must be true or false, got {self.conditional!r}")
        check_range("dropout", self.dropout, 0.0, 1.0, high_open=True)


@dataclass
class VAEConfig(TrainConfig):
    """Variational autoencoder (thesis 1.3, Kingma & Welling 2013).

    Attributes:
        latent_dim: size of z; the prior is p(z) = N(0, I).
        hidden_dims: hidden layer sizes of the encoder q(z|x); the decoder mirrors them.
        decoder: ``bernoulli`` p(x|z) (logits) or ``gaussian`` (mean and a learned per-pixel variance).
        estimator: ``A`` (Monte Carlo log p(x,z) - log q(z|x)) or ``B`` (analytic KL + Monte Carlo
            reconstruction).
        n_samples: L, samples of z per datapoint.
        objective: what the optimiser descends: ``dataset`` = Algorithm 2's (N/M) sum over the
            minibatch, ``sum`` = the sum over the minibatch (the PyTorch example), ``mean`` = per
            example. Logged values are always nats per example.
    """

    model: ClassVar[str] = "vae"

    epochs: int = 35
    latent_dim: int = 32
    hidden_dims: tuple[int, ...] = (512, 256)
    decoder: str = "bernoulli"
    estimator: str = "B"
    n_samples: int = 1
    objective: str = "sum"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("latent_dim", self.latent_dim)
        check_sizes("hidden_dims", self.hidden_dims)
        check_choice("decoder", self.decoder, ("bernoulli", "gaussian"))
        check_choice("estimator", self.estimator, ("A", "B"))
        check_int("n_samples", self.n_samples)
        check_choice("objective", self.objective, ("dataset", "sum", "mean"))
        if self.decoder == "bernoulli" and self.dataset not in IMAGE_DATASETS:
            raise ValueError(f"decoder 'bernoulli' needs an image dataset ('mnist' or 'fashion-mnist'), got dataset {self.dataset!r}; use decoder 'gaussian'")


@dataclass
class AAEConfig(TrainConfig):
    """Adversarial autoencoder (thesis 1.4, Makhzani et al. 2016).

    Attributes:
        latent_dim: size of z.
        hidden_dims: hidden sizes of encoder (decoder mirrors them).
        d_hidden: hidden sizes of the discriminator on z.
        encoder: ``deterministic``, ``gaussian`` or ``universal`` (extra noise input eta).
        noise_dim: size of eta for the universal approximator encoder.
        prior: ``gaussian``, ``mixture``, ``swiss-roll`` (or a user sampler passed to the model).
        prior_std: standard deviation of the Gaussian prior (the AAE paper's MNIST runs use 5).
        n_components: components of the mixture prior.
        label_prior: use the label: each class gets its own mixture component or swiss-roll
            segment, and D sees the one-hot label.
        reg_lr: learning rate of the regularisation phase (discriminator and encoder).
        dropout: dropout in the hidden layers of the encoder/decoder/discriminator.
    """

    model: ClassVar[str] = "aae"

    epochs: int = 6
    batch_size: int = 100
    lr: float = 1e-3
    adam_betas: tuple[float, float] = (0.5, 0.999)
    latent_dim: int = 2
    hidden_dims: tuple[int, ...] = (256, 256)
    d_hidden: tuple[int, ...] = (128, 128)
    encoder: str = "deterministic"
    noise_dim: int = 8
    prior: str = "gaussian"
    prior_std: float = 5.0
    n_components: int = 10
    label_prior: bool = False
    reg_lr: float = 2e-4
    dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("latent_dim", self.latent_dim)
        check_sizes("hidden_dims", self.hidden_dims)
        check_sizes("d_hidden", self.d_hidden)
        check_choice("encoder", self.encoder, ("deterministic", "gaussian", "universal"))
        check_int("noise_dim", self.noise_dim)
        check_choice("prior", self.prior, ("gaussian", "mixture", "swiss-roll"))
        check_positive("prior_std", self.prior_std)
        check_int("n_components", self.n_components)
        if not isinstance(self.label_prior, bool):
            raise ValueError(f"label_prior must be true or false, got {self.label_prior!r}")
        check_positive("reg_lr", self.reg_lr)
        check_range("dropout", self.dropout, 0.0, 1.0, high_open=True)
        if self.dataset not in IMAGE_DATASETS:
            raise ValueError(f"the AAE's Bernoulli decoder needs an image dataset ('mnist' or 'fashion-mnist'), got dataset {self.dataset!r}")
        if self.prior in ("mixture", "swiss-roll") and self.latent_dim != 2:
            raise ValueError(f"prior {self.prior!r} is defined in 2 dimensions: latent_dim must be 2, got {self.latent_dim}")


CONFIGS: dict[str, type[TrainConfig]] = {c.model: c for c in (AEConfig, GANConfig, VAEConfig, AAEConfig)}


def config_from_dict(d: dict[str, Any]) -> TrainConfig:
    """Rebuild a config from :meth:`TrainConfig.to_dict` output (validated)."""
    d = dict(d)
    name = d.pop("model", None)
    check_choice("model", name, tuple(CONFIGS))
    cls = CONFIGS[name]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"unknown {name} config field {unknown[0]!r}; allowed: {', '.join(sorted(known))}")
    return cls(**d)


def load_config(path: str | Path) -> TrainConfig:
    """Read a ``config.json`` written by :meth:`TrainConfig.to_json`."""
    try:
        d = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(d).__name__}")
    return config_from_dict(d)


def field_types(cls: type[TrainConfig]) -> dict[str, Any]:
    """Resolved type hints of a config class's fields (used by the CLI to build its options)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}
