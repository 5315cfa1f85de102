"""The four models' settings and their chapters' training schedules, one pair per model.

A model config says what the model *is* (architecture, losses, the data it models); the model is
built from it alone. Its schedule says how the chapter trains it. Defaults are the book chapter's
settings, so ``thesis-lib train gan`` with no options trains exactly the chapter's GAN::

    >>> VAEConfig(latent_dim=0)
    Traceback (most recent call last):
    ...
    ValueError: latent_dim must be an integer >= 1, got 0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from ..data import IMAGE_DATASETS, DatasetName, image_datasets_text
from .schedule import Schedule
from .settings import Settings, check_int, check_positive, check_range, check_sizes, setting, write_json


@dataclass
class ModelConfig(Settings):
    """Settings every model has."""

    model: ClassVar[str] = ""
    schedule_class: ClassVar[type[Schedule]] = Schedule
    what: ClassVar[str] = "config"

    dataset: DatasetName = setting(
        "mnist",
        "the data the model describes: an image set or a 1-D / 2-D toy set (see :mod:`thesis_lib.data`).",
    )

    @classmethod
    def describe(cls) -> str:
        return f"{cls.model} config"

    def to_dict(self) -> dict[str, Any]:
        """``{"model": name, **fields}``: :func:`~thesis_lib.config.config_from_dict` rebuilds it."""
        return {"model": self.model, **super().to_dict()}

    def to_json(self, path) -> None:
        write_json(self.to_dict(), path)

    def _needs_images(self, what: str) -> None:
        if self.dataset not in IMAGE_DATASETS:
            raise ValueError(f"{what} needs an image dataset ({image_datasets_text()}), got dataset {self.dataset!r}")


# ----------------------------------------------------------------------------- 1.1 autoencoder
@dataclass
class AESchedule(Schedule):
    """The autoencoder chapter's schedule."""

    epochs: int = 5
    lr: float = 3e-3


