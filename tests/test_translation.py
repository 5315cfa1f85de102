"""The Slovene edition is complete: every message of the current English sources has a translation.

The message templates are extracted afresh from the sources (``scripts/build_book.py gettext``:
Sphinx's gettext builder, execution off, about 15 s), so a new or changed English sentence
without a translation in ``locales/sl/LC_MESSAGES/`` fails here, as does a fuzzy (unreviewed)
entry. A translation must also keep the sentence's machinery: the same glued values, citations,
cross-references and inline math as the English (``{glue:text}`key`` works in a translation
because ``_ext/thesis_i18n.py`` looks the value up in the page's notebook).
See ``locales/README.md`` for the workflow after editing the English text.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a Sphinx gettext build of every page (about 10 s)

babel_pofile = pytest.importorskip("babel.messages.pofile")

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "locales" / "sl" / "LC_MESSAGES"
# what a translation must carry over unchanged: glued values, citations, references to equations,
# and inline math
KEPT = re.compile(r"\{(?:glue(?::\w+)?|cite(?::\w+)?|eq)\}`[^`]*`|(?<!\$)\$[^$\n]+\$(?!\$)")
# {doc}/{ref}/{numref}/{term}/{prf:ref}: the link text is translated (an exercise or algorithm reference may
# become {numref}`vaje %s <label>` or {prf:ref}`algoritma %s <label>`), the target must stay
TARGET = re.compile(r"\{(?:doc|ref|numref|term|prf:ref)\}`(?:[^`<]*<)?([^`>]+)>?`")
# the glued numbers a sentence prints, whichever role prints them ({glue:plural}`key:spec|forms` prints
# {glue:text}`key:spec` and a noun; {glue:word} prints only a word: locales/README.md)
GLUED_NUMBER = re.compile(r"\{glue(?::any|:text|:plural)?:?\}`([^`|]*)(?:\|[^`]*)?`")


def kept(text: str) -> list[str]:
    """The machinery of ``text`` that a translation must keep, each glued number as ``{glue}key:spec``."""
    found = [f"{{glue}}{m.group(1).strip()}" for m in GLUED_NUMBER.finditer(text)]
    rest = GLUED_NUMBER.sub(" ", re.sub(r"\{glue:word\}`[^`]*`", " ", text))
    return found + KEPT.findall(rest)


def _read(path: Path):
    with open(path, "rb") as f:
        return babel_pofile.read_po(f)


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("gettext")
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_book.py"), "gettext", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    pots = {p.relative_to(out).with_suffix("").as_posix(): _read(p) for p in out.rglob("*.pot")}
    assert pots, "the gettext build wrote no templates"
    return pots


def test_every_message_is_translated(templates):
    problems = []
    for page, pot in sorted(templates.items()):
        po_path = CATALOGUES / f"{page}.po"
        if not po_path.exists():
            problems.append(f"{po_path.relative_to(ROOT)} missing (run: sphinx-intl update -p _build/gettext -l sl)")
            continue
        po = _read(po_path)
        for msg in pot:
            if not msg.id:
                continue
            tr = po.get(msg.id, context=msg.context)
            if tr is None or not tr.string:
                problems.append(f"{page}: untranslated: {msg.id[:100]!r}")
            elif tr.fuzzy:
                problems.append(f"{page}: fuzzy: {msg.id[:100]!r}")
    assert not problems, f"{len(problems)} messages lack a translation:\n" + "\n".join(problems[:40])


def test_translations_keep_glue_citations_math_and_targets():
    problems = []
    for po_path in sorted(CATALOGUES.rglob("*.po")):
        for msg in _read(po_path):
            if not msg.id or not msg.string:
                continue
            for find in (kept, TARGET.findall):
                want, got = Counter(find(msg.id)), Counter(find(msg.string))
                missing = sorted((want - got).elements())
                # a translation may repeat a formula the English leaves implicit, but no glue or citation
                extra = sorted(e for e in (got - want).elements() if find is not kept or e.startswith("{"))
                if missing or extra:
                    problems.append(f"{po_path.name}: {msg.id[:80]!r}: missing {missing}, extra {extra}")
    assert not problems, "\n".join(problems[:40])


def test_catalogues_have_no_stale_files(templates):
    """A page removed from the TOC leaves no catalogue behind (``labels.po``, the extensions' own words,
    is no page's)."""
    stale = [
        p
        for p in CATALOGUES.rglob("*.po")
        if p.relative_to(CATALOGUES).with_suffix("").as_posix() not in templates and p.name != "labels.po"
    ]
    assert not stale, stale
