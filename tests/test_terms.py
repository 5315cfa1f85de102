"""The Slovene edition's terminology and numbers, checked in its catalogues (a unit test: reads files only).

* The term base ``locales/sl/terms.yaml`` (English term, the Slovene term, forbidden variants; the
  thesis's own terms win) is well formed, and no forbidden variant appears in a translation:
  every ``.po`` of ``locales/sl`` and the glued words of ``locales/sl/glued_values.json``. A
  message whose English quotes the variant (an erratum quoting the draft) may repeat it.
* The glossary's Slovene terms (``book/glossary.md``, the English source) are terms of the term
  base, and none is a forbidden variant.
* Numbers in sentences (``locales/README.md``): a noun after a glued whole number agrees with it
  through ``{glue:plural}``, and no "z"/"s" stands before a glued number (which of the two depends
  on how the number is read aloud).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

babel_pofile = pytest.importorskip("babel.messages.pofile")

ROOT = Path(__file__).resolve().parents[1]
SL = ROOT / "locales" / "sl"
TERMS = yaml.safe_load((SL / "terms.yaml").read_text(encoding="utf-8"))
GLOSSARY = ROOT / "book" / "glossary.md"
# the catalogue's forbidden variants that the language pass (issue 20, part 4) still has to replace
LEFT_FOR_THE_LANGUAGE_PASS: dict[str, str] = {}
# the glossary's entries that book/glossary.md (the English source, which the lead edits) must change
GLOSSARY_TO_CHANGE: dict[str, str] = {}

WORD = r"[\wčšžćđČŠŽĆĐ-]*"
# what a translation's text is without its machinery: math, code, role targets and glue keys
MACHINERY = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`(?=[^`]|$)|<[^<>`]+>`|\{[\w:-]+\}", re.S)


def prose(msgstr: str) -> str:
    """The words a reader sees: math, inline code, role targets, glue keys and role names left out."""
    text = re.sub(
        r"\{[\w:-]+\}`([^`<]*)(?:<[^`>]*>)?`",
        lambda m: m.group(1) if not m.group(0).startswith("{glue") else " ",
        msgstr,
    )
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", " ", text, flags=re.S)
    return re.sub(r"``?[^`]*``?", " ", text)


def variant_pattern(variant: str) -> re.Pattern:
    """A forbidden variant: its words are word beginnings, consecutive ("zlom način" matches "zloma načinov")."""
    words = [re.escape(w) for w in variant.split()]
    return re.compile(r"(?<![\wčšžČŠŽ])" + r"\s+".join(w + WORD for w in words), re.I)


def messages() -> list[tuple[str, str, str]]:
    """(where, English, Slovene) of every translation in locales/sl."""
    found = []
    for po in sorted((SL / "LC_MESSAGES").rglob("*.po")):
        with open(po, "rb") as f:
            for m in babel_pofile.read_po(f):
                if m.id and m.string and isinstance(m.id, str):
                    found.append((po.relative_to(SL).as_posix(), m.id, m.string))
    glued = json.loads((SL / "glued_values.json").read_text(encoding="utf-8"))
    found += [("glued_values.json", en, sl) for en, sl in glued.get("values", {}).items()]
    return found


MESSAGES = messages()


def offending(term: dict) -> list[str]:
    when = re.compile(term["when"], re.I) if term.get("when") else None
    hits = []
    for where, en, sl in MESSAGES:
        if when is not None and not when.search(en):
            continue
        for variant in term.get("forbidden", []):
            pattern = variant_pattern(variant)
            if pattern.search(en):  # the English quotes the variant (the draft's spelling)
                continue
            for m in pattern.finditer(prose(sl)):
                hits.append(f"{where}: {m.group(0)!r} in {sl[:90]!r}")
    return hits


def test_term_base_is_well_formed():
    seen = set()
    for term in TERMS:
        assert set(term) <= {"en", "sl", "forbidden", "when", "aliases", "source"} and {"en", "sl", "source"} <= set(
            term
        ), term
        assert term["en"] not in seen, f"{term['en']!r} twice"
        seen.add(term["en"])
        assert term["source"].split()[0] in {"thesis", "glossary", "review", "edition"}, term
        for variant in term.get("forbidden", []):
            assert not variant_pattern(variant).fullmatch(term["sl"]), (
                f"{term['en']}: the term {term['sl']!r} is its own forbidden variant"
            )
        if term.get("when"):
            re.compile(term["when"])


def test_variant_patterns_match_inflected_forms_only_at_word_starts():
    assert variant_pattern("zlom način").search("ni zloma načinov")
    assert variant_pattern("nenasičljiv").search("z nenasičljivo izgubo")
    assert not variant_pattern("živ").search("preživi")  # inside a word: not the variant
    assert variant_pattern("plast").search("s plastjo")  # a word beginning, whatever ending follows
    assert prose("{term}`minibatcha <minibatch>` in $z$ `code`").split() == ["minibatcha", "in"]


@pytest.mark.parametrize("term", TERMS, ids=[t["en"] for t in TERMS])
def test_no_forbidden_variant_in_the_catalogue(term, request):
    if term["en"] in LEFT_FOR_THE_LANGUAGE_PASS:
        request.applymarker(pytest.mark.xfail(strict=True, reason=LEFT_FOR_THE_LANGUAGE_PASS[term["en"]]))
    hits = offending(term)
    assert not hits, f"{term['en']} is {term['sl']!r}; {len(hits)} forbidden variants:\n" + "\n".join(hits[:30])


def glossary_terms() -> list[str]:
    block = re.search(r"```\{glossary\}\n(.*?)\n```", GLOSSARY.read_text(encoding="utf-8"), re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith((" ", "\t"))]


@pytest.mark.parametrize("slovene", glossary_terms())
def test_glossary_term_is_in_the_term_base(slovene, request):
    if slovene in GLOSSARY_TO_CHANGE:
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"book/glossary.md: {GLOSSARY_TO_CHANGE[slovene]}"))
    known = {t["sl"] for t in TERMS} | {a for t in TERMS for a in t.get("aliases", [])}
    assert slovene in known, f"the glossary's {slovene!r} is not a term of locales/sl/terms.yaml"
    for term in TERMS:
        for variant in term.get("forbidden", []):
            assert slovene in term.get("aliases", []) or not variant_pattern(variant).search(slovene), (
                f"the glossary's {slovene!r} is a forbidden variant of {term['sl']!r}"
            )


# ----------------------------------------------------------------------------- numbers in sentences
GLUE = re.compile(r"\{glue:text\}`([^`:]+)(?::([^`]*))?`")
# words after a number that do not depend on it (conjunctions, prepositions, verbs that agree anyway)
NOT_A_NOUN = {
    "in",
    "ali",
    "ter",
    "od",
    "do",
    "na",
    "pri",
    "za",
    "v",
    "z",
    "s",
    "po",
    "pa",
    "je",
    "so",
    "kot",
    "proti",
    "oziroma",
    "iz",
    "krat",
    "namesto",
}


def whole_number(spec: str | None) -> bool:
    """A glue printed as a whole number (the noun after it depends on it): ``d``, ``.0f``, ``,``, or no spec."""
    return spec in (None, "", "d", ",", ",d", ".0f", ",.0f")


def test_a_noun_after_a_glued_whole_number_agrees_with_it():
    """ "4 epoh" and "225 nata" (review §3): after a whole number the noun's form depends on the number, so
    a translation writes ``{glue:plural}`key:spec|ena|dve|tri|pet``` (locales/README.md), not a fixed form."""
    found = []
    for where, en, sl in MESSAGES:
        for m in GLUE.finditer(sl):
            after = re.match(r"\s+([a-zčšžćđ]+)", sl[m.end() :])
            if whole_number(m.group(2)) and after and after.group(1) not in NOT_A_NOUN:
                found.append(f"{where}: {m.group(0)} {after.group(1)!r}: {sl[max(0, m.start() - 40) : m.end() + 30]!r}")
    assert not found, f"{len(found)} nouns after a glued whole number:\n" + "\n".join(found)


def test_no_z_or_s_before_a_glued_number():
    """ "z 4 epohami" should be "s 4" (štirimi): z/s follows the number's spoken form, which a glued
    value does not fix. Rephrase ("v 4 epohah", "pri 4 epohah") so no z/s stands before it."""
    found = [
        f"{where}: {sl[max(0, m.start() - 30) : m.end() + 40]!r}"
        for where, en, sl in MESSAGES
        for m in re.finditer(r"(?<![\wčšž])[zsZS]\s+\{glue:(?:text|plural)\}", sl)
    ]
    assert not found, f"{len(found)} z/s before a glued number:\n" + "\n".join(found)
