"""How a lesson teaches, checked mechanically (STYLE.md, "How a lesson teaches"; docs/decisions.md,
"Lessons a student learns from"): the first screen states the result, 3-5 goals, what the chapter
builds on and a reading time; code cells stay short; no printed line is wider than the page; the
prose never says "printed above" (numbers are glued into it, and every glue key is defined and
stored); the sourcing sits in one "Sources and fine print" dropdown; the lesson closes with a
summary of 3-6 takeaways and 2-4 exercises with collapsed solutions; at most 3,000 words of
prose."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
CHECKS = sorted((ROOT / "lessons" / "checks").glob("*.ipynb"))   # the chapters' checks pages
MAX_CODE_LINES = 20
MAX_OUTPUT_WIDTH = 100
MAX_WORDS = 3000
GLUE_USE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`<>:]+)")
GLUE_DEF = re.compile(r"\bglue\(\s*[\"']([^\"']+)[\"']")
GLUE_BLOCK = re.compile(r"(?m)^(?:```|:::)\{glue(?::[a-z]+)?\}\s+([A-Za-z0-9_]+)")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|```\{math\}.*?```|`[^`\n]*`|<!--.*?-->", re.S)


def _src(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _text_outputs(cell):
    for out in cell.get("outputs", []):
        if out.get("metadata", {}).get("scrapbook"):
            continue                                    # a glued value, shown in the prose
        if out.get("output_type") == "stream":
            yield "".join(out.get("text", ""))
        else:
            yield "".join(out.get("data", {}).get("text/plain", ""))


def prose_words(cells) -> int:
    """Words of the markdown cells outside math, code spans, directive options and comments."""
    words = 0
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        text = MATH.sub(" ", _src(cell))
        text = "\n".join(l for l in text.splitlines() if not re.match(r"\s*:[a-z-]+:", l))
        words += len(re.findall(r"[A-Za-z][A-Za-z'-]*", text))
    return words


def mechanics(nb) -> list[str]:
    """The page-level rules every executed page follows, a lesson or its checks page: short code
    cells, no wide printed line, every glue key defined, stored and used, no "printed above"."""
    cells, found = nb["cells"], []
    md = [(k, _src(c)) for k, c in enumerate(cells) if c["cell_type"] == "markdown"]
    for k, c in enumerate(cells):
        if c["cell_type"] == "code":
            n = sum(1 for line in _src(c).splitlines() if line.strip())
            if n > MAX_CODE_LINES:
                found.append(f"code cell {k} has {n} lines (at most {MAX_CODE_LINES})")
            for text in _text_outputs(c):
                wide = [line for line in text.splitlines() if len(line) > MAX_OUTPUT_WIDTH]
                if wide:
                    found.append(f"code cell {k} prints a line of {len(wide[0])} characters")
    defined = {m for c in cells if c["cell_type"] == "code" for m in GLUE_DEF.findall(_src(c))}
    stored = {o["metadata"]["scrapbook"].get("name") for c in cells
              for o in c.get("outputs", []) if o.get("metadata", {}).get("scrapbook")}
    used = set()                       # glue keys the markdown cites, inline or as a block
    for k, text in md:
        inline = False                 # inside a $...$ span that continues over lines
        for line in text.splitlines():
            if inline and re.match(r"\s*(?:[-+*]|\d+\.) ", line):
                found.append(f"markdown cell {k}: a line inside inline math starts with "
                             f"{line.split()[0]!r}, which markdown reads as a list item")
            inline ^= len(re.findall(r"(?<![\\$])\$(?!\$)", line)) % 2 == 1
        if "printed above" in text.lower():
            found.append(f"markdown cell {k} says 'printed above' (glue the number instead)")
        for key in re.findall(r"\{glue:md\}`([^`:]+)`", text):
            found.append(f"markdown cell {k}: {{glue:md}}`{key}` without ':myst' (the site "
                         "would show its LaTeX raw: write {glue:md}`key:myst`)")
        used.update(key.strip() for key in GLUE_BLOCK.findall(text))
        for key in GLUE_USE.findall(text):
            used.add(key.strip())
            if key not in defined or key not in stored:
                found.append(f"markdown cell {k} uses glue key {key!r}, which no cell "
                             + ("stores (re-execute the lesson)" if key in defined else "defines"))
    for key in sorted(defined - used):
        found.append(f"glue key {key!r} is defined but no markdown cell uses it (drop the glue)")
    for c in cells:
        for o in c.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            plain = "".join(next((v for k, v in o.get("data", {}).items()
                                  if k.endswith("text/plain")), ""))
            if name and plain.startswith(("np.", "array(")):
                found.append(f"glue key {name!r} stores {plain[:30]!r}: glue a plain float, "
                             "int or str (the book cannot format it)")
    return found


def problems(nb) -> list[str]:
    """Every way a lesson departs from the layout, as sentences."""
    cells, found = nb["cells"], mechanics(nb)
    md = [(k, _src(c)) for k, c in enumerate(cells) if c["cell_type"] == "markdown"]
    first = md[0][1] if md else ""
    goals = re.search(r"(?im)^.*goals?.*$\n((?:\s*[-*] .*\n?)+)", first)
    if not goals or not 3 <= len(re.findall(r"(?m)^\s*[-*] ", goals.group(1))) <= 5:
        found.append("the first cell has no list of 3-5 learning goals under a 'goals' line")
    for needed in ("Builds on", "Reading time"):
        if needed not in first:
            found.append(f"the first cell does not say '{needed}'")
    fine = [k for k, t in md if "Sources and fine print" in t and "dropdown" in t]
    if len(fine) != 1:
        found.append(f"{len(fine)} 'Sources and fine print' dropdowns (one expected)")
    summary = [k for k, t in md if re.search(r"(?m)^##+ Summary", t)]
    exercises = [k for k, t in md if re.search(r"(?m)^##+ Exercises", t)]
    if not summary or not exercises or summary[-1] > exercises[-1]:
        found.append("no '## Summary' heading followed by an '## Exercises' heading")
    else:
        takeaways = len(re.findall(r"(?m)^\s*(?:[-*]|\d+\.) ", cells[summary[-1]]["source"]
                                   if isinstance(cells[summary[-1]]["source"], str)
                                   else "".join(cells[summary[-1]]["source"])))
        if not 3 <= takeaways <= 6:
            found.append(f"the summary has {takeaways} takeaways (3-6)")
        tail = [(k, t) for k, t in md if k >= exercises[-1]]
        n_ex = sum(len(re.findall(r"\{exercise\}", t)) for _, t in tail)
        n_sol = sum(len(re.findall(r"\{solution(?:-start)?\}[^\n]*\n(?::label:[^\n]*\n)?"
                                   r":class: dropdown", t)) for _, t in tail)
        if not 2 <= n_ex <= 4 or n_sol != n_ex:
            found.append(f"{n_ex} exercises with {n_sol} collapsed solutions after the exercises "
                         "heading (2-4, each with a {solution} of :class: dropdown)")
        inside = False                 # code after the summary only inside a gated solution
        for k in range(summary[-1], len(cells)):
            t = _src(cells[k])
            if cells[k]["cell_type"] == "markdown":
                if "{solution-start}" in t:
                    inside = True
                if "{solution-end}" in t:
                    inside = False
            elif not inside:
                found.append(f"code cell {k} comes after the summary, outside a solution")
    starts = sum(_src(c).count("{solution-start}") for c in cells if c["cell_type"] == "markdown")
    ends = sum(_src(c).count("{solution-end}") for c in cells if c["cell_type"] == "markdown")
    if starts != ends:             # sphinx-exercise stops the book build on an unclosed one
        found.append(f"{starts} solution-start directives but {ends} solution-end")
    words = prose_words(cells)
    if words > MAX_WORDS:
        found.append(f"{words} words of prose (at most {MAX_WORDS}: split the chapter)")
    return found


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_lesson_follows_the_layout_of_a_lesson(path):
    found = problems(json.loads(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name}:\n  " + "\n  ".join(found)


def test_the_checker_finds_each_departure():
    """A lesson with every fault is reported for each; its repaired copy passes."""
    def md(text):
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    def code(text, out=""):
        return {"cell_type": "code", "metadata": {}, "source": text, "execution_count": 1,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": out}]}

    good = [md("# 1. T\n\nThe result.\n\nLearning goals:\n- a\n- b\n- c\n\nBuilds on: ch. 0. "
               "Reading time: 30 minutes.\n"),
            code("from myst_nb import glue\nglue('lam', 0.5, display=False)\n"),
            md("The value is {glue:text}`lam:.2f`.\n"),
            md(":::{dropdown} Sources and fine print\nx\n:::\n"),
            md("## Summary\n- one\n- two\n- three\n"),
            md("## Exercises\n```{exercise}\n:label: e1\nQ\n```\n```{solution} e1\n"
               ":class: dropdown\nA\n```\n```{exercise}\n:label: e2\nQ\n```\n"
               "```{solution} e2\n:class: dropdown\nA\n```\n")]
    good[1]["outputs"] = [{"output_type": "display_data", "data": {"text/plain": "0.5"},
                           "metadata": {"scrapbook": {"name": "lam"}}}]
    assert problems({"cells": good}) == []
    bad = [md("# 1. T\nNo goals.\n"), code("x = 1\n" * 21, "y" * 101 + "\n"),
           md("As printed above, {glue:text}`nope` is {glue}`lam`.\n"),
           md("## Summary\n- one\n"), code("z = 2\n"), md("## Exercises\n"),
           md("so $a\n+ b$ breaks\n"), md("raw {glue:md}`lam` here\n"),
           md("```{solution-start} e9\n:class: dropdown\n```\n"),
           {"cell_type": "code", "metadata": {}, "source": "glue('k', x)", "execution_count": 1,
            "outputs": [{"output_type": "display_data", "data": {"text/plain": "np.float64(2.0)"},
                         "metadata": {"scrapbook": {"name": "k"}}}]}]
    found = " | ".join(problems({"cells": bad}))
    for phrase in ("learning goals", "Builds on", "Reading time", "21 lines", "101 characters",
                   "printed above", "'nope'", "'lam'", "fine print", "1 takeaways",
                   "0 exercises", "after the summary", "list item", "without ':myst'",
                   "np.float64", "solution-end", "'k' is defined but"):
        assert phrase in found, phrase
    base = prose_words(good)
    long = good[:-2] + [md("word " * (MAX_WORDS + 1 - base))] + good[-2:]
    assert f"{MAX_WORDS + 1} words" in " | ".join(problems({"cells": long}))
    assert problems({"cells": good[:-2] + [md("word " * (MAX_WORDS - base))] + good[-2:]}) == []
