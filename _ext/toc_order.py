"""Read (and so execute) the book's pages in the order of ``_toc.yml``, not alphabetically.

Sphinx reads the changed documents sorted by name, and myst-nb executes each notebook while it
reads it, so without this the comparison (``book/comparison``) ran before the GAN and VAE
chapters and paid for their runs (the GAN chapter's 4-epoch GAN, its Parzen and judge
evaluations), which the chapters then took from the run cache; ``papers`` trained the VAE
chapter's 2-D model. In the TOC's order every chapter trains its own models first, and the pages
after it (the comparison, the papers page) reuse them: the same work in all, but each notebook's
time is its own (issue 22's budget is per notebook). Sphinx documents the ``env-before-read-docs``
event for exactly this: its handler may reorder the list in place.
"""

from __future__ import annotations


def toc_order(site_map) -> list[str]:
    """The docnames of sphinx-external-toc's site map, root first, depth first (the reader's order)."""
    order: list[str] = []

    def visit(docname: str) -> None:
        if docname in order or docname not in site_map:
            return
        order.append(docname)
        for tree in site_map[docname].subtrees:
            for child in tree.files():
                visit(child)

    visit(site_map.root.docname)
    return order


def reorder(app, env, docnames: list[str]) -> None:
    site_map = getattr(app.config, "external_site_map", None)
    if site_map is None:
        return
    position = {name: i for i, name in enumerate(toc_order(site_map))}
    docnames.sort(key=lambda name: position.get(name, len(position)))  # stable: the rest stay sorted, after the TOC


def setup(app):
    app.connect("env-before-read-docs", reorder)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
