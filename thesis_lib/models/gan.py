"""The generative adversarial network (thesis 1.2, Goodfellow et al. 2014).

G(z; θ_g) maps noise z ~ N(0, I) to data space; D(x; θ_d) gives the probability that x came
from the data. Training is Algorithm 1: k discriminator steps, each on a fresh minibatch, then
one generator step. ``conditional=True`` models p(x | c) by giving the one-hot label c to both.
G is an MLP (with batch normalisation in its hidden layers on image data); D an MLP with leaky
ReLUs and dropout.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import losses
from ..config import GANConfig, Schedule
from ..nets import mlp, one_hot
from .base import GenerativeModel, LatentAxes, Phase


class GAN(GenerativeModel):
    config_class = GANConfig
    config: GANConfig
    has_encoder = False

    def __init__(self, config: GANConfig):
        super().__init__(config)
        c = config
        n_cond = self.n_classes if c.conditional else 0
        # On images, batch normalisation in G's hidden layers (a 2015 addition, not in the 2014
        # paper): without it this small MLP generator collapses onto one or two digits within the
        # first epochs. The toy sets' tiny generators learn well (and more legibly) without it.
        self.generator = mlp([c.latent_dim + n_cond, *c.g_hidden, self.data_dim], batch_norm=self.images)
        leaky = lambda: nn.LeakyReLU(0.2)  # noqa: E731
        self.discriminator = mlp([self.data_dim + n_cond, *c.d_hidden, 1], activation=leaky, dropout=c.dropout)

    # -- the model -------------------------------------------------------------------
    def _condition(self, inputs: Tensor, labels: Tensor | None) -> Tensor:
        if not self.config.conditional:
            return inputs
        if labels is None:
            raise ValueError("a conditional GAN needs labels: pass labels=... (integers in [0, n_classes))")
        return torch.cat([inputs, one_hot(labels, self.n_classes)], dim=1)

    def generate(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """G(z) (or G(z, c)), in data space."""
        return self._output(self.generator(self._condition(z, labels)))

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """The generator is the GAN's decoder: G(z) (or G(z, c))."""
        return self.generate(z, labels)

    def discriminate(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        """The logit of D(x) (or D(x, c)); D = sigmoid(logit)."""
        return self.discriminator(self._condition(x.flatten(1), labels)).squeeze(1)

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """m samples from the noise prior p_z = N(0, I)."""
        return self._randn(n, self.config.latent_dim, generator=generator)

    # -- training: Algorithm 1 -------------------------------------------------------
    def configure_optimizers(self, schedule: Schedule) -> dict[str, torch.optim.Optimizer]:
        return {
            "discriminator": self.make_optimizer(self.discriminator.parameters(), schedule),
            "generator": self.make_optimizer(self.generator.parameters(), schedule),
        }

    def phases(self) -> list[Phase]:
        """Algorithm 1: k steps on D, each with fresh data, then one step on G."""
        return [
            Phase("D", "discriminator", self.discriminator_step, repeats=self.config.k, new_batch=True),
            Phase("G", "generator", self.generator_step, new_batch=False),
        ]

    def discriminator_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Ascend V(D, G) in θ_d on m data examples and m noise samples (descend its negative)."""
        labels = y if self.config.conditional else None
        with torch.no_grad():
            fake = self.generate(self.noise(x.shape[0]), labels)
        real_logits, fake_logits = self.discriminate(x, labels), self.discriminate(fake, labels)
        return {
            "loss": losses.discriminator_loss(real_logits, fake_logits),
            "D(x)": torch.sigmoid(real_logits).mean(),
            "D(G(z))": torch.sigmoid(fake_logits).mean(),
        }

    def generator_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Descend log(1 - D(G(z))) (minimax) or -log D(G(z)) (non-saturating) in θ_g."""
        labels = y if self.config.conditional else None
        fake_logits = self.discriminate(self.generate(self.noise(x.shape[0]), labels), labels)
        if self.config.generator_loss == "minimax":
            return {"loss": losses.generator_loss_minimax(fake_logits)}
        return {"loss": losses.generator_loss_nonsaturating(fake_logits)}

    @torch.no_grad()
    def evaluate(self, x: Tensor, y: Tensor) -> dict[str, float]:
        """The value function V(D, G) on held-out data."""
        labels = y if self.config.conditional else None
        fake = self.generate(self.noise(x.shape[0]), labels)
        return {"V(D,G)": losses.gan_value(self.discriminate(x, labels), self.discriminate(fake, labels)).item()}

    @torch.no_grad()
    def sample(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """G(z) for n fresh z; a conditional GAN without ``labels`` cycles through the classes."""
        if self.config.conditional and labels is None:
            labels = torch.arange(n) % self.n_classes
        if labels is not None:
            labels = labels.to(self.device)
        return self.generate(self.noise(n, generator), labels)

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
        return LatentAxes(base, q.T * d**0.5 / 2, limits, tuple(f"direction {i + 1}" for i in range(k)), "noise z = z₀ + Σ value·direction")
