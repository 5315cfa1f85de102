"""Maps of latent spaces: codes by class, prior against codes, encoding distributions, and a GAN's
images in the principal plane of the real ones (a GAN has no codes)."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import latent
from .style import CLASS_COLORS, PRIOR_COLOR, class_legend, class_names_of, label_classes, new_ax, scatter_classes

__all__ = ["latent_scatter", "prior_vs_posterior", "encoding_distributions", "generated_scatter", "latent_activity"]


def latent_scatter(
    model,
    data,
    n: int = 5000,
    ax: Axes | None = None,
    s: float = 3.0,
    alpha: float = 0.6,
    legend: bool = True,
    title: str | None = None,
) -> Figure:
    """The codes ``embed(x)`` of the first ``n`` examples of ``data``, coloured by class, each class's name at its
    centre.

    2-D codes are drawn as they are (equal axes); higher-dimensional codes are projected on
    their first two principal components, and the axis labels say so (with the share of the
    variance each explains).
    """
    codes, labels = latent.embed_dataset(model, data, n)
    ax = new_ax(ax, (5.6, 4.6))
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
    names = class_names_of(data)
    scatter_classes(ax, pts.numpy(), None if labels is None else labels.numpy(), names, s, alpha)
    if legend and labels is not None:
        class_legend(ax, "digit" if names[0] == "0" else "class")
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
    """Samples of the prior p(z) (grey) and the codes q(z) of ``data`` (coloured by class); for the AAE, whose
    training matches the two.

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
    names = class_names_of(data)
    prior_name = model.prior_name
    lab = None if labels is None else labels.numpy()
    if overlay:
        ax = new_ax(ax, (5.6, 4.6))
        ax.scatter(
            prior_2d[:, 0],
            prior_2d[:, 1],
            s=s,
            color=PRIOR_COLOR,
            alpha=0.5,
            linewidths=0,
            label=f"p(z) ({prior_name})",
            rasterized=True,
        )
        scatter_classes(ax, codes_2d.numpy(), lab, names, s, alpha)
        axes = [ax]
        ax.set_title(f"prior p(z) ({prior_name}, grey) and codes q(z)")
    else:
        if ax is None:
            _, axes = plt.subplots(1, 2, figsize=(10.0, 4.6), layout="constrained")
        else:
            axes = list(ax)
        axes[0].scatter(
            prior_2d[:, 0], prior_2d[:, 1], s=s, color=PRIOR_COLOR, alpha=alpha, linewidths=0, rasterized=True
        )
        axes[0].set_title(f"prior p(z): {prior_name}")
        scatter_classes(axes[1], codes_2d.numpy(), lab, names, s, alpha)
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
        class_legend(axes[-1], "digit" if names[0] == "0" else "class")
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
    x_all, y_all = latent.split_data(data, None)
    if indices is None:
        indices = [int((y_all == c).nonzero()[0]) for c in (0, 1, 2, 4, 7) if bool((y_all == c).any())]
    names = class_names_of(data)
    models = dict(models)
    if axes is None:
        _, axes = plt.subplots(
            1, len(models), figsize=(min(10.0, 3.4 * len(models)), 3.6), layout="constrained", squeeze=False
        )
        axes = list(axes[0])
    for ax, (name, model) in zip(axes, models.items()):
        device = latent.model_device(model)
        with latent.eval_mode(model), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            grey = torch.cat([model.encode(b.to(device)).cpu() for b in x_all[:n].split(1000)])
            picked = [
                model.encode(x_all[i : i + 1].expand(n_samples, *x_all.shape[1:]).to(device)).cpu() for i in indices
            ]
        if grey.shape[1] > 2:
            mean, comps, _ = latent.pca(grey, 2)
            project = lambda z: (z - mean) @ comps.T  # noqa: E731
        else:
            project = latent.project_2d
        g2 = project(grey)
        ax.scatter(g2[:, 0], g2[:, 1], s=s, color=PRIOR_COLOR, alpha=0.4, linewidths=0, rasterized=True, label="q(z)")
        clouds = []
        for i, z in zip(indices, picked):
            c = int(y_all[i])
            z2 = project(z)
            clouds.append((z2, c))
            ax.scatter(
                z2[:, 0],
                z2[:, 1],
                s=4 * s,
                color=CLASS_COLORS[c % 10],
                alpha=0.7,
                linewidths=0,
                rasterized=True,
                label=f"q(z|x), x = a {names[c]}" if c < len(names) else f"q(z|x), class {c}",
            )
        sd_x = torch.stack([z.std(0).pow(2).mean().sqrt() for z in picked]).mean().item()
        sd_all = grey.std(0).pow(2).mean().sqrt().item()
        ax.text(
            0.03,
            0.97,
            f"sd of q(z|x): {sd_x:.2g}\nsd of q(z): {sd_all:.2g}",
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontsize="small",
            bbox=dict(facecolor="white", alpha=0.8, edgecolor="none"),
        )
        # each image's codes named by its digit, not by colour alone
        label_classes(
            ax, torch.cat([z for z, _ in clouds]).numpy(), [c for z, c in clouds for _ in range(len(z))], names
        )
        ax.set_title(name)
        ax.set_xlabel("$z_1$")
        ax.set_aspect("equal", adjustable="datalim")
    axes[0].set_ylabel("$z_2$")
    leg = axes[-1].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small", markerscale=2, frameon=False)
    for handle in leg.legend_handles:
        handle.set_alpha(1.0)
    return axes[0].figure


