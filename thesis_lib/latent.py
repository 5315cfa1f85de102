"""Latent-space utilities: codes of a dataset, PCA, interpolation and decoded grids.

Pure tensor code (no plotting): :mod:`thesis_lib.plots` and :mod:`thesis_lib.widgets` draw
what these functions compute. Everything is deterministic: codes are the models'
deterministic ``embed`` (the VAE's posterior mean μ(x)), datasets are read in order, and
random draws take an explicit seed. Results are returned on the CPU; models are run on their
own device, in eval mode (restored afterwards). Only the models' shared vocabulary is used
(``has_encoder``, ``embed``, ``decode(z, labels)``, ``needs_labels``, ``latent_dim``; see
:mod:`thesis_lib.models.base`), so any model (or an ``nn.Module`` stand-in with those) works.

Grids of latent points are returned in *image order*: row-major, the first row at the *top*,
so a grid shown with ``show_images(images, nrow=steps)`` has the first latent coordinate
increasing to the right and the second increasing upwards, like a scatter plot of the codes.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import torch
from torch import Tensor

from .data import Dataset

__all__ = [
    "embed_dataset",
    "pca",
    "project_2d",
    "interpolate",
    "interpolate_noise",
    "lerp",
    "slerp",
    "latent_grid",
    "gaussian_cdf_grid",
    "grid_points",
    "decode_batched",
    "percentile_limits",
    "eval_mode",
    "model_device",
    "split_data",
]


# ----------------------------------------------------------------------------- helpers
def model_device(model) -> torch.device:
    """The device of a model's parameters (CPU for a parameterless module)."""
    return next(model.parameters(), torch.empty(0)).device


