"""An interactive latent-space explorer: sliders move a point in latent space, the decoder draws it.

The *data model* is separate from the *views*, one idea per module:

* :mod:`.explorer`: :class:`LatentExplorer`, the data model: options (one decoder each), the
  point ``z = base + Σ_i value_i * directions[i]`` and the slider limits; it decodes any slider
  position and precomputes a grid of them. It knows nothing about HTML or ipywidgets.
* :mod:`.live`: the **live** view (:meth:`LatentExplorer.widget`): ipywidgets, continuous
  sliders, decoded on demand; needs a running kernel (Jupyter, Binder, Colab).
* :mod:`.decoder_view` (with :mod:`.decoder_export` and the package's ``decoder.js``): the
  **static** export (:meth:`LatentExplorer.static_html`): a self-contained ``<div>`` for the
  rendered book, which has no kernel. It carries the decoder itself: the decode function traced
  on the slider values into a chain of layers, the hidden units that are zero at every slider
  position left out, its weights inlined once per page (6-, 7- or 8-bit integers rounded by
  GPTQ, or float16: the fewest bytes within 2/255 of PyTorch), and a plain-JavaScript forward
  pass decodes at every one of 201 slider positions. No kernel, no CDN, no network, works from
  ``file://``; without JavaScript it shows the initial image. When the page's weight budget or
  the tolerance does not allow it, or the decoder has an operation the JavaScript lacks, it
  falls back to
* :mod:`.static`: the **sprite sheet**: every point of a ``steps`` x ... x ``steps`` grid of
  slider positions is decoded, for every option, at execution time; all those 28 x 28 images
  go into ONE grey-scale PNG sprite sheet, inlined as a base64 data URI, and ``static.js``
  moves the sheet inside a clipping box as the reader moves a native ``<input type=range>``
  (one step = one grid cell) or picks an option in a ``<select>``.
* :mod:`.explore`: :func:`explore` and :func:`explore_priors` build explorers for trained models
  from the models' shared vocabulary (``has_encoder``, ``embed``, ``sample_prior``,
  ``needs_labels``, ``explorer_axes``; see :mod:`thesis_lib.models.base`).

Apart from the explorer, :mod:`.game` (with the package's ``game.js``) puts the chapters' toy
games on the page: :func:`gan_game` (Algorithm 1 on the 1-D toy or the ring, chapter 1.2) and
:func:`aae_prior_game` (the AAE's codes pulled towards a prior, chapter 1.4) train live in the
reader's browser, in plain JavaScript, from settings defined (and played in torch, for the tests)
by :mod:`thesis_lib.toy_games`.

:func:`replay` (:mod:`.replay`, with :mod:`.replay_frames` and the package's ``replay.js``) shows a
run's training replay: a slider over the snapshots the run recorded of itself
(:mod:`thesis_lib.snapshots`), live in Jupyter and as self-contained HTML in the book.

Displaying an explorer (the last line of a cell, or ``display(ex)``) emits ONE output. In
Jupyter its mime bundle holds the live widget (``application/vnd.jupyter.widget-view+json``)
and nothing else. When the book is built (``scripts/build_book.py`` sets
``$THESIS_LIB_STATIC_WIDGETS``) it holds ``text/html`` (the static version) as well; the book's
``_config.yml`` drops the widget-view mime type for Sphinx (``nb_mime_priority_overrides``), so
the rendered page shows the static version instead of an empty widget box. The export takes
seconds per widget (tracing, pruning, GPTQ), which a reader in Jupyter never pays.

**Bytes against continuity.** A chapter's decoder costs 0.3-0.65 MB of base64 weights (the AAE's
three 0.8 MB together), a sprite sheet 20-300 KB; see :mod:`.decoder_view` for the rule.

**Grid resolution vs page weight (the sprite sheet).** It stores ``options x steps**n_sliders``
images: the default 9 steps and 2 sliders give 81 images per option (a conditional GAN's 10
classes: 810). A 28 x 28 grey-scale tile costs roughly 0.2-0.6 KB in the PNG (plus a third for
base64), so a widget weighs roughly 20-400 KB. :meth:`~LatentExplorer.static_html` keeps each
widget under ``max_bytes`` (default :data:`STATIC_MAX_BYTES`, 300 KB of HTML): when the
8-bit sheet is too heavy it first quantises to 16 grey levels (4-bit PNG, hardly visible at
this size), then lowers the number of steps (9 -> 7 -> 5 ...) until it fits. Finer grids
(``steps=15``) look smoother but cost ``(15/9)**2`` ~ 2.8 times more; a 3-slider explorer
costs ``steps`` times more than a 2-slider one.

    >>> from thesis_lib import widgets
    >>> widgets.explore(vae, data)          # doctest: +SKIP   (displays the widget in a notebook)
    >>> ex = widgets.explore(cgan)          # doctest: +SKIP
    >>> ex.decode_at("3", [0.5, -1.0])      # doctest: +SKIP   (one (28, 28) image)
"""

from .explore import explore, explore_priors
from .explorer import LatentExplorer
from .game import aae_prior_game, gan_game
from .live import png_bytes
from .replay import Replay, replay
from .static import STATIC_MAX_BYTES, sprite_png

__all__ = [
    "LatentExplorer",
    "explore",
    "explore_priors",
    "gan_game",
    "aae_prior_game",
    "replay",
    "Replay",
    "png_bytes",
    "sprite_png",
    "STATIC_MAX_BYTES",
]
