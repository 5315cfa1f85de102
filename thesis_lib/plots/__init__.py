"""Figures for the book: image grids, loss curves, reconstructions, latent spaces, the GAN toy.

One idea per module: :mod:`.images` (grids, reconstructions, samples per class), :mod:`.curves`
(histories, the generator losses), :mod:`.latent_maps` (codes, prior against codes, encoding
distributions, a GAN's images in the real images' principal plane), :mod:`.gan_toy` (the 1-D
GAN figure), :mod:`.diagrams` (the autoencoder's layers; block diagrams of the GAN, VAE and
AAE), :mod:`.failures` (the figures of the page "When training goes wrong", whole multi-panel
figures, so they take no ``ax``); :mod:`.style` holds what they share; :mod:`.book` hands a figure to the page
(:func:`glue_figure`, for a numbered, captioned ``glue:figure``).

Every other function takes an optional matplotlib ``ax`` (a new figure is made when it is ``None``),
returns the :class:`~matplotlib.figure.Figure` it drew on and never calls ``plt.show()``. In a
notebook end the line with ``;`` (or assign the result) so that the figure is not shown twice.
The latent-space computations live in :mod:`thesis_lib.latent`, the toy's numbers in
:mod:`thesis_lib.toy`; models are used only through their shared vocabulary
(:mod:`thesis_lib.models.base`).
"""

from .book import glue_figure
from .curves import class_counts, generator_gradients, plot_history
from .diagrams import aae_diagram, autoencoder_diagram, gan_diagram, vae_diagram
from .failures import discriminator_scores, fake_scores_and_samples, mode_hops, pictures, samples_and_shares
from .gan_toy import gan_1d_snapshots, plot_gan_1d
from .images import samples_per_class, show_images, show_reconstructions
from .latent_maps import encoding_distributions, generated_scatter, latent_activity, latent_scatter, prior_vs_posterior
from .style import CLASS_COLORS

__all__ = [
    "show_images",
    "plot_history",
    "show_reconstructions",
    "latent_scatter",
    "prior_vs_posterior",
    "samples_per_class",
    "plot_gan_1d",
    "CLASS_COLORS",
    "autoencoder_diagram",
    "gan_1d_snapshots",
    "generator_gradients",
    "generated_scatter",
    "encoding_distributions",
    "class_counts",
    "pictures",
    "mode_hops",
    "discriminator_scores",
    "samples_and_shares",
    "fake_scores_and_samples",
    "gan_diagram",
    "vae_diagram",
    "aae_diagram",
    "latent_activity",
    "glue_figure",
]
