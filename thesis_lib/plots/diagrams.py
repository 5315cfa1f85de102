"""Diagrams of networks."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyBboxPatch

from .style import new_ax

__all__ = ["autoencoder_diagram", "gan_diagram", "vae_diagram", "aae_diagram"]


def autoencoder_diagram(
    sizes: Sequence[int] = (6, 3, 6),
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Diagram of a fully connected autoencoder: one column of units per layer, every unit joined to every unit
    of the next layer.

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
    ax = new_ax(ax, (max(4.0, 1.3 * len(sizes) + 1.0), 3.4))
    top = max(sizes)
    xs = np.arange(len(sizes), dtype=float)
    ys = [np.linspace(-(s - 1) / 2, (s - 1) / 2, s) if s > 1 else np.zeros(1) for s in sizes]
    colors = [
        "tab:blue" if i == 0 else "tab:green" if i == len(sizes) - 1 else "tab:orange" if i == code else "0.75"
        for i in range(len(sizes))
    ]
    for i in range(len(sizes) - 1):
        for y0 in ys[i]:
            for y1 in ys[i + 1]:
                ax.plot([xs[i], xs[i + 1]], [y0, y1], color="0.55", lw=0.6, zorder=1)
    for i, (x, y) in enumerate(zip(xs, ys)):
        ax.scatter(np.full_like(y, x), y, s=260, color=colors[i], edgecolors="black", linewidths=0.8, zorder=2)
        ax.text(x, (top - 1) / 2 + 0.75, labels[i], ha="center", va="bottom", fontsize="small")
    low = -(top - 1) / 2 - 0.7
    for name, (a, b) in (("encoder $E$", (0, code)), ("decoder $D$", (code, len(sizes) - 1))):
        ax.annotate(
            "",
            xy=(xs[a], low),
            xytext=(xs[b], low),
            arrowprops=dict(arrowstyle="|-|", lw=1.0, shrinkA=0, shrinkB=0, mutation_scale=3),
        )
        ax.text((xs[a] + xs[b]) / 2, low - 0.25, name, ha="center", va="top", fontsize="small")
    ax.set_xlim(-0.6, xs[-1] + 0.6)
    ax.set_ylim(low - 1.0, (top - 1) / 2 + 1.9)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


# ----------------------------------------------------------------------------- block diagrams
# Networks are grey rounded boxes, variables ellipses in the autoencoder diagram's colours (data
# blue, codes orange, outputs green); random inputs are dashed and grey. Coordinates are in units
# of half an inch at the default size (a 7-inch book column), the aspect ratio is 1.
NET_COLOR, DATA_COLOR, CODE_COLOR, OUT_COLOR, LOSS_COLOR = "0.88", "tab:blue", "tab:orange", "tab:green", "tab:red"


def _canvas(ax: Axes | None, width: float, height: float) -> Axes:
    ax = new_ax(ax, (width / 2, height / 2))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str = NET_COLOR) -> FancyBboxPatch:
    """A network: a rounded box of width ``w`` and height ``h`` centred at (x, y)."""
    box = FancyBboxPatch(
        (x - w / 2, y - h / 2),
        w,
        h,
        boxstyle="round,pad=0,rounding_size=0.25",
        facecolor=color,
        edgecolor="black",
        linewidth=0.8,
        zorder=2,
    )
    ax.add_patch(box)
    ax.text(x, y, text, ha="center", va="center", fontsize="small", zorder=3)
    return box


def _node(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str, random: bool = False) -> Ellipse:
    """A variable: an ellipse in a pale ``color``; a random input (noise, prior samples) is dashed."""
    node = Ellipse(
        (x, y),
        w,
        h,
        facecolor=to_rgba(color, 0.3),
        edgecolor="0.3" if random else "black",
        linewidth=0.9,
        linestyle=(0, (3, 2)) if random else "-",
        zorder=2,
    )
    ax.add_patch(node)
    ax.text(x, y, text, ha="center", va="center", fontsize="small", zorder=3)
    return node


def _centre(p: Ellipse | FancyBboxPatch) -> tuple[float, float]:
    if isinstance(p, Ellipse):
        return p.center
    return p.get_x() + p.get_width() / 2, p.get_y() + p.get_height() / 2


def _arrow(ax: Axes, a, b, dashed: bool = False, color: str = "black", rad: float = 0.0) -> None:
    """An arrow from ``a`` to ``b`` (patches, clipped at their outlines, or (x, y) points)."""
    pa, pb = (p if isinstance(p, (Ellipse, FancyBboxPatch)) else None for p in (a, b))
    ax.annotate(
        "",
        xy=_centre(b) if pb else b,
        xytext=_centre(a) if pa else a,
        arrowprops=dict(
            arrowstyle="-|>",
            patchA=pa,
            patchB=pb,
            shrinkA=1.5,
            shrinkB=1.5,
            color=color,
            lw=1.0,
            mutation_scale=10,
            linestyle=(0, (3, 2)) if dashed else "-",
            connectionstyle=f"arc3,rad={rad}",
        ),
        zorder=1,
    )


def gan_diagram(conditional: bool = False, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Block diagram of a generative adversarial network as described in Goodfellow et al. (2014, §3; the paper
    draws no block diagram): noise z ~ p_z(z) goes through the generator G to a fake sample x̃ = G(z); the
    discriminator D gets fake samples and real data x ~ p_data(x) and outputs D(·), its probability that the
    sample is real. With ``conditional=True`` a class label c feeds both G and D, the conditional GAN of Mirza &
    Osindero (2014, Figure 1), with G(z | c) and D(x | c).
    """
    if not isinstance(conditional, (bool, np.bool_)):
        raise ValueError(f"conditional must be True or False, got {conditional!r}")
    ax = _canvas(ax, 14.0, 7.0 if conditional else 5.0)
    fake_y, real_y = 3.8, 1.2
    cond = r" \mid c" if conditional else ""
    z = _node(ax, 1.5, fake_y, 2.7, 1.3, "noise\n$z \\sim p_z(z)$", CODE_COLOR, random=True)
    g = _box(ax, 4.6, fake_y, 1.9, 1.2, "generator\n$G$")
    fake = _node(ax, 7.7, fake_y, 2.7, 1.3, f"fake sample\n$\\tilde{{x}} = G(z{cond})$", OUT_COLOR)
    real = _node(ax, 7.7, real_y, 2.7, 1.3, "real data\n$x \\sim p_{\\mathrm{data}}(x)$", DATA_COLOR)
    d = _box(ax, 10.7, (fake_y + real_y) / 2, 2.0, 1.6, "discriminator\n$D$")
    for a, b in ((z, g), (g, fake), (fake, d), (real, d)):
        _arrow(ax, a, b)
    _arrow(ax, d, (12.2, (fake_y + real_y) / 2))
    ax.text(
        12.35,
        (fake_y + real_y) / 2,
        f"$D(\\cdot{cond})$:\nprobability\nof real",
        ha="left",
        va="center",
        fontsize="small",
    )
    if conditional:
        c = _node(ax, 7.7, 6.1, 2.4, 1.1, "class label\n$c$", "tab:purple")
        _arrow(ax, c, g, rad=0.15)
        _arrow(ax, c, d, rad=-0.15)
    if title:
        ax.set_title(title)
    return ax.figure


