"""Network building blocks shared by the models: MLPs and a small convolutional encoder/decoder."""

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
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(c2 * 7 * 7, out_dim),
        )


class ConvDecoder(nn.Sequential):
    """``in_dim`` -> 64x7x7 -> 32x14x14 -> 1x28x28 logits (mirror of :class:`ConvEncoder`)."""

    def __init__(self, in_dim: int, channels: tuple[int, int] = (32, 64)):
        c1, c2 = channels
        super().__init__(
            nn.Linear(in_dim, c2 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),
        )


def one_hot(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Float one-hot vectors for integer labels."""
    return nn.functional.one_hot(labels, n_classes).float()