def generated_scatter(
    model,
    data,
    n_per_class: int = 300,
    n_data: int = 3000,
    seed: int = 0,
    ax: Axes | Sequence[Axes] | None = None,
    s: float = 3.0,
    alpha: float = 0.6,
) -> Figure:
    """A GAN has no encoder, so no codes: instead compare *images* of a class-conditional generator in one 2-D picture.

    The principal components of ``n_data`` real images of ``data`` define a 2-D view of image
    space. Left: the real images in that view, coloured by their label. Right: images generated
    by a model whose decoder takes the class (:attr:`needs_labels`: a conditional GAN),
    ``n_per_class`` per class (z ~ p(z) from a generator seeded by ``seed``),
    projected on the same components and coloured by the class they were conditioned on. Each
    class's centre (median) is marked with its name. If G(z, c) has learnt p(x | c), each class lands where
    the real images of that class are.
    """
    x, y = data.x[:n_data].flatten(1).float().cpu(), data.y[:n_data].cpu()
    mean, comps, var = latent.pca(x, 2)
    labels = torch.arange(model.n_classes).repeat_interleave(n_per_class)
    g = torch.Generator().manual_seed(seed)
    if not model.needs_labels:
        raise ValueError(
            (
                "generated_scatter needs a decoder that takes the class, e.g. a conditional GAN "
                f"(GANConfig(conditional=True)), got a {type(model).__name__}"
            )
        )
    with latent.eval_mode(model):
        z = model.sample_prior(labels.shape[0], generator=g).cpu()
    fake = latent.decode_batched(model, z, labels).flatten(1)
    real_2d, fake_2d = (x - mean) @ comps.T, (fake - mean) @ comps.T
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.2), layout="constrained", sharex=True, sharey=True)
    else:
        axes = list(ax)
        fig = axes[0].figure
    names = class_names_of(data)
    # each class named at the centre of its points: compare the two panels
    scatter_classes(axes[0], real_2d.numpy(), y.numpy(), names, s, alpha)
    scatter_classes(axes[1], fake_2d.numpy(), labels.numpy(), names, s, alpha)
    axes[0].set_title("real images (coloured by label)")
    axes[1].set_title("generated G(z, c) (coloured by c)")
    total = x.var(0).sum()
    for a_ in axes:
        a_.set_xlabel(f"PC1 of real images ({100 * float(var[0] / total):.0f}%)")
    axes[0].set_ylabel(f"PC2 ({100 * float(var[1] / total):.0f}%)")
    class_legend(axes[1], "digit" if names[0] == "0" else "class")
    return fig


def latent_activity(
    model, data, n: int = 5000, threshold: float = 0.01, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """The activity of every latent dimension (:func:`thesis_lib.latent.activity`), largest first, on
    a log scale, with Burda et al.'s threshold for an active unit as a dotted line."""
    act = latent.activity(model, data, n)
    order = torch.argsort(act, descending=True)
    ax = new_ax(ax, (7.0, 3.0))
    active = act[order] > threshold
    ax.bar(range(len(act)), act[order].clamp_min(1e-6).numpy(), color=["C0" if a else "0.6" for a in active.tolist()])
    ax.axhline(threshold, color="0.3", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("latent dimension, most active first")
    ax.set_ylabel("activity Var$_x$ E[$z_j$ | x]")
    ax.set_title(title or f"{int(active.sum())} of {len(act)} dimensions active (activity > {threshold:g})")
    return ax.figure
