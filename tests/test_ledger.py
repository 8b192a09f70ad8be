"""The statement ledger (book/ledger.md, built by book/_ext/ledger.py): every statement block of
every lesson has a label and a ledger entry with a source, a valid status and test references
that point at code cells."""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import ledger  # noqa: E402

NOTEBOOKS = sorted(p.name for p in LESSONS.glob("*.ipynb"))
# counted independently of the extension's parser: an opening fence of a ledger kind
RAW_BLOCK = re.compile(r"^\s*(?:`{3,}|:{3,})\{prf:(" + "|".join(ledger.KINDS) + r")\}", re.M)


def _cells(name):
    return json.loads((LESSONS / name).read_text(encoding="utf-8"))["cells"]


def _src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_statement_has_a_label_and_a_complete_ledger_entry(name):
    statements = ledger.collect(LESSONS, [name])
    raw = sum(len(RAW_BLOCK.findall(_src(c))) for c in _cells(name) if c["cell_type"] == "markdown")
    assert sum(s.kind != "?" for s in statements) == raw, "the ledger parser missed a block"
    problems = [f"{name}, cell {s.cell_id}: {p}" for s in statements for p in s.problems]
    assert not problems, (
        "statement ledger entries are missing or wrong (format: docs/decisions.md, 'The "
        "statement ledger'):\n  " + "\n  ".join(problems))


def test_labels_are_unique_across_the_course():
    seen = {}
    for st in ledger.collect(LESSONS):
        if st.label and st.kind != "?":
            assert st.label not in seen, f"{st.label} is defined in {seen[st.label]} and {st.notebook}"
            seen[st.label] = st.notebook


def test_the_checker_catches_each_kind_of_bad_entry(tmp_path):
    # a lesson with one good block and one of each mistake: the checker must name every one
    cells = [
        {"cell_type": "code", "id": "c1", "metadata": {}, "source": "x = 1\n", "outputs": [],
         "execution_count": None},
        {"cell_type": "markdown", "id": "m1", "source": "```{prf:theorem} T\n:label: thm-good\nok\n```\n"
         "```{prf:lemma} L\n:label: lem-nosource\n```\n"
         ":::{prf:definition} D\n:label: def-badstatus\n:::\n"
         "```{prf:corollary} C\n:label: cor-badtest\n```\n"
         "```{prf:assumption} A\n```\n"
         "```{prf:assumption} A2\n:label: asm-noevidence\n```\n"
         "```{prf:lemma} L2\n:label: lem-testednocell\n```\n"
         "```{prf:proof}\nnot a statement\n```\n",
         "metadata": {"ledger": {
             "thm-good": {"source": "P (2019), Thm 1", "status": "as printed",
                          "evidence": "tested", "tests": ["c1"]},
             "lem-nosource": {"source": " ", "status": "derived", "evidence": "illustrated",
                              "tests": []},
             "def-badstatus": {"source": "this course", "status": "proved",
                               "evidence": "illustrated", "tests": []},
             "cor-badtest": {"source": "P", "status": "recalled", "evidence": "tested",
                             "tests": ["m1", "zz", "other.ipynb#c1"]},
             "asm-noevidence": {"source": "P", "status": "recalled", "tests": ["c1"]},
             "lem-testednocell": {"source": "P", "status": "recalled",
                                  "evidence": "checked outside its hypotheses", "tests": []},
             "orphan": {"source": "P", "status": "derived", "evidence": "illustrated",
                        "tests": []}}}},
        {"cell_type": "markdown", "id": "m2", "metadata": {},
         "source": "```{prf:proposition} no entry\n:label: prop-noentry\n```\n"},
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "01_x.ipynb").write_text(json.dumps(nb))
    found = {s.label: s.problems for s in ledger.collect(tmp_path)}
    assert found["thm-good"] == []
    assert any("no source" in p for p in found["lem-nosource"])
    assert any("status 'proved'" in p for p in found["def-badstatus"])
    bad = " ".join(found["cor-badtest"])
    assert "not a code cell" in bad and "no cell with id zz" in bad and "no lesson other.ipynb" in bad
    assert any("no :label:" in p for p in found[None])
    assert any("without a prf block" in p for p in found["orphan"])
    assert any("no ledger entry" in p for p in found["prop-noentry"])
    assert any("evidence None is not one of" in p for p in found["asm-noevidence"])
    assert any("names no cell" in p for p in found["lem-testednocell"])
    assert len(found) == 9                       # the proof block is not a statement