def vae_diagram(ax: Axes | None = None, title: str | None = None) -> Figure:
    """The variational autoencoder's computational graph with the reparameterisation trick (Kingma & Welling
    2013, §2.4, which draws no figure of it): the encoder q_φ(z|x) maps x to μ_φ(x) and
    log σ²_φ(x); the noise ε ~ N(0, I) is a separate random input (dashed), z = μ + σ ⊙ ε, and the decoder
    p_θ(x|z) maps z to x̂. The loss terms are marked where they attach: KL(q_φ(z|x) ‖ N(0, I)) at μ and log σ²,
    the reconstruction term log p_θ(x|z) at the output. Gradients flow back through μ and σ, never into ε.
    """
    ax = _canvas(ax, 14.0, 5.8)
    mid = 2.9
    x = _node(ax, 0.75, mid, 1.3, 1.0, "$x$", DATA_COLOR)
    enc = _box(ax, 2.95, mid, 2.0, 1.4, "encoder\n$q_\\phi(z \\mid x)$")
    mu = _node(ax, 5.6, 4.2, 2.0, 0.9, "$\\mu_\\phi(x)$", CODE_COLOR)
    logvar = _node(ax, 5.6, 1.6, 2.0, 0.9, "$\\log \\sigma^2_\\phi(x)$", CODE_COLOR)
    z = _node(ax, 8.35, mid, 2.2, 1.1, "$z = \\mu + \\sigma \\odot \\epsilon$", CODE_COLOR)
    eps = _node(ax, 8.35, 0.7, 2.2, 0.9, "$\\epsilon \\sim \\mathcal{N}(0, I)$", "0.6", random=True)
    dec = _box(ax, 11.0, mid, 2.0, 1.4, "decoder\n$p_\\theta(x \\mid z)$")
    out = _node(ax, 13.25, mid, 1.3, 1.0, "$\\hat{x}$", OUT_COLOR)
    for a, b in ((x, enc), (enc, mu), (enc, logvar), (mu, z), (logvar, z), (z, dec), (dec, out)):
        _arrow(ax, a, b)
    _arrow(ax, eps, z, dashed=True, color="0.3")
    for (x0, y0, x1, y1), text, ha, tx in (
        ((4.45, 1.0, 6.75, 4.8), "$\\mathrm{KL}(q_\\phi(z \\mid x) \\,\\|\\, \\mathcal{N}(0, I))$", "center", 5.6),
        ((12.45, mid - 0.65, 13.95, mid + 0.65), "reconstruction\n$\\log p_\\theta(x \\mid z)$", "right", 13.95),
    ):
        ax.add_patch(
            FancyBboxPatch(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                boxstyle="round,pad=0,rounding_size=0.3",
                facecolor="none",
                edgecolor=LOSS_COLOR,
                linewidth=1.0,
                linestyle=(0, (4, 2)),
                zorder=1,
            )
        )
        ax.text(tx, y1 + 0.12, text, ha=ha, va="bottom", fontsize="small", color=LOSS_COLOR)
    ax.text(5.6, 0.5, "$\\sigma = \\exp(\\frac{1}{2} \\log \\sigma^2)$", ha="center", va="center", fontsize="small")
    ax.text(
        11.7,
        0.8,
        "gradients flow back\nthrough $\\mu$ and $\\sigma$,\nnot into $\\epsilon$",
        ha="center",
        va="center",
        fontsize="small",
        color="0.25",
        style="italic",
    )
    if title:
        ax.set_title(title)
    return ax.figure


