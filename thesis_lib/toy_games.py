"""The games that the book's pages play live (:mod:`thesis_lib.widgets.game`), and their torch reference.

Two toy games run in the reader's browser, in plain JavaScript (``widgets/game.js``):

* :class:`GANGame`: Algorithm 1 of chapter 1.2 on the 1-D mixture (``toy-1d``, the chapter's
  Figure 1) or the ring of ten Gaussians (``mixture-2d``): k discriminator steps, each on a fresh
  minibatch, then one generator step with the minimax or the non-saturating loss; Adam for both.
* :class:`AAEGame`: the adversarial autoencoder's phases of chapter 1.4 at toy scale: 2-D points
  of the ring (``mixture-2d``, ten clusters standing in for the ten digits) are encoded to 2-D
  codes that the regularisation phase pulls towards a prior (``gaussian``, ``mixture``,
  ``swiss-roll``).

This module says what the games are (their settings, validated like every settings class of the
library), and plays them in torch, in float64 like JavaScript's numbers, so that a test can
compare the page with the library step by step:

* :class:`Rng` is the Python twin of the page's random numbers (sfc32 seeded by splitmix32;
  Gaussians by Box-Muller): the same seed gives the same initial weights (PyTorch's default law
  for ``nn.Linear``, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases) and the same
  minibatches on both sides. Its samplers draw the library's toy data and priors (the parameters
  are read from :mod:`thesis_lib.toy` and :mod:`thesis_lib.priors`; a test checks the
  distributions against the library's samplers).
* :func:`gan_reference` runs the library's own :class:`~thesis_lib.models.GAN` (its
  ``phases()``: ``discriminator_step``, ``generator_step`` with :mod:`thesis_lib.losses`) on the
  twin's minibatches, with torch's Adam, the way the trainer runs phases.
* :func:`aae_reference` runs the AAE's three phases on one minibatch each iteration, with the
  library's losses: reconstruction (encoder and decoder), then the discriminator
  (:func:`~thesis_lib.losses.aae_discriminator_loss`), then the encoder with the non-saturating
  :func:`~thesis_lib.losses.aae_encoder_loss`. The AAE model itself needs images (a Bernoulli
  decoder), so the toy mirrors its phases with three small MLPs; the one simplification is the
  reconstruction error: real-valued 2-D points get the squared error
  (:func:`~thesis_lib.losses.reconstruction_mse`, a unit-variance Gaussian decoder) instead of
  the Bernoulli cross-entropy.
* The page's estimate of the Jensen-Shannon divergence is :mod:`thesis_lib.toy_jsd`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from . import losses, toy
from .config import GANConfig, GANSchedule
from .config.models import AAESchedule
from .config.settings import Settings, check_int, check_range, check_sizes
from .models import build_model
from .nets import mlp
from .priors import GaussianPrior, MixturePrior, SwissRollPrior

M32 = 0xFFFFFFFF
RING = {
    k: p.default
    for k, p in inspect.signature(toy.gaussian_mixture_2d).parameters.items()
    if k in ("n_components", "radius", "std")
}
"""The ring of the ``mixture-2d`` data: the defaults of :func:`thesis_lib.toy.gaussian_mixture_2d`."""
PRIORS = {
    "gaussian": dataclasses.asdict(GaussianPrior(2, 2.0)),
    "mixture": dataclasses.asdict(MixturePrior()),
    "swiss-roll": dataclasses.asdict(SwissRollPrior()),
}
"""The AAE game's priors with the library's parameters (the Gaussian's std is :attr:`AAEGame.prior_std`)."""
LEAKY_SLOPE = 0.2  # the GAN's discriminator: LeakyReLU(0.2) (models/gan.py)


# ----------------------------------------------------------------------------- settings
@dataclasses.dataclass
class GANGame(Settings):
    """The GAN game's settings; the defaults are chapter 1.2's 1-D toy run (``GANConfig(dataset="toy-1d",
    latent_dim=1, g_hidden=(32, 32), d_hidden=(32, 32))``, Adam with lr 1e-3 and ``GANSchedule``'s betas,
    minibatches of 128, k = 1, the non-saturating loss).

    Attributes:
        dataset: ``toy-1d`` (two Gaussians at ±2) or ``mixture-2d`` (the ring of ten Gaussians).
        k: discriminator steps per generator step, each on a fresh minibatch.
        generator_loss: ``minimax`` (log(1 - D(G(z)))) or ``nonsaturating`` (-log D(G(z))).
        lr_d, lr_g: Adam's learning rates of D and G.
        noise: p_z: ``gaussian`` N(0, I) or ``uniform`` U(-1, 1) per coordinate.
        seed: the page's random numbers (initial weights, minibatches); an integer in [0, 2^32).
        batch_size: m.
        latent_dim: size of z (default: the data's dimension).
        g_hidden, d_hidden: hidden layer sizes (G: ReLU; D: LeakyReLU(0.2), as the library's GAN).
        adam_betas: Adam's (beta1, beta2).
    """

    what: ClassVar[str] = "GAN game"

    dataset: Literal["toy-1d", "mixture-2d"] = "toy-1d"
    k: int = 1
    generator_loss: Literal["minimax", "nonsaturating"] = "nonsaturating"
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    noise: Literal["gaussian", "uniform"] = "gaussian"
    seed: int = 0
    batch_size: int = 128
    latent_dim: int | None = None
    g_hidden: tuple[int, ...] = (32, 32)
    d_hidden: tuple[int, ...] = (32, 32)
    adam_betas: tuple[float, float] = GANSchedule.adam_betas

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("k", self.k)
        if self.k > 20:
            raise ValueError(f"k must be an integer in [1, 20], got {self.k!r}")
        check_range("lr_d", self.lr_d, 1e-6, 1.0)
        check_range("lr_g", self.lr_g, 1e-6, 1.0)
        _check_seed(self.seed)
        check_int("batch_size", self.batch_size)
        if self.latent_dim is not None:
            check_int("latent_dim", self.latent_dim)
        check_sizes("g_hidden", self.g_hidden)
        check_sizes("d_hidden", self.d_hidden)
        _check_betas(self.adam_betas)

    @property
    def data_dim(self) -> int:
        return 1 if self.dataset == "toy-1d" else 2

    @property
    def z_dim(self) -> int:
        return self.latent_dim or self.data_dim

    def config(self) -> GANConfig:
        """The library's GAN with these networks (no moving average: the game plays G itself)."""
        return GANConfig(
            dataset=self.dataset,
            latent_dim=self.z_dim,
            g_hidden=self.g_hidden,
            d_hidden=self.d_hidden,
            k=self.k,
            generator_loss=self.generator_loss,
            ema=0.0,
        )


@dataclasses.dataclass
class AAEGame(Settings):
    """The AAE game's settings: the regularisation of chapter 1.4 on 2-D points of the ring.

    Attributes:
        prior: ``gaussian`` (N(0, prior_std² I)), ``mixture`` (ten Gaussians on a circle of
            radius 4) or ``swiss-roll`` (scaled to radius 4): the library's priors.
        prior_std: the Gaussian prior's standard deviation.
        lr: Adam's learning rate of the reconstruction phase (encoder and decoder).
        reg_lr: the regularisation phase's (discriminator and encoder), as ``AAESchedule.reg_lr``.
        seed, batch_size, adam_betas: as in :class:`GANGame` (defaults: ``AAESchedule``'s).
        hidden: hidden sizes of the encoder 2 -> hidden -> 2 (the decoder mirrors it; ReLU).
        d_hidden: hidden sizes of the discriminator on z (ReLU, as the library's AAE).
    """

    what: ClassVar[str] = "AAE game"

    prior: Literal["gaussian", "mixture", "swiss-roll"] = "gaussian"
    prior_std: float = 2.0
    lr: float = 1e-3
    reg_lr: float = 1e-3
    seed: int = 0
    batch_size: int = AAESchedule.batch_size
    hidden: tuple[int, ...] = (32, 32)
    d_hidden: tuple[int, ...] = (32, 32)
    adam_betas: tuple[float, float] = AAESchedule.adam_betas

    def __post_init__(self) -> None:
        super().__post_init__()
        check_range("prior_std", self.prior_std, 0.1, 10.0)
        check_range("lr", self.lr, 1e-6, 1.0)
        check_range("reg_lr", self.reg_lr, 1e-6, 1.0)
        _check_seed(self.seed)
        check_int("batch_size", self.batch_size)
        check_sizes("hidden", self.hidden)
        check_sizes("d_hidden", self.d_hidden)
        _check_betas(self.adam_betas)


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= M32:
        raise ValueError(f"seed must be an integer in [0, 4294967295], got {seed!r}")


def _check_betas(betas) -> None:
    if not (isinstance(betas, tuple) and len(betas) == 2):
        raise ValueError(f"adam_betas must be two numbers in [0, 1), got {betas!r}")
    for b in betas:
        check_range("adam_betas", b, 0.0, 1.0, high_open=True)


# ----------------------------------------------------------------------------- random numbers
class Rng:
    """The page's random numbers, bit for bit: sfc32 (Chris Doty-Humphrey's small fast counting
    generator, 4 x 32 bits) seeded by splitmix32 from ``(seed, stream)``; stream 0 trains, stream 1
    draws the fixed samples the page evaluates and draws. Uniforms are ``(u32 + 0.5) / 2^32`` in
    (0, 1); a Gaussian takes two (Box-Muller, the cosine branch)."""

    def __init__(self, seed: int, stream: int = 0):
        s = (seed + stream * 0x85EBCA6B) & M32
        state = []
        for _ in range(4):
            s = (s + 0x9E3779B9) & M32
            t = s ^ (s >> 16)
            t = (t * 0x21F0AAAD) & M32
            t ^= t >> 15
            t = (t * 0x735A2D97) & M32
            state.append(t ^ (t >> 15))
        self.a, self.b, self.c, self.d = state
        for _ in range(12):
            self.u32()

    def u32(self) -> int:
        a, b, c, d = self.a, self.b, self.c, self.d
        t = (a + b + d) & M32
        self.d = (d + 1) & M32
        self.a = b ^ (b >> 9)
        self.b = (c + (c << 3)) & M32
        c = ((c << 21) | (c >> 11)) & M32
        self.c = (c + t) & M32
        return t

    def uniform(self) -> float:
        return (self.u32() + 0.5) / 4294967296.0

    def normal(self) -> float:
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def index(self, n: int) -> int:
        return min(int(self.uniform() * n), n - 1)

    # -- the samplers (point by point, coordinates in order) ------------------------
    def data(self, name: str, n: int) -> tuple[Tensor, Tensor]:
        """``n`` points of the library's ``toy-1d`` or ``mixture-2d`` data, with their components."""
        if name == "toy-1d":
            mix = toy.MIXTURE_1D
            cum = [sum(mix["weights"][: i + 1]) / sum(mix["weights"]) for i in range(len(mix["weights"]))]
            pts, labels = [], []
            for _ in range(n):
                u = self.uniform()
                c = next((i for i, w in enumerate(cum) if u < w), len(cum) - 1)
                pts.append([mix["means"][c] + mix["stds"][c] * self.normal()])
                labels.append(c)
            return torch.tensor(pts, dtype=torch.float64), torch.tensor(labels)
        return self.ring(n, **RING)

    def ring(self, n: int, n_components: int, radius: float, std: float) -> tuple[Tensor, Tensor]:
        """:func:`thesis_lib.toy.gaussian_mixture_2d`: stretched along the circle (std), narrow across (std / 4)."""
        pts, labels = [], []
        for _ in range(n):
            c = self.index(n_components)
            tangential, radial = std * self.normal(), std / 4 * self.normal()
            a, r = c * (2 * math.pi / n_components) + tangential / radius, radius + radial
            pts.append([r * math.cos(a), r * math.sin(a)])
            labels.append(c)
        return torch.tensor(pts, dtype=torch.float64), torch.tensor(labels)

    def noise(self, kind: str, n: int, dim: int) -> Tensor:
        """``n`` noise vectors: ``gaussian`` N(0, I) or ``uniform`` U(-1, 1)."""
        draw = self.normal if kind == "gaussian" else (lambda: 2.0 * self.uniform() - 1.0)
        return torch.tensor([[draw() for _ in range(dim)] for _ in range(n)], dtype=torch.float64)

    def prior(self, name: str, n: int, std: float) -> Tensor:
        """``n`` samples of the library's prior ``name`` (:mod:`thesis_lib.priors`) in 2-D."""
        if name == "gaussian":
            return torch.tensor([[std * self.normal(), std * self.normal()] for _ in range(n)], dtype=torch.float64)
        if name == "mixture":
            return self.ring(n, **PRIORS["mixture"])[0]
        p = PRIORS["swiss-roll"]  # toy.swiss_roll with noise 0, times the prior's scale
        pts = []
        for _ in range(n):
            t = 0.5 * math.pi + 3.0 * math.pi * math.sqrt(self.uniform())
            pts.append([p["scale"] * t * math.cos(t) / (3.5 * math.pi), p["scale"] * t * math.sin(t) / (3.5 * math.pi)])
        return torch.tensor(pts, dtype=torch.float64)

    def init(self, net: nn.Sequential) -> nn.Sequential:
        """Overwrite ``net``'s linear layers in order, weight (row by row) then bias, with
        U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        with torch.no_grad():
            for layer in net:
                if isinstance(layer, nn.Linear):
                    bound = 1.0 / math.sqrt(layer.in_features)
                    for p in (layer.weight, layer.bias):
                        flat = [(2.0 * self.uniform() - 1.0) * bound for _ in range(p.numel())]
                        p.copy_(torch.tensor(flat, dtype=p.dtype).view_as(p))
        return net


def parameters(net: nn.Module) -> list[list[float]]:
    """A network's weights and biases in the page's order, as flat lists (weights row by row)."""
    return [p.detach().flatten().tolist() for p in net.parameters()]


# ----------------------------------------------------------------------------- the references
def gan_reference(game: GANGame, steps: int) -> dict:
    """``steps`` iterations of Algorithm 1 in torch (float64) on the page's minibatches.

    The library's GAN (``game.config()``) plays: for each phase of ``GAN.phases()`` (D k times, a
    fresh minibatch each, then G), ``zero_grad``, the phase's step (its losses from
    :mod:`thesis_lib.losses`), ``backward`` and torch's Adam, as the trainer does; the data
    minibatches come from :class:`Rng` and so does the noise (the model's ``noise`` sampler is
    replaced by the twin's). Returns ``{"G": parameters, "D": parameters, "history": {"V": [...],
    "loss_d": [...], "loss_g": [...], "d_real": [...], "d_fake": [...]}}`` with one entry per
    iteration: V(D, G) (:func:`~thesis_lib.losses.gan_value`) and the D loss of its last D step,
    D's mean outputs on that step's data and generated points, and the G step's loss.
    """
    rng = Rng(game.seed)
    model = build_model(game.config()).double()
    rng.init(model.generator)
    rng.init(model.discriminator)
    model.noise = lambda n, generator=None: rng.noise(game.noise, n, game.z_dim)  # the page's p_z
    opt = {
        "discriminator": torch.optim.Adam(model.discriminator.parameters(), lr=game.lr_d, betas=game.adam_betas),
        "generator": torch.optim.Adam(model.generator.parameters(), lr=game.lr_g, betas=game.adam_betas),
    }
    history: dict[str, list[float]] = {k: [] for k in ("V", "loss_d", "loss_g", "d_real", "d_fake")}
    for _ in range(steps):
        x = None
        for phase in model.phases():
            for _ in range(phase.repeats):
                if phase.new_batch or x is None:
                    x, y = rng.data(game.dataset, game.batch_size)
                model.zero_grad(set_to_none=True)
                out = phase.step(x, y)
                out["loss"].backward()
                opt[phase.optimizer].step()
            if phase.name == "D":
                history["loss_d"].append(out["loss"].item())
                history["V"].append(-out["loss"].item())
                history["d_real"].append(out["D(x)"].item())
                history["d_fake"].append(out["D(G(z))"].item())
            else:
                history["loss_g"].append(out["loss"].item())
    return {"G": parameters(model.generator), "D": parameters(model.discriminator), "history": history}


def aae_networks(game: AAEGame) -> dict[str, nn.Sequential]:
    """The toy AAE's encoder, decoder and discriminator on z (float64), initialised from the game's seed in this
    order."""
    rng = Rng(game.seed)
    nets = {
        "E": mlp([2, *game.hidden, 2]),
        "Dec": mlp([2, *reversed(game.hidden), 2]),
        "D": mlp([2, *game.d_hidden, 1]),
    }
    for net in nets.values():
        rng.init(net.double())
    return nets | {"rng": rng}


def aae_reference(game: AAEGame, steps: int) -> dict:
    """``steps`` iterations of the AAE's phases in torch (float64) on the page's minibatches.

    Per iteration, on one minibatch x of the ring: (1) reconstruction: encoder and decoder descend
    the mean squared error (their own Adam, ``lr``); (2) D descends
    :func:`~thesis_lib.losses.aae_discriminator_loss` on prior samples (positive) against the codes
    E(x) (negative, made without gradients); (3) the encoder descends the non-saturating
    :func:`~thesis_lib.losses.aae_encoder_loss` (its own Adam, ``reg_lr``, as ``AAESchedule``).
    Returns the parameters of ``E``, ``Dec``, ``D`` and per iteration ``recon``, ``loss_d``,
    ``loss_e``, ``d_prior``, ``d_code`` (D's mean outputs).
    """
    nets = aae_networks(game)
    rng, enc, dec, disc = nets["rng"], nets["E"], nets["Dec"], nets["D"]
    adam = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=game.adam_betas)  # noqa: E731
    opt_ae, opt_d, opt_e = (
        adam([*enc.parameters(), *dec.parameters()], game.lr),
        adam(disc.parameters(), game.reg_lr),
        adam(enc.parameters(), game.reg_lr),
    )
    history: dict[str, list[float]] = {k: [] for k in ("recon", "loss_d", "loss_e", "d_prior", "d_code")}
    for _ in range(steps):
        x, _ = rng.data("mixture-2d", game.batch_size)
        for opt, step in ((opt_ae, "recon"), (opt_d, "D"), (opt_e, "E")):
            for net in (enc, dec, disc):
                net.zero_grad(set_to_none=True)
            if step == "recon":
                loss = losses.reconstruction_mse(dec(enc(x)), x).mean()
                history["recon"].append(loss.item())
            elif step == "D":
                with torch.no_grad():
                    z_q = enc(x)
                z_p = rng.prior(game.prior, game.batch_size, game.prior_std)
                a_p, a_q = disc(z_p).squeeze(1), disc(z_q).squeeze(1)
                loss = losses.aae_discriminator_loss(a_p, a_q)
                history["loss_d"].append(loss.item())
                history["d_prior"].append(torch.sigmoid(a_p).mean().item())
                history["d_code"].append(torch.sigmoid(a_q).mean().item())
            else:
                loss = losses.aae_encoder_loss(disc(enc(x)).squeeze(1))
                history["loss_e"].append(loss.item())
            loss.backward()
            opt.step()
    return {name: parameters(nets[name]) for name in ("E", "Dec", "D")} | {"history": history}
