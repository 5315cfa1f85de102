"""The generative adversarial network (thesis 1.2, Goodfellow et al. 2014).

G(z; θ_g) maps noise z ~ N(0, I) to data space; D(x; θ_d) gives the probability that x came
from the data. Training is Algorithm 1: k discriminator steps, each on a fresh minibatch, then
one generator step. ``conditional=True`` models p(x | c) by giving the one-hot label c to both.

Two architectures (``arch``): multilayer perceptrons as in the paper (G with batch normalisation
on image data, D with leaky ReLUs), or the convolutional DCGAN (:mod:`thesis_lib.nets`). Two
choices that make a short run give clean digits, both switchable: G's output starts at the data's
mean image (``data_init``, the paper's own code), and the model samples with an exponential moving
average of G's weights (``ema``), which the game itself never sees.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from .. import losses
from ..config import GANConfig, Schedule
from ..data import Dataset
from ..nets import ConvDiscriminator, ConvGenerator, mlp, one_hot, recalibrate_batch_norm
from .base import GenerativeModel, LatentAxes, Phase

PIXEL_CLAMP = 1e-3
"""The data's mean pixels are clamped to [PIXEL_CLAMP, 1 - PIXEL_CLAMP] before their logit (the
border pixels of MNIST are 0 in every image)."""
RECALIBRATION_BATCHES = 20
RECALIBRATION_SIZE = 500


class GAN(GenerativeModel):
    config_class = GANConfig
    config: GANConfig
    has_encoder = False

    def __init__(self, config: GANConfig):
        super().__init__(config)
        c = config
        n_cond = self.n_classes if c.conditional else 0
        if c.arch == "conv":
            self.generator = ConvGenerator(c.latent_dim + n_cond, c.channels)
            self.discriminator = ConvDiscriminator(c.channels, n_cond, dropout=c.dropout)
        else:
            # On images, batch normalisation in G's hidden layers (a 2015 addition, not in the 2014
            # paper): without it this small MLP generator collapses onto one or two digits within the
            # first epochs. The toy sets' tiny generators learn well (and more legibly) without it.
            self.generator = mlp([c.latent_dim + n_cond, *c.g_hidden, self.data_dim], batch_norm=self.images)
            leaky = lambda: nn.LeakyReLU(0.2)  # noqa: E731
            self.discriminator = mlp([self.data_dim + n_cond, *c.d_hidden, 1], activation=leaky, dropout=c.dropout)
        # The moving average of G that sampling uses; the optimisers never see it.
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False) if c.ema > 0 else None
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))
        # G's raw output is offset by the logit of the data's mean pixels (set in setup()).
        self.register_buffer("output_offset", torch.zeros(self.data_dim))

    # -- the model -------------------------------------------------------------------
    def _condition(self, inputs: Tensor, labels: Tensor | None) -> Tensor:
        if not self.config.conditional:
            return inputs
        return torch.cat([inputs, self._one_hot(labels)], dim=1)

    def _one_hot(self, labels: Tensor | None) -> Tensor:
        if labels is None:
            raise ValueError("a conditional GAN needs labels: pass labels=... (integers in [0, n_classes))")
        return one_hot(labels, self.n_classes)

    def generate(self, z: Tensor, labels: Tensor | None = None, averaged: bool = True) -> Tensor:
        """G(z) (or G(z, c)), in data space: by the moving average of G's weights if ``averaged``
        (and ``ema`` > 0), else by the G that the game trains."""
        net = self.generator_ema if averaged and self.generator_ema is not None else self.generator
        return self._output(net(self._condition(z, labels)) + self.output_offset)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The generator is the GAN's decoder: G(z) (or G(z, c)), averaged weights."""
        return self.generate(z, labels)

    def discriminate(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """The logit of D(x) (or D(x, c)); D = sigmoid(logit)."""
        if self.config.arch == "conv":
            return self.discriminator(x, self._one_hot(labels) if self.config.conditional else None).squeeze(1)
        return self.discriminator(self._condition(x.flatten(1), labels)).squeeze(1)

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """m samples from the noise prior p_z = N(0, I)."""
        return self._randn(n, self.config.latent_dim, generator=generator)

    def setup(self, data: Dataset) -> None:
        """Offset G's output by the logit of the data's mean pixels (``data_init``, image data)."""
        if self.config.data_init and self.images:
            mean = data.x.flatten(1).mean(0).clamp(PIXEL_CLAMP, 1 - PIXEL_CLAMP)
            self.output_offset.copy_(torch.logit(mean).to(self.output_offset))

    # -- training: Algorithm 1 -------------------------------------------------------
    def configure_optimizers(self, schedule: Schedule) -> dict[str, torch.optim.Optimizer]:
        return {
            "discriminator": self.make_optimizer(
                self.discriminator.parameters(), schedule, lr=schedule.lr * schedule.d_lr_factor
            ),
            "generator": self.make_optimizer(self.generator.parameters(), schedule),
        }

    def phases(self) -> list[Phase]:
        """Algorithm 1: k steps on D, each with fresh data, then one step on G."""
        return [
            Phase("D", "discriminator", self.discriminator_step, repeats=self.config.k, new_batch=True),
            Phase("G", "generator", self.generator_step, new_batch=False, after_step=self.update_ema),
        ]

    def discriminator_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Ascend V(D, G) in θ_d on m data examples and m noise samples (descend its negative)."""
        labels = y if self.config.conditional else None
        with torch.no_grad():
            fake = self.generate(self.noise(x.shape[0]), labels, averaged=False)
        real_logits, fake_logits = self.discriminate(x, labels), self.discriminate(fake, labels)
        return {
            "loss": losses.discriminator_loss(real_logits, fake_logits),
            "D(x)": torch.sigmoid(real_logits).mean(),
            "D(G(z))": torch.sigmoid(fake_logits).mean(),
        }

    def generator_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Descend log(1 - D(G(z))) (minimax) or -log D(G(z)) (non-saturating) in θ_g."""
        labels = y if self.config.conditional else None
        fake_logits = self.discriminate(self.generate(self.noise(x.shape[0]), labels, averaged=False), labels)
        if self.config.generator_loss == "minimax":
            return {"loss": losses.generator_loss_minimax(fake_logits)}
        return {"loss": losses.generator_loss_nonsaturating(fake_logits)}

    @torch.no_grad()
    def update_ema(self) -> None:
        """After each G step: θ_ema <- d θ_ema + (1 - d) θ_g, with d = min(ema, (1 + t) / (10 + t))
        after t updates; batch-norm statistics are copied (and recomputed after every epoch)."""
        if self.generator_ema is None:
            return
        t = int(self.ema_updates)
        decay = min(self.config.ema, (1 + t) / (10 + t))
        for averaged, current in zip(self.generator_ema.parameters(), self.generator.parameters()):
            averaged.lerp_(current, 1 - decay)
        for averaged, current in zip(self.generator_ema.buffers(), self.generator.buffers()):
            averaged.copy_(current)
        self.ema_updates += 1

    @torch.no_grad()
    def after_epoch(self, data: Dataset) -> None:
        """Recompute the averaged G's batch-norm statistics for its own weights (the copied ones
        belong to the current G), from a fixed stream of noise, so the result is repeatable."""
        if self.generator_ema is None:
            return
        g = torch.Generator().manual_seed(int(self.ema_updates))
        n = RECALIBRATION_SIZE

        def inputs(i: int) -> Tensor:
            labels = (torch.arange(n) % self.n_classes).to(self.device) if self.config.conditional else None
            return self._condition(self.noise(n, g), labels)

        recalibrate_batch_norm(self.generator_ema, inputs, RECALIBRATION_BATCHES)

    @torch.no_grad()
    def evaluate(self, x: Tensor, y: Tensor) -> dict[str, float]:
        """The value function V(D, G) on held-out data."""
        labels = y if self.config.conditional else None
        fake = self.generate(self.noise(x.shape[0]), labels, averaged=False)
        return {"V(D,G)": losses.gan_value(self.discriminate(x, labels), self.discriminate(fake, labels)).item()}

    # -- the shared vocabulary -------------------------------------------------------
    @property
    def needs_labels(self) -> bool:
        """A conditional GAN's generator takes the class: G(z, c)."""
        return self.config.conditional

    def sample_prior(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """z ~ p_z = N(0, I); the class of a conditional GAN enters G, not the prior."""
        return self.noise(n, generator)

    def explorer_axes(self, n_sliders: int, generator: torch.Generator) -> LatentAxes:
        """Around a fixed noise vector z₀ (a "style"), along fixed random orthonormal directions of
        length sqrt(latent_dim) / 2, about the distance between two noise vectors, so that sliders
        from -1 to 1 visibly change the image."""
        d = self.config.latent_dim
        k = min(n_sliders, d)
        base = torch.randn(d, generator=generator)
        q, _ = torch.linalg.qr(torch.randn(d, k, generator=generator))
        limits = torch.tensor([[-1.0, 1.0]] * k)
        return LatentAxes(
            base,
            q.T * d**0.5 / 2,
            limits,
            tuple(f"direction {i + 1}" for i in range(k)),
            "noise z = z₀ + Σ value·direction",
        )
