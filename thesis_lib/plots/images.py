"""Image figures: grids, reconstructions (clean / corrupted / reconstructed rows), samples per class."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from .. import latent
from .style import images_of, new_ax

__all__ = ["show_images", "show_reconstructions", "samples_per_class"]


def _as_images(x: Tensor) -> Tensor:
    """``(B, C, H, W)`` float in [0, 1] on the CPU from ``(B, C, H, W)``, ``(B, H, W)`` or ``(H, W)``."""
    x = torch.as_tensor(x).detach().cpu().float()
    if x.dim() == 2:
        x = x[None, None]
    elif x.dim() == 3:
        x = x[:, None]
    elif x.dim() == 5:  # (B, steps, C, H, W), e.g. batched interpolations
        x = x.flatten(0, 1)
    if x.dim() != 4:
        raise ValueError(f"expected images of shape (B, C, H, W), (B, H, W) or (H, W), got {tuple(x.shape)}")
    return x.clamp(0, 1)


def _grid(x: Tensor, nrow: int, padding: int, pad_value: float) -> np.ndarray:
    from torchvision.utils import make_grid

    g = make_grid(_as_images(x), nrow=nrow, padding=padding, pad_value=pad_value)
    return g.permute(1, 2, 0).numpy()


def _imshow_grid(ax: Axes, grid: np.ndarray) -> None:
    if grid.shape[2] == 3 and np.allclose(grid[..., 0], grid[..., 1]) and np.allclose(grid[..., 0], grid[..., 2]):
        ax.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(grid, interpolation="nearest")


def _image_rows(ax: Axes, rows: Sequence[Tensor], labels: Sequence[str], padding: int = 2) -> None:
    """Rows of equally many images, each row named on the left."""
    x = torch.cat([_as_images(r) for r in rows])
    n = _as_images(rows[0]).shape[0]
    _imshow_grid(ax, _grid(x, nrow=n, padding=padding, pad_value=1.0))
    h = x.shape[-2] + padding
    ax.set_yticks([padding + h * i + (h - padding) / 2 for i in range(len(rows))], labels)
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def show_images(
    x: Tensor, nrow: int = 8, title: str | None = None, ax: Axes | None = None, padding: int = 2, pad_value: float = 1.0
) -> Figure:
    """A grid of images (``torchvision.utils.make_grid``), ``nrow`` per row, white padding.

    ``x``: ``(B, C, H, W)`` (or ``(B, H, W)``, one ``(H, W)`` image, or a batch of
    interpolations ``(B, steps, C, H, W)``) with pixels in [0, 1]. For a decoded latent grid
    use ``nrow=steps`` and ``padding=0`` to see one continuous manifold.
    """
    imgs = _as_images(x)
    rows = -(-imgs.shape[0] // nrow)
    cols = min(nrow, imgs.shape[0])
    ax = new_ax(ax, (max(2.0, 0.6 * cols), max(1.2, 0.6 * rows + (0.3 if title else 0))))
    _imshow_grid(ax, _grid(imgs, nrow, padding, pad_value))
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


def show_reconstructions(
    model, x: Tensor, n: int = 10, corrupted: Tensor | None = None, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Inputs and their reconstructions ``decode(embed(input))`` as two named rows.

    With ``corrupted`` (the corrupted versions of ``x``, e.g. for a denoising autoencoder)
    there are three rows: the clean input, the corrupted input and the reconstruction of the
    corrupted input. ``x`` may be a tensor or a :class:`~thesis_lib.data.Dataset` (its first ``n``).
    """
    x = _as_images(images_of(x)[:n])
    inp = _as_images(corrupted[:n]) if corrupted is not None else x
    device = latent.model_device(model)
    with latent.eval_mode(model):
        recon = model.decode(model.embed(inp.to(device))).cpu()
    if corrupted is None:
        rows, labels = [x, recon], ["input", "reconstruction"]
    else:
        rows, labels = [x, inp, recon], ["clean", "corrupted", "reconstructed"]
    ax = new_ax(ax, (max(3.0, 0.7 * x.shape[0] + 1.2), 0.75 * len(rows) + (0.4 if title else 0.1)))
    _image_rows(ax, rows, labels)
    if title:
        ax.set_title(title)
    return ax.figure


def samples_per_class(
    model,
    n_per_class: int = 8,
    seed: int = 0,
    ax: Axes | None = None,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Samples of a class-conditional model, one row per class, ``decode(z, c)`` with z ~ p(z | c).

    When the class enters the decoder (:attr:`needs_labels`: a conditional GAN) every column
    uses the same z for all classes, so a column shows one "style" across the classes; when it
    enters the prior (an AAE with ``label_prior``) each image has its own z from its class's
    region. The z come from a generator seeded by ``seed``.
    """
    n_classes = model.n_classes
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    g = torch.Generator().manual_seed(seed)
    device = latent.model_device(model)
    with latent.eval_mode(model):
        if model.needs_labels:
            z = model.sample_prior(n_per_class, generator=g).cpu().repeat(n_classes, 1)
        else:
            z = model.sample_prior(labels.shape[0], labels.to(device), generator=g).cpu()
    images = latent.decode_batched(model, z, labels)
    names = list(class_names) if class_names is not None else model.class_names
    rows = list(images.split(n_per_class))
    ax = new_ax(ax, (0.65 * n_per_class + 1.2, 0.62 * n_classes + (0.4 if title else 0.1)))
    _image_rows(ax, rows, names)
    if title:
        ax.set_title(title)
    return ax.figure
