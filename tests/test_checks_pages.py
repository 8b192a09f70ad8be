"""A chapter's checks page (lessons/checks/NN_name_checks.ipynb; docs/decisions.md, "A teaching page
and a checks page"): it holds the audits of a chapter (every predicted slope per seed, the misses
and their explanations, the bookkeeping) so that the chapter itself stays a lesson read in one
sitting. Each checks page names its chapter in its title, links back to it and says its reading
time; its chapter links to it; it sits under its chapter in the table of contents; it follows the
page-level rules of a lesson (short cells, no wide printed line, glue keys defined and used, no
"printed above"); it states no theorem boxes (those live in the chapter, with their ledger
entries); it stays short."""

import json
import re
from pathlib import Path

import pytest
import yaml
from test_lesson_style import CHECKS, _src, mechanics, prose_words

ROOT = Path(__file__).resolve().parents[1]
MAX_WORDS = 2000
NAME = re.compile(r"^(?P<lesson>(?P<chapter>\d+[a-z]?)_\w+?)_checks\.ipynb$")


def problems(nb, name: str, lesson_nb) -> list[str]:
    """Every way a checks page (file name ``name``) or its chapter departs from the rules."""
    m = NAME.match(name)
    if not m:
        return [f"{name}: a checks page is named <lesson file stem>_checks.ipynb"]
    if lesson_nb is None:
        return [f"{name}: no lesson lessons/{m['lesson']}.ipynb for this checks page"]
    found = list(mechanics(nb))
    cells = nb["cells"]
    md = [_src(c) for c in cells if c["cell_type"] == "markdown"]
    first = md[0] if md else ""
    chapter = m["chapter"].lstrip("0")
    if not re.match(rf"# Checks for chapter {chapter}: \S", first):
        found.append(f"the first cell's title is not '# Checks for chapter {chapter}: ...'")
    if not re.search(rf"\{{doc\}}`[^`]*\.\./{m['lesson']}>?`", first):
        found.append(f"the first cell does not link back with {{doc}} to ../{m['lesson']}")
    if "Reading time" not in first:
        found.append("the first cell does not say 'Reading time'")
    if any("{prf:" in t for t in md):
        found.append("a {prf:...} statement box (statements live in the chapter, with the ledger)")
    lesson_md = "".join(_src(c) for c in lesson_nb["cells"] if c["cell_type"] == "markdown")
    if not re.search(rf"\{{doc\}}`[^`]*checks/{m['lesson']}_checks>?`", lesson_md):
        found.append(f"lessons/{m['lesson']}.ipynb has no {{doc}} link to its checks page")
    words = prose_words(cells)
    if words > MAX_WORDS:
        found.append(f"{words} words of prose (at most {MAX_WORDS})")
    return found


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


@pytest.mark.parametrize("path", CHECKS, ids=[p.name for p in CHECKS])
def test_checks_page_follows_the_rules(path):
    m = NAME.match(path.name)
    lesson = _load(ROOT / "lessons" / f"{m['lesson']}.ipynb") if m else None
    found = problems(_load(path), path.name, lesson)
    assert not found, f"{path.name}:\n  " + "\n  ".join(found)


def test_each_checks_page_sits_under_its_chapter_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    under = {}
    for part in toc["parts"]:
        for ch in part["chapters"]:
            for sec in ch.get("sections", []):
                under[sec["file"]] = ch["file"]
    for path in CHECKS:
        m = NAME.match(path.name)
        page = f"lessons/checks/{path.stem}"
        assert under.get(page) == f"lessons/{m['lesson']}", (
            f"_toc.yml must list {page} in the 'sections' of lessons/{m['lesson']}")
    for page in under:
        if page.startswith("lessons/checks/"):
            assert (ROOT / f"{page}.ipynb").is_file(), f"_toc.yml lists {page}, which is missing"


def test_the_checker_finds_each_departure():
    """A checks page with every fault is reported for each; its repaired copy passes."""
    def md(text):
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    lesson = {"cells": [md("See {doc}`the checks <checks/09_lazy_checks>`.\n")]}
    good = {"cells": [md("# Checks for chapter 9: Lazy\n\nAfter {doc}`chapter 9 <../09_lazy>`."
                         "\n\nReading time: about 20 minutes.\n"), md("A check.\n")]}
    assert problems(good, "09_lazy_checks.ipynb", lesson) == []
    assert "named" in problems(good, "lazy_checks.ipynb", lesson)[0]
    assert "no lesson" in problems(good, "09_lazy_checks.ipynb", None)[0]
    bad = {"cells": [md("# Checks for chapter 8: Lazy\n"), md("```{prf:lemma} L\n```\n"),
                     md("word " * (MAX_WORDS + 1) + "as printed above\n")]}
    found = " | ".join(problems(bad, "09_lazy_checks.ipynb", {"cells": [md("no link")]}))
    for phrase in ("chapter 9", "link back", "Reading time", "prf", "no {doc} link",
                   "printed above", "words of prose"):
        assert phrase in found, phrase
