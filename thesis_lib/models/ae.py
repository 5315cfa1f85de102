"""The autoencoder (thesis 1.1): E(x) = y, D(y) ≈ x, trained to reconstruct its input.

Three architectures from the thesis: the simplest 3-layer form (``hidden_dims=()``: input, the
code, output), the common shrinking/growing MLP (``hidden_dims=(512, 256)``, the default) and a
convolutional one (``arch="conv"``, widths ``channels``). ``corruption="gaussian"`` or ``"mask"``
makes it a denoising or inpainting autoencoder: the input is corrupted, the target is the clean image.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import losses
from ..config import AEConfig, Schedule
from ..data import Dataset
from ..nets import ConvDecoder, ConvEncoder, mlp
from .base import GenerativeModel, Phase

N_LATENT_FIT = 10_000  # training images used to fit the Gaussian that :meth:`sample` draws codes from


class Autoencoder(GenerativeModel):
    config_class = AEConfig
    config: AEConfig

    def __init__(self, config: AEConfig):
        super().__init__(config)
        c = config
        if c.arch == "conv":
            self.encoder: nn.Module = ConvEncoder(c.latent_dim, c.channels)
            self.decoder: nn.Module = ConvDecoder(c.latent_dim, c.channels)
        else:
            self.encoder = nn.Sequential(nn.Flatten(), mlp([self.data_dim, *c.hidden_dims, c.latent_dim]))
            self.decoder = mlp([c.latent_dim, *reversed(c.hidden_dims), self.data_dim])
        # A Gaussian fitted to the codes of the training set, so that the AE can also generate.
        self.register_buffer("latent_mean", torch.zeros(c.latent_dim))
        self.register_buffer("latent_scale_tril", torch.eye(c.latent_dim))

    # -- the model -------------------------------------------------------------------
    def encode(self, x: Tensor) -> Tensor:
        """y = E(x)."""
        return self.encoder(x)

    def embed(self, x: Tensor) -> Tensor:
        """The code itself, y = E(x) (the encoder is deterministic)."""
        return self.encode(x)

    def decode_raw(self, z: Tensor) -> Tensor:
        """Decoder output before the output non-linearity (logits for pixels)."""
        return self.decoder(z).view(z.shape[0], *self.data_shape)

    def decode(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """D(y), in data space (the autoencoder takes no labels)."""
        return self._output(self.decode_raw(z))

    def sample_prior(self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """Codes from the Gaussian fitted to the training codes (see :meth:`after_epoch`), so that the AE
        can generate."""
        eps = self._randn(n, self.config.latent_dim, generator=generator)
        return self.latent_mean + eps @ self.latent_scale_tril.T

    @property
    def prior_name(self) -> str:
        return "Gaussian fitted to the codes"

    @property
    def defines_likelihood(self) -> bool:
        """With the fitted Gaussian as its prior and the BCE decoder read as Bernoulli, the AE defines
        p(x) = ∫ p(x|z) p(z) dz like any latent-variable model (it was not trained for it)."""
        return self.images and self.config.recon_loss == "bce"

    def log_prior(self, z: Tensor) -> Tensor:
        """log N(z; mean, cov) of the Gaussian fitted to the training codes."""
        return torch.distributions.MultivariateNormal(self.latent_mean, scale_tril=self.latent_scale_tril).log_prob(z)

    @property
    def has_bernoulli_decoder(self) -> bool:
        """The BCE decoder on images is a Bernoulli p(x|z) whose logits are :meth:`decode_raw`'s."""
        return self.defines_likelihood

    def bernoulli_logits(self, z: Tensor) -> Tensor:
        """The Bernoulli decoder's logits for z of shape (..., D) -> (..., *data_shape)."""
        if not self.defines_likelihood:
            raise ValueError(
                "log p(x|z) needs a Bernoulli decoder (recon_loss 'bce' on images), "
                f"got recon_loss {self.config.recon_loss!r} on {self.config.dataset!r}"
            )
        return self.decode_raw(z.reshape(-1, z.shape[-1])).view(*z.shape[:-1], *self.data_shape)

    def log_px_given_z(self, x: Tensor, z: Tensor) -> Tensor:
        """The Bernoulli decoder's log p(x|z) (minus the BCE the AE is trained on), z (L, B, D) -> (L, B)."""
        return losses.bernoulli_log_likelihood(x, self.bernoulli_logits(z))

    def corrupt(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The training input: x itself, x plus Gaussian noise, or x with a square hole."""
        c = self.config
        if c.corruption == "gaussian":
            noisy = x + c.noise_std * torch.randn(x.shape, generator=generator, device=x.device)
            return noisy.clamp(0, 1) if self.images else noisy
        if c.corruption == "mask":
            return mask_square(x, c.mask_size, generator)
        return x

    def reconstruction_error(self, x_target: Tensor, raw: Tensor) -> Tensor:
        """Per-example reconstruction error (nats for ``bce``)."""
        if self.config.recon_loss == "bce":
            return losses.reconstruction_bce(raw, x_target)
        return losses.reconstruction_mse(self._output(raw), x_target)

    # -- training --------------------------------------------------------------------
    def configure_optimizers(self, schedule: Schedule) -> dict[str, torch.optim.Optimizer]:
        return {"autoencoder": self.make_optimizer(self.parameters(), schedule)}

    def phases(self) -> list[Phase]:
        return [Phase("recon", "autoencoder", self.reconstruction_step)]

    def reconstruction_step(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """Reconstruct the clean x from the (possibly corrupted) input."""
        raw = self.decode_raw(self.encode(self.corrupt(x)))
        return {"loss": self.reconstruction_error(x, raw).mean()}

    @torch.no_grad()
    def after_epoch(self, data: Dataset) -> None:
        """Fit N(mean, cov) to the codes of the first training images (deterministic)."""
        was_training = self.training
        self.eval()
        x = data.x[:N_LATENT_FIT].to(self.device)
        z = torch.cat([self.encode(b) for b in x.split(1000)])
        mean = z.mean(0)
        cov = torch.cov(z.T).reshape(z.shape[1], z.shape[1]) + 1e-5 * torch.eye(z.shape[1], device=z.device)
        self.latent_mean.copy_(mean)
        self.latent_scale_tril.copy_(torch.linalg.cholesky(cov))
        self.train(was_training)

    @torch.no_grad()
    def evaluate(self, x: Tensor, y: Tensor) -> dict[str, float]:
        raw = self.decode_raw(self.encode(x))
        return {
            "recon_bce": losses.reconstruction_bce(raw, x).mean().item() if self.images else float("nan"),
            "recon_mse": losses.reconstruction_mse(self._output(raw), x).mean().item(),
        }


def mask_square(x: Tensor, size: int, generator: torch.Generator | None = None) -> Tensor:
    """Zero a ``size`` x ``size`` square at a random place in each image (inpainting corruption)."""
    n, _, h, w = x.shape
    size = min(size, h, w)
    top = torch.randint(0, h - size + 1, (n, 1, 1), generator=generator).to(x.device)
    left = torch.randint(0, w - size + 1, (n, 1, 1), generator=generator).to(x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (rows >= top) & (rows < top + size) & (cols >= left) & (cols < left + size)
    return x * (~hole).unsqueeze(1)