@dataclass
class AEConfig(ModelConfig):
    """Autoencoder (thesis 1.1)."""

    model: ClassVar[str] = "ae"
    schedule_class: ClassVar[type[Schedule]] = AESchedule

    latent_dim: int = setting(
        10,
        "size of the code y = E(x); the thesis's example compresses 28x28 to 10.",
    )
    hidden_dims: tuple[int, ...] = setting(
        (512, 256),
        "hidden layer sizes of the encoder; the decoder mirrors them. ``()`` is the thesis's simplest "
        "3-layer form: input, the code as the one hidden layer, output.",
    )
    arch: Literal["mlp", "conv"] = setting(
        "mlp",
        "``mlp`` (fully connected) or ``conv`` (convolutional, images only).",
    )
    channels: tuple[int, ...] = setting(
        (32, 64),
        "the two widths (c1, c2) of the convolutional encoder 1x28x28 -> c1x14x14 -> c2x7x7 -> code; the "
        "decoder mirrors them.",
    )
    recon_loss: Literal["bce", "mse"] = setting(
        "bce",
        "``bce`` (Bernoulli negative log-likelihood) or ``mse`` (Gaussian, fixed variance).",
    )
    corruption: Literal["none", "gaussian", "mask"] = setting(
        "none",
        "``none``, ``gaussian`` (denoising) or ``mask`` (inpainting): the input is corrupted, the clean "
        "image is the target.",
    )
    noise_std: float = setting(
        0.5,
        "standard deviation of the Gaussian corruption.",
    )
    mask_size: int = setting(
        12,
        "side of the square hole cut out by the ``mask`` corruption.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("latent_dim", self.latent_dim)
        check_sizes("hidden_dims", self.hidden_dims, allow_empty=True)
        check_sizes("channels", self.channels)
        if len(self.channels) != 2:
            raise ValueError(f"channels must be two integers (c1, c2), got {list(self.channels)}")
        check_positive("noise_std", self.noise_std)
        check_int("mask_size", self.mask_size)
        for name, value, bad in (
            ("arch", self.arch, "conv"),
            ("recon_loss", self.recon_loss, "bce"),
            ("corruption", self.corruption, "mask"),
        ):
            if value == bad:
                self._needs_images(f"{name} {bad!r}")


# ----------------------------------------------------------------------------- 1.2 GAN
@dataclass
class GANSchedule(Schedule):
    """The GAN chapter's schedule: short and fast, made possible by the generator's moving average.

    Adam with lr 2e-3 and betas (0, 0.99) (no momentum, as in later GAN work, e.g. Karras et al.
    2018): after the same 4 epochs it is far ahead of betas (0.5, 0.999), at this learning rate or
    at the usual lr 3e-4 (``thesis-lib reproduce gan-recipe``; the chapter shows the table).
    """

    epochs: int = 4
    batch_size: int = 64
    lr: float = 2e-3
    adam_betas: tuple[float, float] = (0.0, 0.99)
    d_lr_factor: float = setting(
        1.0,
        "the discriminator's learning rate as a multiple of lr (the generator's): above 1 D learns faster.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("d_lr_factor", self.d_lr_factor)


@dataclass
class GANConfig(ModelConfig):
    """Generative adversarial network (thesis 1.2, Goodfellow et al. 2014)."""

    model: ClassVar[str] = "gan"
    schedule_class: ClassVar[type[Schedule]] = GANSchedule

    arch: Literal["mlp", "conv"] = setting(
        "mlp",
        "``mlp``: multilayer perceptrons, as in the paper (G with batch normalisation on image data); "
        "``conv``: the convolutional DCGAN of Radford et al. (2016), images only.",
    )
    latent_dim: int = setting(
        64,
        "size of the noise z ~ p_z = N(0, I).",
    )
    g_hidden: tuple[int, ...] = setting(
        (256, 512),
        "hidden layer sizes of the MLP generator G.",
    )
    d_hidden: tuple[int, ...] = setting(
        (512,),
        "hidden layer sizes of the MLP discriminator D.",
    )
    channels: int = setting(
        32,
        "width c of the convolutional nets (G: 2c x 7 x 7 -> c x 14 x 14; D the mirror).",
    )
    k: int = setting(
        1,
        "discriminator steps per generator step (Algorithm 1), each on a fresh minibatch.",
    )
    generator_loss: Literal["minimax", "nonsaturating"] = setting(
        "nonsaturating",
        "``minimax`` descends log(1 - D(G(z))) as in Algorithm 1; ``nonsaturating`` descends -log "
        "D(G(z)), the paper's recommended fix.",
    )
    conditional: bool = setting(
        False,
        "model p(x | c): the one-hot label c is given to both G and D.",
    )
    dropout: float = setting(
        0.0,
        "dropout in D's hidden layers.",
    )
    ema: float = setting(
        0.999,
        "decay of the exponential moving average of G's weights that the model samples with (0: sample "
        "with G itself). The decay is ``min(ema, (1 + t) / (10 + t))`` after t updates, so early on the "
        "average forgets fast. A 2018 addition (Yazıcı et al.; Karras et al.).",
    )
    data_init: bool = setting(
        True,
        "start G's output at the data's mean image: its last bias is offset by the logit of each pixel's "
        "mean (the paper's code, ``init_sigmoid_bias_from_marginals``).",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("latent_dim", self.latent_dim)
        check_sizes("g_hidden", self.g_hidden)
        check_sizes("d_hidden", self.d_hidden)
        check_int("channels", self.channels)
        check_int("k", self.k)
        check_range("dropout", self.dropout, 0.0, 1.0, high_open=True)
        check_range("ema", self.ema, 0.0, 1.0, high_open=True)
        if self.arch == "conv":
            self._needs_images("arch 'conv'")


# ----------------------------------------------------------------------------- 1.3 VAE
@dataclass
class VAESchedule(Schedule):
    """The VAE chapter's schedule: 35 epochs on minibatches of 256 at lr 2e-3.

    On two CPU cores a minibatch of 256 costs less than two of 128 (``benchmarks/bench_training.py``),
    so 35 such epochs take about as long as 29 of 128, and their samples are at least as good as
    those of 35 epochs of 128 at lr 1e-3 by the judge's Fréchet distance
    (``benchmarks/bench_vae_schedule.py``; the table is in ``benchmarks/README.md``).
    """

    epochs: int = 35
    batch_size: int = 256
    lr: float = 2e-3


@dataclass
class VAEConfig(ModelConfig):
    """Variational autoencoder (thesis 1.3, Kingma & Welling 2013)."""

    model: ClassVar[str] = "vae"
    schedule_class: ClassVar[type[Schedule]] = VAESchedule

    latent_dim: int = setting(
        32,
        "size of z; the prior is p(z) = N(0, I).",
    )
    hidden_dims: tuple[int, ...] = setting(
        (512, 256),
        "hidden layer sizes of the encoder q(z|x); the decoder mirrors them.",
    )
    decoder: Literal["bernoulli", "gaussian"] = setting(
        "bernoulli",
        "``bernoulli`` p(x|z) (logits) or ``gaussian`` (mean and a learned per-pixel variance).",
    )
    estimator: Literal["A", "B"] = setting(
        "B",
        "``A`` (Monte Carlo log p(x,z) - log q(z|x)) or ``B`` (analytic KL + Monte Carlo reconstruction).",
    )
    n_samples: int = setting(
        1,
        "L, samples of z per datapoint.",
    )
    objective: Literal["dataset", "sum", "mean", "pixel-mean"] = setting(
        "sum",
        "what the optimiser descends: ``dataset`` = Algorithm 2's (N/M) sum over the minibatch, ``sum`` ="
        " the sum over the minibatch (the PyTorch example), ``mean`` = per example; ``pixel-mean`` is a common"
        " mistake, not the bound: the reconstruction term averaged over the pixels, the KL summed (the KL"
        " weighted D times; see losses.pixel_mean_loss). Unless it is ``mean``, it is logged apart as"
        " ``-elbo objective``; ``-elbo`` is always nats per example.",
    )
    kl_weight: float = setting(
        1.0,
        "β, the weight of the KL term in what the optimiser descends (Higgins et al. 2017's β-VAE): 1 is the"
        " bound; above 1 each nat the codes carry costs β nats of reconstruction, so units whose information"
        " is worth less fall back to the prior (see losses.kl_weighted_bound). ``-elbo`` stays the bound.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("latent_dim", self.latent_dim)
        check_sizes("hidden_dims", self.hidden_dims)
        check_int("n_samples", self.n_samples)
        check_positive("kl_weight", self.kl_weight)
        if self.kl_weight != 1 and self.objective == "pixel-mean":
            raise ValueError(
                f"kl_weight {self.kl_weight} with objective 'pixel-mean': the pixel mean already weighs the KL term"
                " D times; use kl_weight with 'dataset', 'sum' or 'mean'"
            )
        if self.decoder == "bernoulli" and self.dataset not in IMAGE_DATASETS:
            raise ValueError(
                f"decoder 'bernoulli' needs an image dataset ({image_datasets_text()}), got dataset "
                f"{self.dataset!r}; use decoder 'gaussian'"
            )


# ----------------------------------------------------------------------------- 1.4 AAE
@dataclass
class AAESchedule(Schedule):
    """The adversarial autoencoder chapter's schedule."""

    epochs: int = 6
    batch_size: int = 100
    lr: float = 1e-3
    adam_betas: tuple[float, float] = (0.5, 0.999)
    reg_lr: float = setting(
        2e-4,
        "learning rate of the regularisation phase (discriminator and encoder).",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("reg_lr", self.reg_lr)


@dataclass
class AAEConfig(ModelConfig):
    """Adversarial autoencoder (thesis 1.4, Makhzani et al. 2016)."""

    model: ClassVar[str] = "aae"
    schedule_class: ClassVar[type[Schedule]] = AAESchedule

    latent_dim: int = setting(
        2,
        "size of z.",
    )
    hidden_dims: tuple[int, ...] = setting(
        (256, 256),
        "hidden sizes of encoder (decoder mirrors them).",
    )
    d_hidden: tuple[int, ...] = setting(
        (128, 128),
        "hidden sizes of the discriminator on z.",
    )
    encoder: Literal["deterministic", "gaussian", "universal"] = setting(
        "deterministic",
        "``deterministic``, ``gaussian`` or ``universal`` (extra noise input eta).",
    )
    noise_dim: int = setting(
        8,
        "size of eta for the universal approximator encoder.",
    )
    prior: Literal["gaussian", "mixture", "swiss-roll"] = setting(
        "gaussian",
        "``gaussian``, ``mixture``, ``swiss-roll`` (or a user sampler passed to the model).",
    )
    prior_std: float = setting(
        5.0,
        "standard deviation of the Gaussian prior (the AAE paper's MNIST runs use 5).",
    )
    n_components: int = setting(
        10,
        "components of the mixture prior.",
    )
    label_prior: bool = setting(
        False,
        "use the label: each class gets its own mixture component or swiss-roll segment, and D sees the one-hot label.",
    )
    dropout: float = setting(
        0.0,
        "dropout in the hidden layers of the encoder/decoder/discriminator.",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("latent_dim", self.latent_dim)
        check_sizes("hidden_dims", self.hidden_dims)
        check_sizes("d_hidden", self.d_hidden)
        check_int("noise_dim", self.noise_dim)
        check_positive("prior_std", self.prior_std)
        check_int("n_components", self.n_components)
        check_range("dropout", self.dropout, 0.0, 1.0, high_open=True)
        self._needs_images("the AAE's Bernoulli decoder")
        if self.prior in ("mixture", "swiss-roll") and self.latent_dim != 2:
            raise ValueError(
                f"prior {self.prior!r} is defined in 2 dimensions: latent_dim must be 2, got {self.latent_dim}"
            )


CONFIGS: dict[str, type[ModelConfig]] = {c.model: c for c in (AEConfig, GANConfig, VAEConfig, AAEConfig)}
"""Every model's config class, by model name (the CLI's ``train`` subcommands)."""
