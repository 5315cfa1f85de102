"""What the browser tests share: Debian's Chromium driven by Playwright, a local server for built
HTML, and axe-core's accessibility rules injected into a page.

* :func:`launch` starts headless Chromium (``/usr/bin/chromium``) with the flags every test uses;
  it skips (fails in CI, ``CI=true``) where Chromium or Playwright is missing.
* :func:`serve` serves a folder on 127.0.0.1 (a free port), quietly.
* :data:`BOOK_HTML` is the built book's English edition (the Slovene one is its ``sl/``); the ``browser`` fixture
  (one Chromium per test module) is in ``tests/conftest.py``.
* :func:`axe` runs axe-core (the npm package ``axe-core``, pinned in ``package.json`` and
  installed into ``node_modules/`` by ``npm ci``, which ``.ci/run`` runs) on a loaded page with
  the WCAG 2.0 and 2.1 A and AA rules (:data:`WCAG_TAGS`) and returns its violations;
  :func:`blocking` keeps the critical and serious ones, :func:`describe` says what they are in a
  few lines per rule (the rule, its impact, how many elements, the first elements' selectors).
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import pytest
from pdf import CHROMIUM, CHROMIUM_FLAGS, serve  # noqa: F401  (the PDF script's browser and local server: scripts/ is on the path)

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
BOOK_HTML = Path(os.environ.get("THESIS_LIB_BOOK_HTML", ROOT / "_build" / "html")).resolve()
"""The built book's English edition (``$THESIS_LIB_BOOK_HTML``, else ``_build/html``); the Slovene one is
its ``sl/``."""
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""The rules checked: WCAG 2.0 and 2.1, levels A and AA (axe-core's tags)."""
BLOCKING = ("critical", "serious")
"""The impacts a page may not have."""


def unavailable(reason: str):
    """Skip, or fail in CI, where the browser tests must run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run in CI)")
    pytest.skip(reason)


@contextlib.contextmanager
def launch():
    """Headless Chromium (a Playwright ``Browser``), closed afterwards."""
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} not found (install it: apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -r requirements.txt)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@functools.cache
def axe_source() -> str:
    if not AXE_JS.exists():
        unavailable(f"{AXE_JS.relative_to(ROOT)} not found (install the tests' JavaScript: npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


def axe(page, include: str | None = None) -> list[dict]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on ``page`` (within the selector ``include``, else the
    whole document): ``[{id, impact, help, nodes: [{target, summary}]}]``."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source())
    return page.evaluate(
        """async ([include, tags]) => {
            const result = await axe.run(include ? {include: [include]} : document,
                                         {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                         summary: (n.failureSummary || '').slice(0, 300)}))}));
        }""",
        [include, WCAG_TAGS],
    )


def blocking(violations: list[dict]) -> list[dict]:
    """The critical and serious violations."""
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict], examples: int = 3) -> str:
    """One line per rule: impact, rule, number of elements, what it asks; then the first elements and why."""
    lines = []
    for v in violations:
        lines.append(f"{v['impact']} {v['id']} x{len(v['nodes'])}: {v['help']}")
        lines += [
            f"    {n['target'][:140]}: {n['summary'].splitlines()[-1][:160] if n['summary'] else ''}"
            for n in v["nodes"][:examples]
        ]
    return "\n".join(lines)


def counts(violations: list[dict]) -> dict[str, int]:
    """``{"<impact> <rule>": elements}``: what a report table needs."""
    return {f"{v['impact']} {v['id']}": len(v["nodes"]) for v in violations}