@contextlib.contextmanager
def eval_mode(model) -> Iterator[None]:
    """Run ``model`` in eval mode (no dropout) and without gradients; restore its mode after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def split_data(data, n: int | None) -> tuple[Tensor, Tensor | None]:
    """``(x, y)`` of the first ``n`` examples of a Dataset, an ``(x, y)`` pair or a tensor ``x``."""
    if isinstance(data, Dataset):
        x, y = data.x, data.y
    elif isinstance(data, (tuple, list)):
        x, y = data
    else:
        x, y = data, None
    if n is not None:
        x = x[:n]
        y = y[:n] if y is not None else None
    return x, y


def decode_batched(model, z: Tensor, labels: Tensor | None = None, batch: int = 1024) -> Tensor:
    """``model.decode(z, labels)`` in batches (``labels`` for a model that :attr:`needs_labels`), on the CPU."""
    device = model_device(model)
    out = []
    with eval_mode(model):
        for i in range(0, z.shape[0], batch):
            lb = None if labels is None else labels[i : i + batch].to(device)
            out.append(model.decode(z[i : i + batch].to(device), lb).cpu())
    return torch.cat(out) if out else z.new_zeros((0,))


def _check_labels(model, labels, n: int) -> Tensor | None:
    """Labels as a tensor of length ``n`` (an int is repeated); a clear error if a model that needs them gets none."""
    if labels is None:
        if model.needs_labels:
            raise ValueError(
                f"a {type(model).__name__} whose decoder takes the class (a conditional GAN) needs labels: pass "
                "labels=<class> (an int or a tensor)"
            )
        return None
    if isinstance(labels, int):
        return torch.full((n,), labels, dtype=torch.long)
    labels = torch.as_tensor(labels, dtype=torch.long).cpu()
    return labels.expand(n) if labels.dim() == 0 or labels.numel() == 1 else labels.reshape(n)


# ----------------------------------------------------------------------------- codes and PCA
def embed_dataset(model, data, n: int | None = 5000, batch: int = 1000) -> tuple[Tensor, Tensor | None]:
    """Deterministic codes ``model.embed(x)`` of the first ``n`` examples of ``data``.

    Args:
        model: a model with an encoder (``has_encoder``: AE, VAE, AAE; the GAN has none).
        data: a :class:`~thesis_lib.data.Dataset`, an ``(x, y)`` pair or a tensor ``x``.
        n: number of examples (the first ``n``, no shuffling); ``None`` for all.
        batch: batch size of the forward passes.

    Returns:
        ``(codes, labels)``: codes of shape ``(n, latent_dim)`` and labels of shape ``(n,)``
        (``None`` when ``data`` is a bare tensor), both on the CPU.
    """
    _check_encoder(
        model, "data has no codes; explore its noise space with latent.interpolate_noise or widgets.explore instead"
    )
    x, y = split_data(data, n)
    device = model_device(model)
    with eval_mode(model):
        codes = torch.cat([model.embed(b.to(device)).cpu() for b in x.split(batch)])
    return codes, (y.cpu() if y is not None else None)


def activity(model, data, n: int | None = 5000) -> Tensor:
    """The activity of each latent dimension (Burda et al. 2016): the variance over the data of the
    code's mean, ``Var_x E_q[z_j | x]``, computed from ``embed`` of the first ``n`` examples.

    A dimension whose code ignores the input has activity near 0: its q(z_j | x) is the same for
    every x (for a VAE, the prior itself), so it carries no information. Burda et al. call a unit
    active when its activity exceeds 0.01."""
    codes, _ = embed_dataset(model, data, n)
    return codes.var(0)


def _check_encoder(model, hint: str) -> None:
    if not model.has_encoder:
        raise NotImplementedError(f"{type(model).__name__} has no encoder, so {hint}")


def pca(codes: Tensor, k: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """Principal component analysis by SVD of the centred codes.

    Args:
        codes: ``(n, d)`` points.
        k: number of components to keep (at most ``d``).

    Returns:
        ``(mean (d,), components (k, d), explained_variance (k,))``: orthonormal principal
        directions (rows, largest variance first) and the variance along each (unbiased,
        divided by ``n - 1``). Each component's sign is fixed so that its largest-magnitude
        entry is positive, so the result does not depend on the SVD routine's sign choice.
    """
    codes = codes.detach().float()
    n, d = codes.shape
    if not 1 <= k <= d:
        raise ValueError(f"k must be between 1 and the dimension {d}, got {k}")
    mean = codes.mean(0)
    _, s, vh = torch.linalg.svd(codes - mean, full_matrices=False)
    components = vh[:k]
    pivot = components.abs().argmax(dim=1)
    signs = torch.sign(components[torch.arange(k), pivot])
    components = components * torch.where(signs == 0, torch.ones_like(signs), signs)[:, None]
    variance = s[:k] ** 2 / max(n - 1, 1)
    return mean, components, variance


def project_2d(codes: Tensor) -> Tensor:
    """``codes`` itself if 2-D, else their projection on the first two principal components.

    (1-D codes get a zero second coordinate.)
    """
    d = codes.shape[1]
    if d == 2:
        return codes
    if d == 1:
        return torch.cat([codes, torch.zeros_like(codes)], dim=1)
    mean, components, _ = pca(codes, 2)
    return (codes.float() - mean) @ components.T


# ----------------------------------------------------------------------------- interpolation
def lerp(z_a: Tensor, z_b: Tensor, steps: int) -> Tensor:
    """``steps`` points on the segment from ``z_a`` to ``z_b`` (both included): shape ``(steps, *z_a.shape)``."""
    t = torch.linspace(0, 1, steps, dtype=z_a.dtype, device=z_a.device).view(-1, *([1] * z_a.dim()))
    return (1 - t) * z_a + t * z_b


def slerp(z_a: Tensor, z_b: Tensor, steps: int) -> Tensor:
    """Spherical interpolation along the last dimension (endpoints included, exact).

    The angle is that between ``z_a`` and ``z_b``; norms are interpolated linearly too (the
    usual form for Gaussian latents, which keeps points near the shell where the prior's mass
    is). Falls back to :func:`lerp` where the vectors are (nearly) parallel.
    """
    t = torch.linspace(0, 1, steps, dtype=z_a.dtype, device=z_a.device).view(-1, *([1] * z_a.dim()))
    na, nb = z_a.norm(dim=-1, keepdim=True), z_b.norm(dim=-1, keepdim=True)
    cos = ((z_a * z_b).sum(-1, keepdim=True) / (na * nb).clamp_min(1e-12)).clamp(-1, 1)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    safe = sin.abs() > 1e-6
    wa = torch.where(safe, torch.sin((1 - t) * omega) / torch.where(safe, sin, torch.ones_like(sin)), 1 - t)
    wb = torch.where(safe, torch.sin(t * omega) / torch.where(safe, sin, torch.ones_like(sin)), t)
    out = wa * z_a + wb * z_b
    out[0], out[-1] = z_a, z_b
    return out


def interpolate(model, x_a: Tensor, x_b: Tensor, steps: int = 10, slerp: bool = False) -> Tensor:
    """Decode ``steps`` points on the line (or arc) between ``embed(x_a)`` and ``embed(x_b)``.

    Args:
        model: a model with an encoder (for the GAN see :func:`interpolate_noise`).
        x_a, x_b: one example each (shape ``data_shape``) or batches ``(B, *data_shape)``.
        steps: number of images, endpoints included: the first is ``decode(embed(x_a))``, the
            last ``decode(embed(x_b))``.
        slerp: spherical instead of linear interpolation.

    Returns:
        ``(steps, *data_shape)`` for one pair; ``(B, steps, *data_shape)`` for batches.
    """
    _check_encoder(model, "examples have no codes; interpolate between noise vectors with latent.interpolate_noise")
    single = x_a.dim() == len(model.data_shape)
    xa, xb = (x_a[None], x_b[None]) if single else (x_a, x_b)
    device = model_device(model)
    with eval_mode(model):
        za, zb = model.embed(xa.to(device)).cpu(), model.embed(xb.to(device)).cpu()
    z = _path(za, zb, steps, slerp)  # (steps, B, d)
    images = decode_batched(model, z.reshape(-1, z.shape[-1]))
    images = images.view(steps, za.shape[0], *images.shape[1:]).transpose(0, 1)
    return images[0] if single else images


def interpolate_noise(model, z_a: Tensor, z_b: Tensor, steps: int = 10, labels=None, slerp: bool = False) -> Tensor:
    """Decode ``steps`` points between two latent vectors (the GAN's noise, or any model's codes).

    Args:
        z_a, z_b: ``(d,)`` vectors or ``(B, d)`` batches.
        labels: the class, for a model that :attr:`needs_labels` (a conditional GAN): an int, or one label per pair.
        slerp: spherical interpolation (the usual choice between two Gaussian noise vectors).

    Returns:
        ``(steps, *data_shape)`` for one pair; ``(B, steps, *data_shape)`` for batches.
    """
    single = z_a.dim() == 1
    za, zb = (z_a[None], z_b[None]) if single else (z_a, z_b)
    za, zb = za.cpu().float(), zb.cpu().float()
    b = za.shape[0]
    z = _path(za, zb, steps, slerp)  # (steps, B, d)
    lab = _check_labels(model, labels, b)
    lab = lab.repeat(steps) if lab is not None else None  # matches z's (steps, B) flattening
    images = decode_batched(model, z.reshape(-1, z.shape[-1]), lab)
    images = images.view(steps, b, *images.shape[1:]).transpose(0, 1)
    return images[0] if single else images


def _path(za: Tensor, zb: Tensor, steps: int, spherical: bool) -> Tensor:
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two endpoints), got {steps}")
    return slerp(za, zb, steps) if spherical else lerp(za, zb, steps)


# ----------------------------------------------------------------------------- decoded grids
def grid_points(
    xs: Tensor, ys: Tensor, latent_dim: int, dims: Sequence[int] = (0, 1), base: Tensor | None = None
) -> Tensor:
    """Latent points of a 2-D grid, in image order (see the module docstring).

    ``xs`` (increasing) becomes the columns, ``ys`` (increasing) the rows from the bottom up;
    every other coordinate is taken from ``base`` (zeros by default). Shape
    ``(len(ys) * len(xs), latent_dim)``.
    """
    i, j = dims
    if i == j or not (0 <= i < latent_dim and 0 <= j < latent_dim):
        raise ValueError(f"dims must be two different coordinates below latent_dim={latent_dim}, got {tuple(dims)}")
    base = (
        torch.zeros(latent_dim)
        if base is None
        else torch.as_tensor(base, dtype=torch.float32).cpu().reshape(latent_dim)
    )
    yy, xx = torch.meshgrid(ys.flip(0), xs, indexing="ij")
    z = base.repeat(xx.numel(), 1)
    z[:, i] = xx.reshape(-1)
    z[:, j] = yy.reshape(-1)
    return z


def _limits_pair(limits) -> tuple[tuple[float, float], tuple[float, float]]:
    lim = list(limits)
    if len(lim) == 2 and all(isinstance(v, (int, float)) for v in lim):
        return (float(lim[0]), float(lim[1])), (float(lim[0]), float(lim[1]))
    (a, b), (c, d) = lim
    return (float(a), float(b)), (float(c), float(d))


def latent_grid(
    model,
    limits=(-3.0, 3.0),
    steps: int = 15,
    dims: Sequence[int] = (0, 1),
    base: Tensor | None = None,
    labels=None,
) -> Tensor:
    """Decode a ``steps`` x ``steps`` grid of latent points (the 2-D manifold of a 2-D model).

    Args:
        limits: ``(low, high)`` for both coordinates, or ``((x_low, x_high), (y_low, y_high))``.
        steps: points per side (linearly spaced, ends included).
        dims: the two latent coordinates that vary (for models with more than 2 dimensions).
        base: the other coordinates (zeros by default).
        labels: the class, for a model that :attr:`needs_labels` (a conditional GAN).

    Returns:
        ``steps**2`` decoded images in image order: show with ``show_images(x, nrow=steps)``.
    """
    (x0, x1), (y0, y1) = _limits_pair(limits)
    z = grid_points(torch.linspace(x0, x1, steps), torch.linspace(y0, y1, steps), model.latent_dim, dims, base)
    return decode_batched(model, z, _check_labels(model, labels, z.shape[0]))


def gaussian_cdf_grid(
    model, steps: int = 20, dims: Sequence[int] = (0, 1), base: Tensor | None = None, std: float = 1.0, labels=None
) -> Tensor:
    """The VAE paper's Figure 4: a grid on the unit square mapped through the inverse Gaussian CDF, decoded.

    The grid's coordinates are ``u_i = (i + 0.5) / steps`` (0 and 1, which map to ∓∞, are
    excluded), each mapped to ``z = std * Φ⁻¹(u)``, so the points are equally spaced in
    probability under the prior N(0, std²). Image order as in :func:`latent_grid`.

    Returns:
        ``steps**2`` decoded images: show with ``show_images(x, nrow=steps)``.
    """
    u = (torch.arange(steps, dtype=torch.float64) + 0.5) / steps
    v = (std * torch.special.ndtri(u)).float()
    z = grid_points(v, v, model.latent_dim, dims, base)
    return decode_batched(model, z, _check_labels(model, labels, z.shape[0]))


def percentile_limits(points: Tensor, q: tuple[float, float] = (1.0, 99.0)) -> Tensor:
    """Per-coordinate ``(low, high)`` percentiles of ``(n, d)`` points: shape ``(d, 2)``."""
    qs = torch.tensor([q[0] / 100.0, q[1] / 100.0], dtype=torch.float64)
    return torch.quantile(points.double(), qs, dim=0).T.float()
