"""The chapter notebooks in another language, from the book's gettext catalogues (never hand-copied).

    python scripts/notebooks.py translate --lang sl OUT      # every chapter of _toc.yml -> OUT/<chapter>.ipynb
    python scripts/notebooks.py translate --lang sl --check  # writes nothing; fails if a message has no translation

The Slovene pages are built by Sphinx from ``locales/sl/LC_MESSAGES/book/<page>.po``, whose
msgids are the English paragraphs, headings, list items, table cells, titles and math blocks as
Sphinx's gettext builder extracts them from the MyST source. A translated notebook is a copy of
the chapter in which each of those pieces of a markdown cell is replaced by its translation, in
place, so everything around it (directives and their options, labels, code fences, targets,
comments) stays as it is; code cells are not touched, so the notebook runs exactly like the
English one.

How a markdown cell is mapped back to its messages (:func:`messages`): the cell is tokenised by
myst-parser's own markdown-it parser with the book's MyST extensions (``_config.yml``), and
every piece is turned into the msgid Sphinx gives it: a paragraph, heading, list item, table cell
or definition term is its inline source with line breaks as spaces; a ``$$`` or ``{math}`` block
is its source as it is; a directive's argument is a title (sphinx-proof's as ``(title)``) and its
body is parsed again, except for the directives without prose (``literalinclude``, code, a
``{solution}``'s label, a glued figure's key); a figure's ``:alt:`` option is a message of its
own (``_ext/thesis_figures.py`` extracts the captions and alternative texts of glued figures, and
``_ext/thesis_labels.py`` the exercise titles). ``tests/test_notebook_i18n.py`` holds this
against the templates that Sphinx itself extracts.

Roles and math stay inside the translated sentences as the catalogue has them (a glue role is
rendered from the notebook's own outputs, in the language of the code: numbers keep their
decimal point). A message without a translation (missing, empty or fuzzy) keeps its English and
is reported; the catalogues are revised continuously, so nothing here assumes they are complete.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

# directives whose argument is not prose, and whose body is not MyST prose either
NO_PROSE = {
    "literalinclude",
    "code",
    "code-block",
    "sourcecode",
    "code-cell",
    "raw",
    "include",
    "eval-rst",
    "image",
    "glue",
    "glue:any",
    "glue:text",
    "glue:math",
    "bibliography",
    "toctree",
    "tableofcontents",
    "solution-end",
    "exercise-end",
}
LABEL_ARGUMENT = {
    "solution",
    "solution-start",
    "glue:figure",
    "figure",
}  # the argument is a label, key or path; the body is prose
ARGUMENT_IS_BODY = {
    "note",
    "tip",
    "warning",
    "important",
    "hint",
    "caution",
    "attention",
    "danger",
    "error",
    "seealso",
}  # docutils admonitions without a title
NOT_IN_TEMPLATES: dict[str, str] = {}  # directives whose text Sphinx does not extract (none today: see the docstring)
ALT_OPTION = {"glue:figure", "figure", "image"}  # directives whose :alt: option is a message
_ALT = re.compile(r"^:alt:[ \t]+(?P<text>\S.*?)[ \t]*$")
_FENCE_ARG = re.compile(r"\{(?P<name>[^}\s]+)\}\s*(?P<arg>.*)$")
_OPTION = re.compile(r"^:[\w-]+:(\s.*)?$")


@dataclass(frozen=True)
class Message:
    """One translatable piece of a markdown cell."""

    id: str  # the msgid, as Sphinx's gettext builder writes it
    kind: str  # paragraph (also list items, blockquotes), heading, cell, term, math, title
    start: int  # the span of the cell's source that the translation replaces
    end: int
    alternatives: tuple[str, ...] = ()  # further msgids of the same text (a title without sphinx-proof's parentheses)
    not_in_templates: str = ""  # why Sphinx does not extract it today ("" when it does)


# ----------------------------------------------------------------------------- markdown -> messages
@functools.cache
def _md():
    """myst-parser's markdown-it parser, with the book's MyST extensions (as myst-nb parses the cells)."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=set(myst_extensions())), RendererHTML)