def aae_diagram(ax: Axes | None = None, title: str | None = None) -> Figure:
    """Block diagram of the adversarial autoencoder, after Makhzani et al. (2016, Figure 1). Top, the
    reconstruction phase: the encoder q(z|x) maps x to the code z and the decoder p(x|z) maps z back to x̂.
    Bottom, the regularisation phase: a discriminator D gets samples z' ~ p(z) of the prior and codes z and
    tells which is which (prior sample or code?), so the encoder is the generator of the adversarial network.
    """
    ax = _canvas(ax, 14.0, 5.5)
    top, low = 3.9, 0.95
    x = _node(ax, 0.8, top, 1.3, 1.0, "$x$", DATA_COLOR)
    enc = _box(ax, 3.5, top, 2.2, 1.3, "encoder\n$q(z \\mid x)$")
    z = _node(ax, 6.6, top, 1.7, 1.0, "code $z$", CODE_COLOR)
    dec = _box(ax, 9.7, top, 2.2, 1.3, "decoder\n$p(x \\mid z)$")
    out = _node(ax, 12.6, top, 1.3, 1.0, "$\\hat{x}$", OUT_COLOR)
    prior = _node(ax, 3.5, low, 2.6, 1.2, "prior sample\n$z' \\sim p(z)$", "0.6", random=True)
    d = _box(ax, 6.6, low, 2.2, 1.3, "discriminator\n$D$")
    for a, b in ((x, enc), (enc, z), (z, dec), (dec, out), (z, d), (prior, d)):
        _arrow(ax, a, b)
    _arrow(ax, d, (8.4, low))
    ax.text(8.55, low, "prior sample ($z'$)\nor code ($z$)?", ha="left", va="center", fontsize="small")
    ax.text(
        3.5,
        top - 0.8,
        "encoder = generator of\nthe adversarial network",
        ha="center",
        va="top",
        fontsize="small",
        style="italic",
        color="0.25",
    )
    ax.text(0.1, 5.4, "reconstruction phase", ha="left", va="top", fontsize="small", weight="bold", color="0.35")
    ax.text(0.1, 2.15, "regularisation phase", ha="left", va="top", fontsize="small", weight="bold", color="0.35")
    ax.plot([0.1, 13.9], [2.3, 2.3], color="0.7", lw=0.8, ls=(0, (4, 3)), zorder=0)
    if title:
        ax.set_title(title)
    return ax.figure