def test_a_test_cell_on_a_chapters_checks_page_resolves(tmp_path):
    # a statement of 09_x may name its evidence on lessons/checks/09_x_checks.ipynb
    def nb(cells):
        return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})

    entry = {"source": "P", "status": "derived", "evidence": "tested",
             "tests": ["checks/09_x_checks.ipynb#c9", "checks/09_x_checks.ipynb#m9"]}
    (tmp_path / "09_x.ipynb").write_text(nb([
        {"cell_type": "markdown", "id": "m1", "source": "```{prf:lemma} L\n:label: lem-a\n```\n",
         "metadata": {"ledger": {"lem-a": entry}}}]))
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "09_x_checks.ipynb").write_text(nb([
        {"cell_type": "code", "id": "c9", "metadata": {}, "source": "x = 1", "outputs": [],
         "execution_count": None},
        {"cell_type": "markdown", "id": "m9", "metadata": {}, "source": "text"}]))
    (problems,) = [s.problems for s in ledger.collect(tmp_path)]
    assert len(problems) == 1 and "#m9" in problems[0] and "not a code cell" in problems[0]
    assert [s.notebook for s in ledger.collect(tmp_path)] == ["09_x.ipynb"]   # not a lesson


def test_the_ledger_page_shows_the_three_kinds_of_evidence():
    text = ledger.ledger_markdown(ROOT)
    for kind in ledger.EVIDENCE:
        assert f"**{kind}**" in text, f"no statement of the course is marked {kind!r}"


def test_the_ledger_page_renders_every_statement_of_the_toc():
    text = ledger.ledger_markdown(ROOT)
    labels = {s.label for s in ledger.collect(LESSONS) if s.label and s.kind != "?"}
    for label in labels:
        assert f"{{prf:ref}}`{label}`" in text
    assert (ROOT / "book" / "ledger.md").read_text().count("{statement-ledger}") == 1
    assert "book/ledger" in (ROOT / "_toc.yml").read_text()


def test_the_ledger_page_is_rebuilt_when_a_lesson_changes():
    # the extension's env-get-outdated handler names the pages holding the directive whenever
    # a lesson is added, changed or removed, and nothing otherwise
    handlers = {}

    class App:
        def add_directive(self, name, cls):
            handlers["directive"] = name

        def connect(self, event, fn):
            handlers[event] = fn

        def add_css_file(self, name):
            handlers["css"] = name

    meta = ledger.setup(App())
    assert handlers["directive"] == "statement-ledger" and meta["parallel_read_safe"]

    class Config:                       # the page's stylesheet is shipped as a static file
        html_static_path = []

    config = Config()
    handlers["config-inited"](None, config)
    static = Path(config.html_static_path[0])
    assert (static / handlers["css"]).is_file()

    class Env:
        ledger_docs = {"book/ledger"}

    outdated = handlers["env-get-outdated"]
    assert outdated(None, Env(), set(), {"lessons/03_gram_matrix"}, set()) == ["book/ledger"]
    assert outdated(None, Env(), {"lessons/16_new"}, set(), set()) == ["book/ledger"]
    assert outdated(None, Env(), set(), {"book/intro"}, set()) == []
    env = Env()
    handlers["env-purge-doc"](None, env, "book/ledger")
    assert outdated(None, env, set(), {"lessons/03_gram_matrix"}, set()) == []