def myst_extensions(book: str | Path | None = None) -> list[str]:
    """The MyST extensions the book enables (``_config.yml``'s ``parse.myst_enable_extensions``)."""
    import yaml

    config = Path(book) if book else Path(__file__).resolve().parents[1]
    data = yaml.safe_load((config / "_config.yml").read_text(encoding="utf-8"))
    return list((data.get("parse") or {}).get("myst_enable_extensions") or [])


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    starts.append(len(text) + 1)
    return starts


def _pattern(content: str, cell: bool) -> re.Pattern:
    """``content`` (an inline token's text: block markers and indentation removed) as it appears in
    the source: any run of white space may hold a line break, indentation and blockquote markers."""
    parts = []
    for word in content.split():
        piece = re.escape(word)
        if cell:  # markdown-it unescapes \| inside table cells
            piece = piece.replace(r"\|", r"\\?\|")
        parts.append(piece)
    return re.compile(r"(?:[^\S\n]*\n[ \t>]*|[^\S\n]+)".join(parts))  # any space but a line break: a no-break space too


def _math_pattern(content: str) -> re.Pattern:
    """A math block's source: as it is, except for the indentation of a block inside a list."""
    return re.compile(r"\n[ \t]*".join(re.escape(line) for line in content.split("\n")))


class _Walker:
    """Collects the messages of one cell, in source order (a cursor keeps equal texts apart)."""

    def __init__(self, source: str):
        self.source = source
        self.starts = _line_starts(source)
        self.cursor = 0
        self.found: list[Message] = []

    def region(self, first: int, last: int) -> tuple[int, int]:
        last = max(last, first + 1)
        return self.starts[min(first, len(self.starts) - 1)], min(
            self.starts[min(last, len(self.starts) - 1)], len(self.source)
        )

    def add(self, msgid: str, kind: str, text: str | re.Pattern, lines: tuple[int, int], **extra) -> None:
        begin, stop = self.region(*lines)
        begin = max(begin, self.cursor)
        if isinstance(text, str):
            pos = self.source.find(text, begin, stop)
            span = (pos, pos + len(text)) if pos >= 0 else None
        else:
            m = text.search(self.source, begin, stop)
            span = m.span() if m else None
        if span is None:
            raise ValueError(f"cannot find the {kind} {msgid[:60]!r} in lines {lines[0] + 1}-{lines[1]} of the cell")
        self.cursor = span[1]
        self.found.append(Message(msgid, kind, span[0], span[1], **extra))

    def walk(self, text: str, offset: int) -> None:
        """The messages of ``text``, whose line 0 is line ``offset`` of the cell."""
        tokens = _md().parse(text)
        kinds = {
            "paragraph_open": "paragraph",
            "heading_open": "heading",
            "th_open": "cell",
            "td_open": "cell",
            "dt_open": "term",
        }
        for i, tok in enumerate(tokens):
            lines = (offset + tok.map[0], offset + tok.map[1]) if tok.map else (offset, offset + text.count("\n") + 1)
            if tok.type == "inline":
                content = tok.content
                msgid = content.replace("\n", " ").strip()
                if msgid:
                    kind = kinds.get(tokens[i - 1].type, "paragraph")
                    self.add(msgid, kind, _pattern(content, kind == "cell"), lines)
            elif tok.type in ("math_block", "math_block_label", "amsmath"):
                if tok.content.strip():
                    self.add(tok.content, "math", _math_pattern(tok.content), lines)
            elif tok.type in ("fence", "colon_fence"):
                m = _FENCE_ARG.match(tok.info.strip())
                if m:  # a directive (a plain code fence has no prose)
                    self.directive(m["name"], m["arg"].strip(), tok.content, lines)

    def directive(self, name: str, arg: str, content: str, lines: tuple[int, int]) -> None:
        if name in NO_PROSE:
            return
        fence_line = (lines[0], lines[0] + 1)
        if name == "math":
            body, skip = _options(content)
            math = "\n".join(body).rstrip("\n")
            if math.strip():
                self.add(math, "math", _math_pattern(math), (lines[0] + 1 + skip, lines[1]))
            return
        if arg and name not in LABEL_ARGUMENT:
            why = NOT_IN_TEMPLATES.get(name, "")
            if name in ARGUMENT_IS_BODY:
                self.add(arg, "paragraph", _pattern(arg, False), fence_line)
            elif name.startswith("prf:"):  # sphinx-proof writes the title in parentheses
                self.add(f"({arg})", "title", arg, fence_line, alternatives=(arg,))
            else:
                self.add(arg, "title", arg, fence_line, not_in_templates=why)
        body, skip = _options(content)
        if name in ALT_OPTION:
            for k, line in enumerate(content.split("\n")[:skip]):
                if m := _ALT.match(line):
                    row = lines[0] + 1 + k
                    self.add(m["text"], "alt", m["text"], (row, row + 1))
        start = len(self.found)
        self.walk("\n".join(body), lines[0] + 1 + skip)
        if name in NOT_IN_TEMPLATES and name in LABEL_ARGUMENT:  # the body is what Sphinx misses
            self.found[start:] = [
                Message(m.id, m.kind, m.start, m.end, m.alternatives, NOT_IN_TEMPLATES[name])
                for m in self.found[start:]
            ]


