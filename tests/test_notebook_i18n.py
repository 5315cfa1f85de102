"""The chapters in Slovene as notebooks (``scripts/notebook_i18n.py``, ``scripts/notebooks.py translate``).

* Each markdown cell maps to exactly the messages Sphinx's gettext builder extracts from it (slow:
  the templates are extracted afresh, as ``tests/test_translation.py`` does), and a
  translation replaces each of them in place: the pieces of every kind (headings, list items,
  blockquotes, table cells, titles, math, directive bodies) on a cell written for the purpose.
* Every chapter translates into a valid notebook whose code cells are the English ones and whose
  markdown cells keep their structure; every message of a chapter has a translation (this one
  fails while the catalogues lag behind the English text, and lists what is missing).
* A Slovene chapter runs (``notebook`` tier: the autoencoder chapter executed with nbclient from
  the folder it is written to): its check cells print the English chapter's stored outputs, and
  every glued value its Slovene prose names is glued by its code.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import notebook_i18n as i18n
import notebooks as notebooks_script
import pytest

ROOT = Path(__file__).resolve().parents[1]
LANG = "sl"
CHAPTERS = i18n.translate_chapters(ROOT, LANG)  # every chapter of _toc.yml with today's catalogues (a few seconds)

CELL = """\
(sec-x)=
## Step 2: a heading

A paragraph over
two lines with {term}`a term <izraz>`, $x$ and {glue:text}`floor:.1f`.

* an item
  that continues
* another item

1. first
   1. nested
2. second

> quoted text
> that continues

| symbol | meaning |
| --- | --- |
| $x$ | a or \\| b |

$$
a = b .
$$ (eq-label)

% a comment, not a message

```{admonition} Notation
:class: tip

Inside the box.
```

````{exercise} A title
:label: ex-x

Do it.

```python
x = 1  # code, not a message
```
````

````{solution} ex-x
:class: dropdown

The answer.

```{literalinclude} ../thesis_lib/losses.py
:pyobject: gan_value
```
````

```{prf:algorithm} Training
:label: alg-x

1. **for** each step **do**
```

- an item with math:

  ```{math}
  :label: eq-in-list
  c = d
  ```

