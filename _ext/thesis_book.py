"""The book's own Sphinx extension (loaded through ``sphinx.local_extensions`` in ``_config.yml``).

Two fixes to the pages, both checked by ``tests/test_browser.py``:

* **No dead widget state.** When Jupyter Book executes a chapter, nbclient saves the state of
  every live ipywidget into the notebook's metadata, and myst-nb writes it into the page as a
  ``<script type="application/vnd.jupyter.widget-state+json">`` (tens of KB per chapter). The
  book never renders live widgets (``nb_mime_priority_overrides`` drops their mime type; the
  static versions of ``thesis_lib.widgets`` replace them), so that state is dead weight.
* **No duplicate scripts.** sphinx-thebe 0.3.1 adds its inline configuration script
  (``const THEBE_JS_URL = ...``) twice (Sphinx 7.4 tells an inline script registered before the
  builder existed, filename ``""``, from the same script registered later, filename ``None``),
  and the second copy throws "Identifier 'THEBE_JS_URL' has already been declared" in every
  reader's console. Identical scripts are kept once.
"""

from __future__ import annotations


def drop_widget_state(app, pagename, templatename, context, doctree) -> None:
    """Before myst-nb adds a page's JavaScript (priority 500), forget its saved widget state."""
    metadata = getattr(app.env, "nb_metadata", None) or {}
    metadata.get(pagename, {}).get("js_files", {}).pop("ipywidgets_state", None)


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """After every extension has added its JavaScript, keep one copy of identical scripts."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # an inline script added before the builder existed has filename "", one added later None
        attrs = getattr(js, "attributes", {}) or {}
        key = (getattr(js, "filename", js) or "", tuple(sorted(attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", drop_widget_state, priority=400)
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
