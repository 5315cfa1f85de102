"""Latent explorers for trained models, built from the models' shared vocabulary only.

:func:`explore` asks a model what its latent space is through :mod:`thesis_lib.models.base`'s
vocabulary: codes of data (``has_encoder``, ``embed``), samples of its prior (``sample_prior``),
its own preferred axes (``explorer_axes``, e.g. the GAN's), and whether the decoder takes the
class (``needs_labels``: one selector option per ``class_names`` entry). It never asks which
model it holds, so a new model gets an explorer by implementing that vocabulary.
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import Tensor

from .. import latent
from ..models.base import LatentAxes
from .explorer import DecodeFn, LatentExplorer

__all__ = ["explore", "explore_priors", "axes_from_points"]


def _decoder(model, label: int | None = None) -> DecodeFn:
    """``z -> model.decode(z, labels)`` on the model's device in eval mode (with a fixed class ``label``)."""

    def decode(z: Tensor) -> Tensor:
        labels = None if label is None else torch.full((z.shape[0],), label, dtype=torch.long)
        return latent.decode_batched(model, z, labels)

    return decode


def axes_from_points(
    points: Tensor,
    n_sliders: int,
    percentiles: tuple[float, float] = (1.0, 99.0),
    std_range: float = 2.5,
    what: tuple[str, str] = ("code", "codes"),
) -> LatentAxes:
    """Slider axes that span ``(n, d)`` latent points (codes of data, or prior samples).

    * ``d <= 2``: the coordinates ``z1``, ``z2`` (base 0), each over the ``percentiles`` of the points;
    * more: base = the points' mean, directions = their top ``n_sliders`` principal components
      scaled by their standard deviation, limits ``±std_range``: slider ``PCi`` reads "standard
      deviations along principal direction i".

    ``what`` names one point and several (for the description).
    """
    d = points.shape[1]
    one, many = what
    if d <= 2:
        return LatentAxes(
            torch.zeros(d),
            torch.eye(d),
            latent.percentile_limits(points, percentiles),
            tuple(f"z{i + 1}" for i in range(d)),
            f"latent point (z1, z2), range: {percentiles[0]:g}-{percentiles[1]:g} percentiles of the {many}",
        )
    k = min(n_sliders, d)
    mean, comps, var = latent.pca(points, k)
    limits = torch.tensor([[-std_range, std_range]] * k)
    return LatentAxes(
        mean,
        comps * var.sqrt()[:, None],
        limits,
        tuple(f"PC{i + 1}" for i in range(k)),
        f"mean {one} + sliders × sd along the principal directions of the {d}-D {many}",
    )


def explore(
    model,
    data=None,
    n_sliders: int = 2,
    steps: int = 9,
    n: int = 5000,
    seed: int = 0,
    percentiles: tuple[float, float] = (1.0, 99.0),
    std_range: float = 2.5,
) -> LatentExplorer:
    """A :class:`LatentExplorer` for a trained model (displays itself as the last line of a cell).

    * With ``data`` and an encoder: the axes span the codes ``embed(x)`` of the first ``n``
      examples (:func:`axes_from_points`): the coordinates of a 1-2-D latent space over the
      ``percentiles`` of the codes, or the principal directions of more dimensions.
    * Otherwise the model's own axes (:meth:`~thesis_lib.models.base.GenerativeModel.explorer_axes`;
      the GAN's: a fixed noise vector and random directions, seeded by ``seed``), or axes that
      span ``n`` samples of its prior the same way.
    * A model whose decoder takes the class (a conditional GAN) gets one option per class
      (selector "class"), all on the same axes, so moving the selector keeps the "style".
    """
    g = torch.Generator().manual_seed(seed)
    kind = type(model).__name__
    if data is not None and model.has_encoder:
        codes, _ = latent.embed_dataset(model, data, n)
        axes = axes_from_points(codes, n_sliders, percentiles, std_range)
    else:
        with latent.eval_mode(model):
            axes = model.explorer_axes(n_sliders, g)
            if axes is None:
                axes = axes_from_points(
                    model.sample_prior(n, generator=g).cpu(),
                    n_sliders,
                    percentiles,
                    std_range,
                    ("prior sample", "prior samples"),
                )
    if model.needs_labels:
        options = {name: _decoder(model, c) for c, name in enumerate(model.class_names)}
        return LatentExplorer(
            options,
            axes.base,
            axes.directions,
            axes.limits,
            list(axes.labels),
            "class",
            steps,
            title=f"{kind}: {axes.description}, per class",
        )
    return LatentExplorer(
        {kind: _decoder(model)},
        axes.base,
        axes.directions,
        axes.limits,
        list(axes.labels),
        "option",
        steps,
        title=f"{kind}: {axes.description}",
    )


def explore_priors(
    models: Mapping[str, object],
    data=None,
    steps: int = 9,
    n: int = 5000,
    seed: int = 0,
    percentiles: tuple[float, float] = (1.0, 99.0),
    title: str = "AAE: latent point (z1, z2), per prior",
) -> LatentExplorer:
    """One explorer over several models with a "prior" selector: ``{"gaussian": aae1, "mixture": aae2, ...}``.

    Each option decodes with its own model over the latent coordinates ``z1``, ``z2`` (base 0);
    its slider limits are the ``percentiles`` of ``n`` samples of its prior (seeded by
    ``seed``), widened to those of the codes of ``data`` when given (a briefly trained encoder
    may not fill its prior yet). Models with more than 2 latent dimensions show their first two
    coordinates.
    """
    if not models:
        raise ValueError("explore_priors needs at least one model")
    options, bases, dirs, limits = {}, {}, {}, {}
    for name, model in models.items():
        d = model.latent_dim
        g = torch.Generator().manual_seed(seed)
        with latent.eval_mode(model):
            prior = model.sample_prior(n, generator=g).cpu()[:, :2]
        lim = latent.percentile_limits(prior, percentiles)
        if data is not None and model.has_encoder:
            codes, _ = latent.embed_dataset(model, data, n)
            c = latent.percentile_limits(codes[:, :2], percentiles)
            lim = torch.stack([torch.minimum(lim[:, 0], c[:, 0]), torch.maximum(lim[:, 1], c[:, 1])], dim=1)
        options[name] = _decoder(model)
        bases[name] = torch.zeros(d)
        dirs[name] = torch.eye(d)[: min(2, d)]
        limits[name] = lim[: min(2, d)]
    dims = {dd.shape[1] for dd in dirs.values()}
    if len({dd.shape[0] for dd in dirs.values()}) != 1:
        raise ValueError(f"all models need the same number of latent dimensions (>= 2 or all 1), got {sorted(dims)}")
    k = next(iter(dirs.values())).shape[0]
    return LatentExplorer(options, bases, dirs, limits, [f"z{i + 1}" for i in range(k)], "prior", steps, title=title)
