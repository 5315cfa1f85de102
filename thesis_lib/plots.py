"""Figures for the book: image grids, loss curves, reconstructions, latent spaces, the GAN toy.

Every function takes an optional matplotlib ``ax`` (a new figure is made when it is
``None``), returns the :class:`~matplotlib.figure.Figure` it drew on and never calls
``plt.show()``. In a notebook end the line with ``;`` (or assign the result) so that the
figure is not shown twice. The latent-space computations live in :mod:`thesis_lib.latent`.
"""

from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from . import latent
from .data import CLASS_NAMES

__all__ = [
    "show_images", "plot_history", "show_reconstructions", "show_denoising", "latent_scatter",
    "prior_vs_posterior", "samples_per_class", "gan_1d_curves", "plot_gan_1d", "CLASS_COLORS",
    "autoencoder_diagram",
    "gan_1d_snapshots", "generator_gradients", "generated_scatter",
    "encoding_distributions",
]

CLASS_COLORS = plt.get_cmap("tab10").colors  # one colour per class, shared by every scatter
TRAIN_COLOR_CYCLE = plt.get_cmap("tab10").colors
PRIOR_COLOR = "0.6"


# ----------------------------------------------------------------------------- helpers
def _new_ax(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


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


def _class_names(data, n_classes: int = 10) -> list[str]:
    name = getattr(data, "name", None) or getattr(getattr(data, "config", None), "dataset", None)
    names = CLASS_NAMES.get(name) if name else None
    return list(names) if names else [str(i) for i in range(n_classes)]


def _history_of(history):
    """A :class:`~thesis_lib.history.History` from a History, a trainer (``.history``) or its dict."""
    if hasattr(history, "history") and not hasattr(history, "epochs"):
        history = history.history
    if isinstance(history, dict):
        from .history import History

        history = History.from_dict(history)
    return history


def _running_mean(v: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values (fewer at the start), same length as ``v``."""
    if window <= 1:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


# ----------------------------------------------------------------------------- images
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
    ax = _new_ax(ax, (max(2.0, 0.6 * cols), max(1.2, 0.6 * rows + (0.3 if title else 0))))
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
    x = _as_images(getattr(x, "x", x)[:n])
    inp = _as_images(corrupted[:n]) if corrupted is not None else x
    device = latent.model_device(model)
    with latent.eval_mode(model):
        recon = model.decode(model.embed(inp.to(device))).cpu()
    if corrupted is None:
        rows, labels = [x, recon], ["input", "reconstruction"]
    else:
        rows, labels = [x, inp, recon], ["clean", "corrupted", "reconstructed"]
    ax = _new_ax(ax, (max(3.0, 0.7 * x.shape[0] + 1.2), 0.75 * len(rows) + (0.4 if title else 0.1)))
    _image_rows(ax, rows, labels)
    if title:
        ax.set_title(title)
    return ax.figure


def show_denoising(
    model, x: Tensor, corrupt_fn: Callable[[Tensor], Tensor] | None = None, n: int = 10, seed: int = 0, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Rows clean / corrupted / reconstructed for a denoising or inpainting autoencoder.

    ``corrupt_fn(x) -> corrupted x``; by default the model's own training corruption
    (``model.corrupt``) with a generator seeded by ``seed``, so the figure is repeatable.
    """
    x = _as_images(getattr(x, "x", x)[:n])
    if corrupt_fn is None:
        if not hasattr(model, "corrupt"):
            raise ValueError(f"{type(model).__name__} has no corrupt(); pass corrupt_fn")
        g = torch.Generator().manual_seed(seed)
        corrupted = model.corrupt(x, generator=g)
    else:
        corrupted = corrupt_fn(x)
    return show_reconstructions(model, x, n=n, corrupted=corrupted, ax=ax, title=title)


def samples_per_class(
    model, n_per_class: int = 8, seed: int = 0, ax: Axes | None = None, class_names: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """Samples of a conditional model, one row per class.

    For a conditional GAN every column uses the same noise z for all classes, so a column
    shows one "style" across the classes. Other models with class-conditional sampling (an AAE
    with ``label_prior``) draw ``model.sample(n, labels)`` from a generator seeded by ``seed``.
    """
    n_classes = model.n_classes
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    g = torch.Generator().manual_seed(seed)
    if getattr(model.config, "conditional", False):
        z = torch.randn(n_per_class, model.config.latent_dim, generator=g).repeat(n_classes, 1)
        images = latent.decode_batched(model, z, labels)
    else:
        with latent.eval_mode(model):
            images = model.sample(labels.shape[0], labels=labels.to(latent.model_device(model)), generator=g).cpu()
    names = list(class_names) if class_names is not None else _class_names(model, n_classes)
    rows = list(images.split(n_per_class))
    ax = _new_ax(ax, (0.65 * n_per_class + 1.2, 0.62 * n_classes + (0.4 if title else 0.1)))
    _image_rows(ax, rows, names)
    if title:
        ax.set_title(title)
    return ax.figure


# ----------------------------------------------------------------------------- training curves
def plot_history(
    history,
    keys: Sequence[str] | None = None,
    per: str = "epoch",
    ax: Axes | None = None,
    smooth: int | str | None = "auto",
    include_val: bool = True,
    logy: bool = False,
    title: str | None = None,
) -> Figure:
    """Loss curves from a :class:`~thesis_lib.history.History` (or a trainer, or its dict).

    Args:
        keys: the logged names to plot (``"kl"``, ``"D"``, ``"val/-elbo"`` ...); default all.
        per: ``"epoch"``: per-epoch means, x = epoch 1, 2, ...; with ``include_val`` each
            training key's ``val/<key>`` is drawn dashed in the same colour.
            ``"step"``: every logged value, x = training iteration (a quantity logged k
            times per iteration, like the GAN's ``D``, is spread over the iteration).
        smooth: running-mean window for ``per="step"``: an int, ``None`` (raw) or ``"auto"``
            (about 1/50 of the run). The raw values are drawn faintly underneath.
        include_val: add the validation curves of the chosen keys (``per="epoch"`` only).
        logy: logarithmic y axis.
    """
    h = _history_of(history)
    if per not in ("epoch", "step"):
        raise ValueError(f"per must be 'epoch' or 'step', got {per!r}")
    source = h.epochs if per == "epoch" else h.steps
    if not source:
        raise ValueError(f"the history has no per-{per} values (was the model trained?)")
    if keys is None:
        keys = list(source)
    elif isinstance(keys, str):
        keys = [keys]
    missing = [k for k in keys if k not in source]
    if missing:
        raise KeyError(f"{', '.join(map(repr, missing))} not in the history's per-{per} values; it has {', '.join(map(repr, source))}")
    ax = _new_ax(ax, (6.0, 3.6))
    train_keys = [k for k in keys if not k.startswith("val/")]
    colors = {k: TRAIN_COLOR_CYCLE[i % 10] for i, k in enumerate(train_keys)}
    for k in keys:
        if k.startswith("val/") and k[4:] not in colors:
            colors[k[4:]] = TRAIN_COLOR_CYCLE[len(colors) % 10]

    if per == "epoch":
        drawn = set()
        for k in keys:
            base = k[4:] if k.startswith("val/") else k
            todo = [k] + ([f"val/{k}"] if include_val and not k.startswith("val/") and f"val/{k}" in source else [])
            for name in todo:
                if name in drawn:
                    continue
                drawn.add(name)
                v = np.asarray(source[name], dtype=float)
                val = name.startswith("val/")
                ax.plot(np.arange(1, len(v) + 1), v, ls="--" if val else "-", marker="o", ms=3, color=colors[base],
                        label=name if val else f"{name} (train)" if f"val/{name}" in todo else name)
        ax.set_xlabel("epoch")
        n_ep = max(len(source[k]) for k in drawn)
        if n_ep <= 20:
            ax.set_xticks(np.arange(1, n_ep + 1))
    else:
        n_iter = min(len(v) for v in h.steps.values())
        for k in keys:
            v = np.asarray(source[k], dtype=float)
            x = np.arange(1, len(v) + 1) * (n_iter / len(v))
            w = max(1, len(v) // 50) if smooth == "auto" else (smooth or 1)
            if w > 1:
                ax.plot(x, v, color=colors[k], alpha=0.2, lw=0.8)
                ax.plot(x, _running_mean(v, w), color=colors[k], lw=1.5, label=f"{k} (mean of {w})")
            else:
                ax.plot(x, v, color=colors[k], lw=1.0, label=k)
        ax.set_xlabel("iteration")
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel("value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    return ax.figure


# ----------------------------------------------------------------------------- latent spaces
def _scatter_classes(ax: Axes, points: np.ndarray, labels, names: Sequence[str], s: float, alpha: float) -> None:
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=s, alpha=alpha, color=CLASS_COLORS[0], linewidths=0)
        return
    labels = np.asarray(labels)
    for c in np.unique(labels):
        m = labels == c
        ax.scatter(points[m, 0], points[m, 1], s=s, alpha=alpha, color=CLASS_COLORS[int(c) % 10], linewidths=0,
                   label=names[int(c)] if int(c) < len(names) else str(int(c)), rasterized=True)


def _class_legend(ax: Axes, title: str = "class") -> None:
    leg = ax.legend(title=title, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small", markerscale=3, frameon=False)
    for handle in leg.legend_handles:
        handle.set_alpha(1.0)


def latent_scatter(
    model, data, n: int = 5000, ax: Axes | None = None, s: float = 3.0, alpha: float = 0.6, legend: bool = True, title: str | None = None
) -> Figure:
    """The codes ``embed(x)`` of the first ``n`` examples of ``data``, coloured by class.

    2-D codes are drawn as they are (equal axes); higher-dimensional codes are projected on
    their first two principal components, and the axis labels say so (with the share of the
    variance each explains).
    """
    codes, labels = latent.embed_dataset(model, data, n)
    ax = _new_ax(ax, (5.6, 4.6))
    d = codes.shape[1]
    if d > 2:
        mean, comps, var = latent.pca(codes, 2)
        pts = (codes - mean) @ comps.T
        total = codes.var(0).sum()
        ax.set_xlabel(f"PC1 ({100 * float(var[0] / total):.0f}% of variance)")
        ax.set_ylabel(f"PC2 ({100 * float(var[1] / total):.0f}% of variance)")
        default_title = f"PCA of the {d}-D latent codes"
    else:
        pts = latent.project_2d(codes)
        ax.set_xlabel("$z_1$")
        ax.set_ylabel("$z_2$" if d == 2 else "(0)")
        ax.set_aspect("equal", adjustable="datalim")
        default_title = "latent codes"
    names = _class_names(data, getattr(data, "n_classes", 10))
    _scatter_classes(ax, pts.numpy(), None if labels is None else labels.numpy(), names, s, alpha)
    if legend and labels is not None:
        _class_legend(ax, "digit" if names[0] == "0" else "class")
    ax.set_title(title if title is not None else default_title)
    return ax.figure


def prior_vs_posterior(
    model,
    data,
    n: int = 5000,
    overlay: bool = False,
    ax: Axes | Sequence[Axes] | None = None,
    seed: int = 0,
    s: float = 3.0,
    alpha: float = 0.6,
) -> Figure:
    """AAE: samples of the prior p(z) (grey) and the codes q(z) of ``data`` (coloured by class).

    Side by side on shared axes (``overlay=False``; ``ax`` may then be a pair of axes) or in
    one plot with the prior underneath (``overlay=True``). ``n`` prior samples are drawn from a
    generator seeded by ``seed``. Codes of more than 2 dimensions are projected on the codes'
    principal components, the prior samples on the same ones.
    """
    codes, labels = latent.embed_dataset(model, data, n)
    g = torch.Generator().manual_seed(seed)
    with latent.eval_mode(model):
        prior = model.sample_prior(codes.shape[0], generator=g).cpu()
    if codes.shape[1] > 2:
        mean, comps, _ = latent.pca(codes, 2)
        codes_2d, prior_2d = (codes - mean) @ comps.T, (prior - mean) @ comps.T
        xlabel, ylabel = "PC1 of the codes", "PC2 of the codes"
    else:
        codes_2d, prior_2d = latent.project_2d(codes), latent.project_2d(prior)
        xlabel, ylabel = "$z_1$", "$z_2$"
    names = _class_names(data, getattr(data, "n_classes", 10))
    prior_name = getattr(getattr(model, "config", None), "prior", "prior")
    from .priors import GaussianPrior, MixturePrior, SwissRollPrior

    if getattr(model, "prior", None) is not None and not isinstance(model.prior, (GaussianPrior, MixturePrior, SwissRollPrior)):
        prior_name = getattr(model.prior, "__name__", type(model.prior).__name__)  # a user's sampler passed as prior=
    lab = None if labels is None else labels.numpy()
    if overlay:
        ax = _new_ax(ax, (5.6, 4.6))
        ax.scatter(prior_2d[:, 0], prior_2d[:, 1], s=s, color=PRIOR_COLOR, alpha=0.5, linewidths=0, label=f"p(z) ({prior_name})", rasterized=True)
        _scatter_classes(ax, codes_2d.numpy(), lab, names, s, alpha)
        axes = [ax]
        ax.set_title(f"prior p(z) ({prior_name}, grey) and codes q(z)")
    else:
        if ax is None:
            _, axes = plt.subplots(1, 2, figsize=(10.0, 4.6), layout="constrained")
        else:
            axes = list(ax)
        axes[0].scatter(prior_2d[:, 0], prior_2d[:, 1], s=s, color=PRIOR_COLOR, alpha=alpha, linewidths=0, rasterized=True)
        axes[0].set_title(f"prior p(z): {prior_name}")
        _scatter_classes(axes[1], codes_2d.numpy(), lab, names, s, alpha)
        axes[1].set_title("codes q(z) of the data")
        # the same square limits on both panels, robust to a few outlying codes
        lo, hi = latent.percentile_limits(torch.cat([codes_2d, prior_2d]), (0.2, 99.8)).T.numpy()
        centre, half = (lo + hi) / 2, 0.525 * float((hi - lo).max())
        for a in axes:
            a.set_xlim(centre[0] - half, centre[0] + half)
            a.set_ylim(centre[1] - half, centre[1] + half)
    for a in axes:
        a.set_xlabel(xlabel)
        a.set_aspect("equal", adjustable="datalim" if overlay else "box")
    axes[0].set_ylabel(ylabel)
    if lab is not None:
        _class_legend(axes[-1], "digit" if names[0] == "0" else "class")
    return axes[0].figure


def encoding_distributions(
    models,
    data,
    indices: Sequence[int] | None = None,
    n_samples: int = 300,
    n: int = 3000,
    seed: int = 0,
    axes: Sequence[Axes] | None = None,
    s: float = 3.0,
) -> Figure:
    """AAE: the encoding distribution q(z|x) of a few images under each model's kind of encoder.

    One panel per entry of ``models`` (a mapping ``name -> AAE``, e.g. a deterministic, a
    Gaussian and a universal-approximator encoder). Grey: one code ``z ~ q(z|x)`` for each of
    the first ``n`` examples of ``data``, a sample of the aggregated posterior q(z). Coloured
    (by class): ``n_samples`` codes of each image in ``indices`` (default: the first image of
    each of five classes), so a deterministic encoder shows one point per image, a Gaussian one
    an ellipse, a universal approximator any shape. Each panel also prints the spread of both
    (root mean square over the coordinates of the standard deviation; for q(z|x) averaged over
    the chosen images). Codes are drawn with the model's own ``encode`` on a random stream
    seeded by ``seed`` (the global RNG is left as it was).
    """
    x_all, y_all = latent._split_data(data, None)
    if indices is None:
        indices = [int((y_all == c).nonzero()[0]) for c in (0, 1, 2, 4, 7) if bool((y_all == c).any())]
    names = _class_names(data, getattr(data, "n_classes", 10))
    models = dict(models)
    if axes is None:
        _, axes = plt.subplots(1, len(models), figsize=(min(10.0, 3.4 * len(models)), 3.6), layout="constrained", squeeze=False)
        axes = list(axes[0])
    for ax, (name, model) in zip(axes, models.items()):
        device = latent.model_device(model)
        with latent.eval_mode(model), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            grey = torch.cat([model.encode(b.to(device)).cpu() for b in x_all[:n].split(1000)])
            picked = [model.encode(x_all[i : i + 1].expand(n_samples, *x_all.shape[1:]).to(device)).cpu() for i in indices]
        if grey.shape[1] > 2:
            mean, comps, _ = latent.pca(grey, 2)
            project = lambda z: (z - mean) @ comps.T  # noqa: E731
        else:
            project = latent.project_2d
        g2 = project(grey)
        ax.scatter(g2[:, 0], g2[:, 1], s=s, color=PRIOR_COLOR, alpha=0.4, linewidths=0, rasterized=True, label="q(z)")
        for i, z in zip(indices, picked):
            c = int(y_all[i])
            z2 = project(z)
            ax.scatter(z2[:, 0], z2[:, 1], s=4 * s, color=CLASS_COLORS[c % 10], alpha=0.7, linewidths=0, rasterized=True,
                       label=f"q(z|x), x = a {names[c]}" if c < len(names) else f"q(z|x), class {c}")
        sd_x = torch.stack([z.std(0).pow(2).mean().sqrt() for z in picked]).mean().item()
        sd_all = grey.std(0).pow(2).mean().sqrt().item()
        ax.text(0.03, 0.97, f"sd of q(z|x): {sd_x:.2g}\nsd of q(z): {sd_all:.2g}", transform=ax.transAxes,
                va="top", ha="left", fontsize="small", bbox=dict(facecolor="white", alpha=0.8, edgecolor="none"))
        kind = getattr(getattr(model, "config", None), "encoder", "")
        ax.set_title(f"{name}" + (f" ({kind})" if kind and kind != name else ""))
        ax.set_xlabel("$z_1$")
        ax.set_aspect("equal", adjustable="datalim")
    axes[0].set_ylabel("$z_2$")
    leg = axes[-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small", markerscale=2, frameon=False)
    for handle in leg.legend_handles:
        handle.set_alpha(1.0)
    return axes[0].figure


# ----------------------------------------------------------------------------- diagrams
def autoencoder_diagram(
    sizes: Sequence[int] = (6, 3, 6),
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Diagram of a fully connected autoencoder: one column of units per layer, every unit joined to every unit of the next layer.

    ``sizes`` are the drawn units per layer, input first; the middle layer (the smallest) is the
    code y = E(x). The default ``(6, 3, 6)`` is the thesis's simplest autoencoder (Figure 1):
    input, one hidden layer (the code) and output. Longer lists draw the shrinking/growing MLP,
    e.g. ``(8, 5, 2, 5, 8)``. ``labels`` names the layers (default: input x, code y = E(x),
    output D(y) ≈ x, and "hidden" for the others). Brackets under the layers mark the encoder E
    (input to code) and the decoder D (code to output).
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 3 or any(s < 1 for s in sizes):
        raise ValueError(f"sizes needs at least 3 layers of >= 1 units (input, code, output), got {list(sizes)}")
    code = int(np.argmin(sizes[1:-1])) + 1
    if labels is None:
        labels = ["hidden"] * len(sizes)
        labels[0], labels[code], labels[-1] = "input\n$x$", "code\n$y = E(x)$", "output\n$D(y) \\approx x$"
    if len(labels) != len(sizes):
        raise ValueError(f"{len(sizes)} layers but {len(labels)} labels")
    ax = _new_ax(ax, (max(4.0, 1.3 * len(sizes) + 1.0), 3.4))
    top = max(sizes)
    xs = np.arange(len(sizes), dtype=float)
    ys = [np.linspace(-(s - 1) / 2, (s - 1) / 2, s) if s > 1 else np.zeros(1) for s in sizes]
    colors = ["tab:blue" if i == 0 else "tab:green" if i == len(sizes) - 1 else "tab:orange" if i == code else "0.75" for i in range(len(sizes))]
    for i in range(len(sizes) - 1):
        for y0 in ys[i]:
            for y1 in ys[i + 1]:
                ax.plot([xs[i], xs[i + 1]], [y0, y1], color="0.55", lw=0.6, zorder=1)
    for i, (x, y) in enumerate(zip(xs, ys)):
        ax.scatter(np.full_like(y, x), y, s=260, color=colors[i], edgecolors="black", linewidths=0.8, zorder=2)
        ax.text(x, (top - 1) / 2 + 0.75, labels[i], ha="center", va="bottom", fontsize="small")
    low = -(top - 1) / 2 - 0.7
    for name, (a, b) in (("encoder $E$", (0, code)), ("decoder $D$", (code, len(sizes) - 1))):
        ax.annotate("", xy=(xs[a], low), xytext=(xs[b], low), arrowprops=dict(arrowstyle="|-|", lw=1.0, shrinkA=0, shrinkB=0,
                                                                                      mutation_scale=3))
        ax.text((xs[a] + xs[b]) / 2, low - 0.25, name, ha="center", va="top", fontsize="small")
    ax.set_xlim(-0.6, xs[-1] + 0.6)
    ax.set_ylim(low - 1.0, (top - 1) / 2 + 1.9)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


# ----------------------------------------------------------------------------- the GAN's 1-D toy
def gan_1d_curves(
    model,
    x: Tensor | None = None,
    n_samples: int = 20_000,
    n_mapping: int = 25,
    seed: int = 0,
    bandwidth: float | None = None,
) -> dict[str, np.ndarray]:
    """Everything :func:`plot_gan_1d` draws, for a GAN trained on the ``toy-1d`` data.

    Returns ``dict(x, p_data, p_g, d, z, g_z)``: the x grid (default ``[-5, 5]``, 500 points),
    the exact data density, a Gaussian KDE of ``n_samples`` generator samples, ``D(x)``, and,
    for a 1-D noise space only, ``n_mapping`` evenly spaced quantiles ``z`` of p_z with their
    images ``G(z)`` (``None`` otherwise). Call ``plot_gan_1d(**gan_1d_curves(model))``.
    """
    from .toy import gaussian_mixture_1d_density

    x = torch.linspace(-5, 5, 500) if x is None else torch.as_tensor(x, dtype=torch.float32).flatten()
    g = torch.Generator().manual_seed(seed)
    device = latent.model_device(model)
    with latent.eval_mode(model):
        samples = model.sample(n_samples, generator=g).cpu().flatten()
        d = torch.sigmoid(model.discriminate(x[:, None].to(device))).cpu()
        z = g_z = None
        if model.config.latent_dim == 1:
            z = torch.special.ndtri((torch.arange(n_mapping, dtype=torch.float64) + 0.5) / n_mapping).float()
            g_z = model.decode(z[:, None].to(device)).cpu().flatten()
    return {
        "x": x.numpy(),
        "p_data": gaussian_mixture_1d_density(x).float().numpy(),
        "p_g": kde(samples, x, bandwidth).numpy(),
        "d": d.numpy(),
        "z": None if z is None else z.numpy(),
        "g_z": None if g_z is None else g_z.numpy(),
    }


def kde(samples: Tensor, x: Tensor, bandwidth: float | None = None) -> Tensor:
    """Gaussian kernel density estimate of 1-D ``samples`` at ``x`` (Scott's bandwidth by default)."""
    samples = torch.as_tensor(samples, dtype=torch.float64).flatten()
    x = torch.as_tensor(x, dtype=torch.float64).flatten()
    if bandwidth is None:
        bandwidth = float(samples.std()) * samples.numel() ** (-1 / 5) or 1.0
    dens = torch.zeros_like(x)
    for chunk in samples.split(4096):
        dens += torch.exp(-0.5 * ((x[:, None] - chunk[None]) / bandwidth) ** 2).sum(1)
    return (dens / (samples.numel() * bandwidth * np.sqrt(2 * np.pi))).float()


def plot_gan_1d(
    x,
    p_data,
    p_g=None,
    d=None,
    samples=None,
    z=None,
    g_z=None,
    ax: Axes | None = None,
    bandwidth: float | None = None,
    title: str | None = None,
    legend: bool = True,
) -> Figure:
    """Goodfellow et al. (2014), Figure 1 style: p_data, p_g and D(x) over a 1-D x.

    Args:
        x: the x grid, shape ``(M,)``.
        p_data: the data density on the grid: black dotted.
        p_g: the generator's density on the grid: green solid. If ``None`` and ``samples``
            (generator samples) are given, a Gaussian KDE of them (``bandwidth``) is drawn.
        d: the discriminator's output D(x) on the grid: blue dashed.
        z, g_z: optional mapping x = G(z) (1-D noise): ``z`` is drawn on a lower line, rescaled
            to the x axis's span, with a line from each z up to G(z) on the x line, showing how
            G contracts (high p_g) or stretches (low p_g) the noise.
        title, legend: the panel's title and whether to draw the legend.

    All arrays may be numpy arrays or tensors. For a trained toy GAN use
    ``plot_gan_1d(**gan_1d_curves(model))``; for the four panels (a)-(d) pass one ``ax`` each.
    """
    x = np.asarray(x, dtype=float).ravel()
    ax = _new_ax(ax, (5.0, 3.4))
    if p_g is None and samples is not None:
        p_g = kde(torch.as_tensor(np.asarray(samples, dtype=float)), torch.as_tensor(x), bandwidth).numpy()
    top = max(np.max(np.asarray(p_data, dtype=float)), 1.0 if d is not None else 0.0, np.max(np.asarray(p_g, dtype=float)) if p_g is not None else 0.0)
    ax.plot(x, np.asarray(p_data, dtype=float), ls=":", color="black", lw=2, label=r"$p_{\mathrm{data}}$")
    if p_g is not None:
        ax.plot(x, np.asarray(p_g, dtype=float), color="green", lw=1.6, label=r"$p_g$")
    if d is not None:
        ax.plot(x, np.asarray(d, dtype=float), ls="--", color="blue", lw=1.6, label="$D(x)$")
    bottom = 0.0
    if z is not None and g_z is not None:
        z, g_z = np.asarray(z, dtype=float).ravel(), np.asarray(g_z, dtype=float).ravel()
        y_x, y_z = -0.12 * top, -0.45 * top
        span = (z.max() - z.min()) or 1.0
        zx = x.min() + (z - z.min()) / span * (x.max() - x.min()) * 0.8 + 0.1 * (x.max() - x.min())
        ax.hlines([y_x, y_z], x.min(), x.max(), color="black", lw=0.8)
        for a, b in zip(zx, g_z):
            ax.annotate("", xy=(b, y_x), xytext=(a, y_z), arrowprops=dict(arrowstyle="->", lw=0.6, color="0.3", shrinkA=0, shrinkB=0))
        ax.text(x.min(), y_x, "x ", ha="right", va="center")
        ax.text(x.min(), y_z, "z ", ha="right", va="center")
        bottom = -0.55 * top
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(bottom if bottom < 0 else 0.0, 1.08 * top)
    if bottom < 0:  # no negative ticks under the mapping lines
        ax.set_yticks([t for t in ax.get_yticks() if 0 <= t <= 1.08 * top])
    ax.set_xlabel("x")
    if legend:
        ax.legend(fontsize="small", loc="upper right")
    if title:
        ax.set_title(title)
    return ax.figure


def gan_1d_snapshots(
    snapshots, ncols: int = 4, figsize: tuple[float, float] | None = None, mapping: bool = True, p_g_max: float | None = 1.0
) -> Figure:
    """Panels (a), (b), ... of a 1-D GAN at several moments of training (Goodfellow et al., Figure 1).

    ``snapshots``: a list of ``(iteration, curves)`` with ``curves`` from :func:`gan_1d_curves`,
    e.g. :attr:`thesis_lib.callbacks.GAN1DSnapshots.snapshots`. Each panel shows p_data (black
    dotted), p_g (green), D(x) (blue dashed) and, with ``mapping`` and a 1-D noise space, the
    map z -> G(z); only the first panel has a legend. ``p_g`` is clipped at ``p_g_max`` (early
    on G puts all its mass in a narrow spike) so that every panel has the same scale.
    """
    snapshots = list(snapshots)
    if not snapshots:
        raise ValueError("no snapshots to draw (a cached run that was loaded, not trained, records none)")
    n = len(snapshots)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    figsize = figsize or (2.5 * ncols, 2.3 * nrows + 0.2)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False)
    for i, (ax, (step, curves)) in enumerate(zip(axes.flat, snapshots)):
        curves = dict(curves) if mapping else {k: v for k, v in curves.items() if k not in ("z", "g_z")}
        if p_g_max is not None and curves.get("p_g") is not None:
            curves["p_g"] = np.minimum(np.asarray(curves["p_g"], dtype=float), p_g_max)
        plot_gan_1d(**curves, ax=ax, legend=i == 0, title=f"({chr(ord('a') + i)}) iteration {step}")
        if i % ncols:
            ax.set_ylabel("")
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    return fig


def generator_gradients(d_min: float = 1e-3, ax: Axes | Sequence[Axes] | None = None) -> Figure:
    r"""Why the minimax generator loss saturates: both generator losses and their gradients.

    Left: :func:`~thesis_lib.losses.generator_loss_minimax` (``log(1 - D)``, descended) and
    :func:`~thesis_lib.losses.generator_loss_nonsaturating` (``-log D``) as functions of
    ``D = D(G(z))``. Right: the size of their gradients with respect to D's logit ``a``
    (``D = sigmoid(a)``), computed by autograd through the library's losses: ``D`` for the
    minimax loss and ``1 - D`` for the non-saturating one. Early in training D(G(z)) is near 0,
    where the minimax gradient vanishes and the non-saturating one is largest.
    """
    from . import losses

    d = torch.linspace(d_min, 1 - d_min, 400, dtype=torch.float64)
    a = torch.logit(d).requires_grad_(True)
    curves = {}
    for name, fn in (("minimax: $\\log(1 - D(G(z)))$", losses.generator_loss_minimax),
                     ("non-saturating: $-\\log D(G(z))$", losses.generator_loss_nonsaturating)):
        loss = fn(a) * a.numel()  # the losses average over the batch; undo it for per-example gradients
        (grad,) = torch.autograd.grad(loss, a)
        per_example = torch.stack([fn(a[i : i + 1]) for i in range(0, a.numel())]).detach()
        curves[name] = (per_example.numpy(), grad.abs().numpy())
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.3), layout="constrained")
    else:
        axes = list(ax)
        fig = axes[0].figure
    for (name, (loss, grad)), color in zip(curves.items(), ("tab:red", "tab:green")):
        axes[0].plot(d.numpy(), loss, color=color, label=name)
        axes[1].plot(d.numpy(), grad, color=color, label=name)
    axes[0].set_ylabel("generator loss (descended)")
    axes[0].set_title("the two generator losses")
    axes[1].set_ylabel(r"$|\partial \mathcal{L}_G / \partial a|$,  $D = \sigma(a)$")
    axes[1].set_title("gradient w.r.t. D's logit")
    for a_ in axes:
        a_.set_xlabel("$D(G(z))$")
        a_.set_xlim(0, 1)
        a_.grid(alpha=0.3)
    axes[1].axvspan(0, 0.1, color="0.9", zorder=0)
    axes[1].text(0.02, 0.5, "early\ntraining", fontsize="small", va="center")
    axes[0].legend(fontsize="small")
    return fig


def generated_scatter(
    model, data, n_per_class: int = 300, n_data: int = 3000, seed: int = 0, ax: Axes | Sequence[Axes] | None = None, s: float = 3.0, alpha: float = 0.6
) -> Figure:
    """A GAN has no encoder, so no codes: instead compare *images* in one 2-D picture.

    The principal components of ``n_data`` real images of ``data`` define a 2-D view of image
    space. Left: the real images in that view, coloured by their label. Right: images generated
    by a conditional GAN, ``n_per_class`` per class (noise from a generator seeded by ``seed``),
    projected on the same components and coloured by the class they were conditioned on. Each
    class's mean is marked with its name. If G(z, c) has learnt p(x | c), each class lands where
    the real images of that class are.
    """
    x, y = data.x[:n_data].flatten(1).float().cpu(), data.y[:n_data].cpu()
    mean, comps, var = latent.pca(x, 2)
    labels = torch.arange(model.n_classes).repeat_interleave(n_per_class)
    g = torch.Generator().manual_seed(seed)
    if getattr(model.config, "conditional", False):
        z = torch.randn(labels.shape[0], model.config.latent_dim, generator=g)
        fake = latent.decode_batched(model, z, labels).flatten(1)
    else:
        raise ValueError("generated_scatter needs a conditional GAN (GANConfig(conditional=True)): its samples have classes")
    real_2d, fake_2d = (x - mean) @ comps.T, (fake - mean) @ comps.T
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.2), layout="constrained", sharex=True, sharey=True)
    else:
        axes = list(ax)
        fig = axes[0].figure
    names = _class_names(data, getattr(data, "n_classes", 10))
    _scatter_classes(axes[0], real_2d.numpy(), y.numpy(), names, s, alpha)
    _scatter_classes(axes[1], fake_2d.numpy(), labels.numpy(), names, s, alpha)
    import matplotlib.patheffects as pe

    for a_, pts, lab in ((axes[0], real_2d, y), (axes[1], fake_2d, labels)):
        for c in range(model.n_classes):  # each class's mean, labelled: compare the two panels
            m = pts[lab == c].mean(0)
            a_.text(float(m[0]), float(m[1]), names[c] if c < len(names) else str(c), ha="center", va="center", fontsize=12,
                    fontweight="bold", color=CLASS_COLORS[c % 10], path_effects=[pe.withStroke(linewidth=3, foreground="white")])
    axes[0].set_title("real images (coloured by label)")
    axes[1].set_title("generated G(z, c) (coloured by c)")
    total = x.var(0).sum()
    for a_ in axes:
        a_.set_xlabel(f"PC1 of real images ({100 * float(var[0] / total):.0f}%)")
    axes[0].set_ylabel(f"PC2 ({100 * float(var[1] / total):.0f}%)")
    _class_legend(axes[1], "digit" if names[0] == "0" else "class")
    return fig