```{glue:figure} key
:name: fig-x
:alt: What the figure shows.

A caption.
```"""

EXPECTED = [
    ("heading", "Step 2: a heading"),
    ("paragraph", "A paragraph over two lines with {term}`a term <izraz>`, $x$ and {glue:text}`floor:.1f`."),
    ("paragraph", "an item that continues"),
    ("paragraph", "another item"),
    ("paragraph", "first"),
    ("paragraph", "nested"),
    ("paragraph", "second"),
    ("paragraph", "quoted text that continues"),
    ("cell", "symbol"),
    ("cell", "meaning"),
    ("cell", "$x$"),
    ("cell", "a or | b"),
    ("math", "\na = b .\n"),
    ("title", "Notation"),
    ("paragraph", "Inside the box."),
    ("title", "A title"),
    ("paragraph", "Do it."),
    ("paragraph", "The answer."),
    ("title", "(Training)"),
    ("paragraph", "**for** each step **do**"),
    ("paragraph", "an item with math:"),
    ("math", "c = d"),
    ("alt", "What the figure shows."),
    ("paragraph", "A caption."),
]


def test_a_cell_maps_to_the_messages_sphinx_extracts_from_it():
    found = i18n.messages(CELL)
    assert [(m.kind, m.id) for m in found] == EXPECTED
    for m in found:  # each span is the message's own source (block markers and line breaks aside)
        words = " ".join(re.sub(r"\n[ \t>]*", " ", CELL[m.start : m.end]).replace("\\|", "|").split())
        assert words == " ".join(m.id.strip("()").split()), m
    assert not [m for m in found if m.not_in_templates], (
        "Sphinx extracts exercise titles and figure captions (_ext/thesis_labels.py, _ext/thesis_figures.py)"
    )


def test_translating_a_cell_replaces_each_message_in_place():
    catalogue = i18n.Catalogue(
        Path("x.po"),
        {
            "Step 2: a heading": "2. korak: naslov",
            "A paragraph over two lines with {term}`a term <izraz>`, $x$ and {glue:text}`floor:.1f`.": (
                "2. odstavek z {term}`izrazom <izraz>`, $x$ in {glue:text}`floor:.1f`."
            ),
            "an item that continues": "postavka, ki se nadaljuje",
            "nested": "- vgnezdena",
            "a or | b": "a ali | b",
            "\na = b .\n": "\na = b \\text{ (enako)} .\n",
            "(Training)": "(Učenje)",
            "Inside the box.": "V okvirju.",
            "A title": "Naslov",
            "c = d": "c = d\n\\text{vrstica}",
        },
        fuzzy={"The answer."},
    )
    out, report = i18n.translate_markdown(CELL, catalogue)
    assert "## 2. korak: naslov\n" in out  # a heading may start with a number
    assert (
        "\n2\\. odstavek z {term}`izrazom <izraz>`, $x$ in {glue:text}`floor:.1f`.\n" in out
    )  # a paragraph may not: escaped
    assert "* postavka, ki se nadaljuje\n* another item" in out and "   1. \\- vgnezdena\n" in out
    assert "| $x$ | a ali \\| b |" in out
    assert "$$\na = b \\text{ (enako)} .\n$$ (eq-label)" in out
    assert (
        "```{prf:algorithm} Učenje\n:label: alg-x" in out
        and "```{admonition} Notation\n:class: tip\n\nV okvirju." in out
    )
    assert "````{exercise} Naslov\n:label: ex-x\n\nDo it.\n\n```python\nx = 1  # code, not a message\n```" in out
    assert (
        "  ```{math}\n  :label: eq-in-list\n  c = d\n  \\text{vrstica}\n  ```" in out
    )  # the block keeps its indentation
    assert out.startswith("(sec-x)=\n") and "% a comment, not a message" in out and ":pyobject: gan_value" in out
    # the same structure: the translated cell has the same pieces in the same order
    assert [m.kind for m in i18n.messages(out)] == [kind for kind, _ in EXPECTED]
    assert len(report.translated) == 10 and len(report.translated) + len(report.untranslated) == len(EXPECTED)
    assert [m.id for m in report.fuzzy] == ["The answer."] and "The answer." in out
    lines = report.lines("cell", limit=2)
    assert lines[
        0
    ] == f"cell: 10 of {len(EXPECTED)} messages translated; {len(EXPECTED) - 10} left in English (1 fuzzy):" and lines[
        -1
    ].endswith("more")


def test_every_chapter_translates_into_a_valid_notebook_with_the_english_code():
    for name, (translated, report) in CHAPTERS.items():
        english = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
        nbformat.validate(translated)
        assert translated.metadata["thesis_lib"]["language"] == LANG
        assert [c.cell_type for c in translated.cells] == [c.cell_type for c in english.cells]
        total = 0
        for en, sl in zip(english.cells, translated.cells):
            if en.cell_type != "markdown":
                assert sl == en, f"{name}: a code cell changed"
                continue
            before, after = i18n.messages(en.source), i18n.messages(sl.source)
            assert [m.kind for m in after] == [m.kind for m in before], (
                f"{name}: the translation changed the structure of {en.source[:80]!r}"
            )
            total += len(before)
        assert len(report.translated) + len(report.untranslated) == total
        assert len(report.translated) > total / 2, (
            f"{name}: only {len(report.translated)} of {total} messages translated"
        )


def test_every_message_of_the_chapters_has_a_translation():
    """Fails while the catalogues lag behind the English text (see locales/README.md)."""
    problems = [
        line
        for name, (_, report) in CHAPTERS.items()
        if report.untranslated
        for line in report.lines(f"book/{name}.ipynb", limit=5)
    ]
    missing = sum(len(report.untranslated) for _, report in CHAPTERS.values())
    assert not problems, (
        f"{missing} messages of the chapters have no {LANG} translation (python scripts/notebooks.py translate "
        f"--lang {LANG} --check lists them all):\n" + "\n".join(problems)
    )


def test_translate_command_writes_the_chapters_and_checks_the_catalogues(tmp_path, capsys):
    out = tmp_path / "sl"
    assert notebooks_script.cmd_translate([str(out), "book/papers.ipynb", "book/ae.ipynb"], LANG) == 0
    assert sorted(p.name for p in out.iterdir()) == ["ae.ipynb", "papers.ipynb"]
    assert nbformat.read(out / "ae.ipynb", as_version=4) == CHAPTERS["ae"][0]
    printed = capsys.readouterr().out
    assert "messages translated" in printed and f"wrote 2 chapters in {LANG} to {out}" in printed
    with pytest.raises(SystemExit, match="not empty.*--force"):
        notebooks_script.cmd_translate([str(out)], LANG)
    assert notebooks_script.cmd_translate([str(out), "book/papers.ipynb"], LANG, force=True) == 0
    code = notebooks_script.cmd_translate(["book/papers.ipynb"], LANG, check=True)
    assert code == (1 if CHAPTERS["papers"][1].untranslated else 0)
    with pytest.raises(SystemExit, match="'xx'.*sl"):
        notebooks_script.cmd_translate([str(tmp_path / "xx")], "xx")
    with pytest.raises(SystemExit, match="unknown chapter 'nope'"):
        notebooks_script.cmd_translate([str(tmp_path / "nope"), "book/nope.ipynb"], LANG)


@pytest.mark.slow
def test_the_messages_are_those_of_sphinx_templates(tmp_path):
    """The cells' messages are exactly the msgids of Sphinx's own templates (``build_book.py
    gettext``), apart from the text Sphinx does not extract (``NOT_IN_TEMPLATES``)."""
    from babel.messages.pofile import read_po

    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_book.py"), "gettext", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for name in CHAPTERS:
        with open(tmp_path / "book" / f"{name}.pot", "rb") as f:
            template = {m.id for m in read_po(f) if m.id}
        english = nbformat.read(ROOT / "book" / f"{name}.ipynb", as_version=4)
        found = [m for c in english.cells if c.cell_type == "markdown" for m in i18n.messages(c.source)]
        extracted = {m.id for m in found if not m.not_in_templates}
        assert extracted == template, (
            f"{name}: only here {sorted(extracted - template)[:5]}, only in the template "
            f"{sorted(template - extracted)[:5]}"
        )
        assert not {m.id for m in found if m.not_in_templates} & template, (
            f"{name}: Sphinx extracts these now: update NOT_IN_TEMPLATES"
        )


@pytest.mark.notebook
def test_a_slovene_chapter_runs(tmp_path):
    """The autoencoder chapter in Slovene, executed with nbclient in the folder it is written to,
    as a student opens it (its models come from the run cache after the book build), prints what
    the English chapter's stored check outputs say (as nbval compares them), and glues every value
    its Slovene prose names."""
    out = tmp_path / LANG
    assert notebooks_script.cmd_translate([str(out), "book/ae.ipynb"], LANG) == 0
    _, executed = notebooks_script.execute(out / "ae.ipynb")  # raises on a failing cell
    markdown = [c.source for c in executed.cells if c.cell_type == "markdown"]
    assert (
        markdown == [c.source for c in CHAPTERS["ae"][0].cells if c.cell_type == "markdown"]
        and CHAPTERS["ae"][1].translated
    )
    glued = {
        o.metadata["scrapbook"]["name"]
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "scrapbook" in o.get("metadata", {})
    }
    named = {
        re.split(r"[:|]", key)[0] for text in markdown for key in re.findall(r"\{glue(?::\w+)?\}`([^`]+)`", text)
    }  # key:spec|forms
    assert named and named <= glued, f"glued nowhere: {sorted(named - glued)}"
    notebooks_script.tidy(executed)
    english = nbformat.read(ROOT / "book" / "ae.ipynb", as_version=4)
    checks = [
        (e.outputs, s.outputs) for e, s in zip(english.cells, executed.cells) if notebooks_script.is_check_cell(e)
    ]
    assert checks and all(_texts(e) == _texts(s) for e, s in checks), (
        "a check cell prints something else than the English chapter's stored output"
    )


def _texts(outputs) -> list[str]:
    return [o.get("text") or o.get("data", {}).get("text/plain", "") for o in outputs]


def test_the_i18n_extension_refuses_a_myst_nb_it_was_not_written_for():
    """``_ext/thesis_i18n.py`` patches myst-nb's internals: the pinned version is the one it names, and
    another version stops the build with a sentence that points at the file."""
    import re
    import sys

    from sphinx.errors import ExtensionError

    sys.path.insert(0, str(ROOT / "_ext"))
    import thesis_i18n

    pin = re.search(r"^myst-nb==(\S+)", (ROOT / "requirements.txt").read_text(), flags=re.M).group(1)
    assert pin == thesis_i18n.MYST_NB_VERSION
    thesis_i18n.check_myst_nb(pin)
    with pytest.raises(ExtensionError, match=r"replaces internals of myst-nb .* and myst-nb 9.9.9 is installed"):
        thesis_i18n.check_myst_nb("9.9.9")