def _options(content: str) -> tuple[list[str], int]:
    """A directive's body lines without its options (``:key: value`` lines or a ``---`` YAML
    block), and how many lines those took."""
    lines = content.split("\n")
    if lines and lines[0].strip() == "---":
        end = next((k for k in range(1, len(lines)) if lines[k].strip() == "---"), None)
        if end is not None:
            return lines[end + 1 :], end + 1
    k = 0
    while k < len(lines) and _OPTION.match(lines[k]):
        k += 1
    return lines[k:], k


def messages(markdown: str) -> list[Message]:
    """The translatable pieces of one markdown cell, in source order, with their spans."""
    walker = _Walker(markdown)
    walker.walk(markdown, 0)
    return walker.found


# ----------------------------------------------------------------------------- catalogues
@dataclass
class Catalogue:
    """One page's translations: msgid -> msgstr (empty and fuzzy entries left out, as Sphinx does)."""

    path: Path
    translations: dict[str, str] = field(default_factory=dict)
    fuzzy: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, path: str | Path) -> "Catalogue":
        from babel.messages.pofile import read_po

        path = Path(path)
        found = cls(path)
        if path.is_file():
            with open(path, "rb") as f:
                for msg in read_po(f):
                    if not msg.id or not msg.string:
                        continue
                    if msg.fuzzy:
                        found.fuzzy.add(msg.id)
                    else:
                        found.translations[msg.id] = msg.string
        return found

    def lookup(self, message: Message) -> str | None:
        """The translation of ``message``, or None."""
        for k, msgid in enumerate((message.id, *message.alternatives)):
            if msgid in self.translations:
                text = self.translations[msgid]
                if (
                    k == 0
                    and message.kind == "title"
                    and message.alternatives
                    and text.startswith("(")
                    and text.endswith(")")
                ):
                    text = text[1:-1]  # sphinx-proof's parentheses are not part of the title
                return text
        return None


def languages(book: str | Path) -> list[str]:
    """The languages the book has catalogues for (``locales/<lang>/LC_MESSAGES``)."""
    return sorted(p.parent.name for p in (Path(book) / "locales").glob("*/LC_MESSAGES") if p.is_dir())


def catalogue(book: str | Path, lang: str, docname: str) -> Catalogue:
    """The catalogue of page ``docname`` (``book/ae``) in ``lang``; a one-line ValueError for a language without
    catalogues."""
    available = languages(book)
    if lang not in available:
        raise ValueError(
            (
                f"no catalogues for language {lang!r} in {Path(book) / 'locales'}; the book has: "
                f"{', '.join(available) or 'none'}"
            )
        )
    return Catalogue.read(Path(book) / "locales" / lang / "LC_MESSAGES" / f"{docname}.po")


