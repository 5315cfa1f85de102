"""Network building blocks shared by the models: MLPs, a small convolutional encoder/decoder and a DCGAN-style
generator/discriminator."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def mlp(
    sizes: tuple[int, ...] | list[int],
    activation: Callable[[], nn.Module] = nn.ReLU,
    dropout: float = 0.0,
    final_activation: bool = False,
    batch_norm: bool = False,
) -> nn.Sequential:
    """A fully connected network ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Hidden layers get ``activation`` (and dropout if ``dropout > 0``); the last layer is linear
    unless ``final_activation``. With ``batch_norm`` every hidden layer is
    ``Linear -> BatchNorm1d -> activation`` (the GAN's generator uses it).
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or final_activation:
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(activation())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class ConvEncoder(nn.Sequential):
    """1x28x28 -> 32x14x14 -> 64x7x7 -> ``out_dim`` (two stride-2 convolutions and a linear layer)."""

    def __init__(self, out_dim: int, channels: tuple[int, int] = (32, 64)):
        c1, c2 = channels
        super().__init__(
            nn.Conv2d(1, c1, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, out_dim),
        )


class ConvDecoder(nn.Sequential):
    """``in_dim`` -> 64x7x7 -> 32x14x14 -> 1x28x28 logits (mirror of :class:`ConvEncoder`)."""

    def __init__(self, in_dim: int, channels: tuple[int, int] = (32, 64)):
        c1, c2 = channels
        super().__init__(
            nn.Linear(in_dim, c2 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),
        )


def one_hot(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Float one-hot vectors for integer labels."""
    return nn.functional.one_hot(labels, n_classes).float()


class ConvGenerator(nn.Module):
    """DCGAN-style generator (Radford et al. 2016) for 28 x 28 images: ``in_dim`` -> 2c x 7 x 7 ->
    c x 14 x 14 -> 1 x 28 x 28 logits, with batch normalisation and ReLUs between the layers and
    two fractionally strided (transposed) convolutions."""

    def __init__(self, in_dim: int, channels: int = 32):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Linear(in_dim, 2 * c * 7 * 7), nn.BatchNorm1d(2 * c * 7 * 7), nn.ReLU(), nn.Unflatten(1, (2 * c, 7, 7)),
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1), nn.Flatten(),
        )  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ConvDiscriminator(nn.Module):
    """DCGAN-style discriminator for 28 x 28 images: (1 + n_cond) x 28 x 28 -> c x 14 x 14 ->
    2c x 7 x 7 -> one logit; strided convolutions with leaky ReLUs. A conditional model's one-hot
    class enters as ``n_cond`` constant input channels (the condition "on the input")."""

    def __init__(self, channels: int = 32, n_cond: int = 0, dropout: float = 0.0):
        super().__init__()
        c = channels
        self.n_cond = n_cond
        self.net = nn.Sequential(
            nn.Conv2d(1 + n_cond, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Flatten(), *([nn.Dropout(dropout)] if dropout > 0 else []), nn.Linear(2 * c * 7 * 7, 1),
        )  # fmt: skip

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        x = x.view(-1, 1, 28, 28)
        if condition is not None:
            x = torch.cat([x, condition[:, :, None, None].expand(-1, -1, 28, 28)], dim=1)
        return self.net(x)


@torch.no_grad()
def recalibrate_batch_norm(net: nn.Module, inputs, batches: int) -> None:
    """Recompute the running statistics of every batch-norm layer of ``net`` as the plain average
    over ``batches`` forward passes of ``inputs(i)`` in training mode; leaves ``net`` in eval mode.

    For networks whose weights were not trained by the steps that collected their statistics (a
    moving average of weights, :class:`thesis_lib.models.gan.GAN`)."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    net.train()
    for i in range(batches):
        net(inputs(i))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    net.eval()