# ----------------------------------------------------------------------------- translating
def _safe(text: str, kind: str, original: str, before: str) -> str:
    """``text`` so that it stays the same kind of block where it stands (``original``: the source
    it replaces, ``before``: what precedes it on its line): a math block keeps the indentation of
    its lines, a paragraph that would start a list or a heading ("2. korak: ...") gets its marker
    escaped, a table cell its pipes."""
    if kind == "math":
        indent = re.search(r"\n([ \t]*)", original) or re.fullmatch(r"([ \t]*)", before)
        return text.replace("\n", "\n" + indent.group(1)) if indent else text
    text = " ".join(text.split("\n"))
    if kind == "cell":
        return re.sub(r"(?<!\\)\|", r"\\|", text)
    if kind == "paragraph":
        return (
            re.sub(r"^(\d{1,9})([.)])(?=\s|$)", r"\1\\\2", re.sub(r"^([-+*#>=])", r"\\\1", text))
            if _starts_a_block(text)
            else text
        )
    return text


def _starts_a_block(text: str) -> bool:
    tokens = _md().parse(text)
    return not (len(tokens) == 3 and tokens[0].type == "paragraph_open")


@dataclass
class Report:
    """What a translation found: messages translated and messages left in English."""

    translated: list[Message] = field(default_factory=list)
    untranslated: list[Message] = field(default_factory=list)
    fuzzy: list[Message] = field(default_factory=list)  # a subset of untranslated: the catalogue's entry awaits review

    def extend(self, other: "Report") -> None:
        self.translated += other.translated
        self.untranslated += other.untranslated
        self.fuzzy += other.fuzzy

    def lines(self, name: str, limit: int | None = 10) -> list[str]:
        total = len(self.translated) + len(self.untranslated)
        head = f"{name}: {len(self.translated)} of {total} messages translated"
        if not self.untranslated:
            return [head]
        fuzzy = {id(m) for m in self.fuzzy}
        out = [head + f"; {len(self.untranslated)} left in English ({len(self.fuzzy)} fuzzy):"]
        for m in self.untranslated[:limit]:  # limit None: all
            note = " (fuzzy)" if id(m) in fuzzy else f" ({m.not_in_templates})" if m.not_in_templates else ""
            out.append(f"  {m.kind}: {m.id.strip()[:100]!r}{note}")
        if limit is not None and len(self.untranslated) > limit:
            out.append(f"  ... and {len(self.untranslated) - limit} more")
        return out


def translate_markdown(source: str, catalogue: Catalogue) -> tuple[str, Report]:
    """``source`` with every message that ``catalogue`` translates replaced by its translation."""
    report = Report()
    pieces, last = [], 0
    for m in messages(source):
        text = catalogue.lookup(m)
        if text is None:
            report.untranslated.append(m)
            if m.id in catalogue.fuzzy:
                report.fuzzy.append(m)
            continue
        report.translated.append(m)
        original, before = source[m.start : m.end], source[source.rfind("\n", 0, m.start) + 1 : m.start]
        pieces += [source[last : m.start], original if text == m.id else _safe(text, m.kind, original, before)]
        last = m.end
    return "".join([*pieces, source[last:]]), report


def translate_notebook(nb, catalogue: Catalogue, lang: str):
    """``(translated copy of nb, Report)``: markdown cells translated, code cells as they are."""
    out = copy.deepcopy(nb)
    report = Report()
    for index, cell in enumerate(out.cells):
        if cell.cell_type != "markdown":
            continue
        try:
            cell.source, found = translate_markdown(cell.source, catalogue)
        except ValueError as e:
            raise ValueError(f"{catalogue.path.stem} cell {index}: {e}") from None
        report.extend(found)
    out.metadata.setdefault("thesis_lib", {})["language"] = lang
    return out, report


def translate_chapters(
    book: str | Path, lang: str, chapters: list[str] | None = None
) -> dict[str, tuple[object, Report]]:
    """``{chapter: (translated notebook, Report)}`` for the chapter notebooks of ``_toc.yml`` (or ``chapters`` of
    them)."""
    import nbformat

    from book_tools.toc import toc_notebooks

    available = toc_notebooks(book)
    chosen = list(dict.fromkeys(chapters)) if chapters else list(available)
    unknown = [c for c in chosen if c not in available]
    if unknown:
        raise ValueError(f"unknown chapter {unknown[0]!r}; the chapters are: {', '.join(available)}")
    out = {}
    for name in chosen:
        path = available[name]
        docname = path.relative_to(Path(book)).with_suffix("").as_posix()
        out[name] = translate_notebook(nbformat.read(path, as_version=4), catalogue(book, lang, docname), lang)
    return out
