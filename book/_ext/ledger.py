"""The statement ledger: a Sphinx directive that lists every theorem, lemma, corollary,
proposition, assumption, definition and conjecture of the lessons, read at build time.

The data live where the statements are: each markdown cell that holds a ``{prf:...}`` block has
a ``"ledger"`` entry in its metadata, keyed by the block's ``:label:``::

    "ledger": {"thm-ch03-lambda0": {"source": "Du et al. (2019), Theorem 3.1",
                                   "status": "as printed", "evidence": "tested",
                                   "tests": ["739bbaf4"]}}

``status`` is "as printed" (matches the paper's text), "derived" (proved or derived in the
course) or "recalled" (not checked against the paper's text). ``evidence`` says what the
experiments can do: "tested" (an experiment inside the statement's hypotheses that could have
failed), "checked outside its hypotheses" (it could have failed, but a failure would not
contradict the paper: widths or step sizes the statement does not cover) or "illustrated" (no
experiment could contradict it). ``tests`` lists the code cells of that evidence ("cellid" in
the same lesson, "04_gradient_flow.ipynb#cellid" in another,
"checks/09_lazy_vs_active_checks.ipynb#cellid" on a chapter's checks page); it may be empty only for
"illustrated". ``collect`` gathers the entries (``tests/test_ledger.py``
checks them); the ``statement-ledger`` directive renders them as a table per part, and the page
holding it is rebuilt whenever a lesson changes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("theorem", "lemma", "corollary", "proposition", "assumption", "definition",
         "conjecture")
STATUSES = ("as printed", "derived", "recalled")
EVIDENCE = ("tested", "checked outside its hypotheses", "illustrated")
_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{prf:(?P<kind>[a-z]+)\}[ \t]*(?P<title>.*)$")
_OPTION = re.compile(r"^:(?P<key>[a-z-]+):[ \t]*(?P<value>.*)$")


@dataclass
class Statement:
    """One prf block of a lesson and its ledger entry (``entry`` is None when it has none)."""

    notebook: str            # file name, e.g. "03_gram_matrix.ipynb"
    cell_id: str
    kind: str
    title: str
    label: str | None
    entry: dict | None
    problems: list[str] = field(default_factory=list)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def statement_blocks(markdown: str):
    """(kind, title, label or None) of every ledger kind of prf block in a markdown text."""
    lines = markdown.splitlines()
    for k, line in enumerate(lines):
        m = _FENCE.match(line.strip())
        if not m or m["kind"] not in KINDS:
            continue
        label = None
        for opt in lines[k + 1:]:
            o = _OPTION.match(opt.strip())
            if not o:
                break
            if o["key"] == "label":
                label = o["value"].strip() or None
        yield m["kind"], m["title"].strip(), label


def load_notebook(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _first_line(cell) -> str:
    for line in _source(cell).splitlines():
        if line.strip():
            return line.strip()
    return ""


def resolve_test(ref: str, notebook: str, folder: Path, cache: dict):
    """The code cell a test reference points to, or an error string."""
    name, _, cell_id = ref.rpartition("#")
    name = name or notebook
    if not cell_id:
        return None, f"empty test reference {ref!r}"
    path = folder / name
    if name not in cache:
        cache[name] = load_notebook(path) if path.is_file() else None
    nb = cache[name]
    if nb is None:
        return None, f"test {ref!r}: no lesson {name}"
    for cell in nb["cells"]:
        if cell.get("id") == cell_id:
            if cell.get("cell_type") != "code":
                return None, f"test {ref!r} is a {cell.get('cell_type')} cell, not a code cell"
            return (name, cell), None
    return None, f"test {ref!r}: no cell with id {cell_id} in {name}"


def collect(folder: Path, names=None) -> list[Statement]:
    """Every ledger statement of the lessons in ``folder`` (all ``*.ipynb``, or ``names`` in
    that order), each with the problems found in its entry."""
    folder = Path(folder)
    names = names or sorted(p.name for p in folder.glob("*.ipynb"))
    cache: dict = {}
    out = []
    for name in names:
        nb = load_notebook(folder / name)
        cache[name] = nb
        for cell in nb["cells"]:
            if cell.get("cell_type") != "markdown":
                continue
            ledger = cell.get("metadata", {}).get("ledger") or {}
            blocks = list(statement_blocks(_source(cell)))
            labels = {b[2] for b in blocks}
            for kind, title, label in blocks:
                entry = ledger.get(label) if label else None
                st = Statement(name, cell.get("id", "?"), kind, title, label, entry)
                if not label:
                    st.problems.append(f"a {{prf:{kind}}} block has no :label:")
                elif entry is None:
                    st.problems.append(f"{label}: no ledger entry in its cell's metadata")
                else:
                    if not str(entry.get("source", "")).strip():
                        st.problems.append(f"{label}: no source")
                    if entry.get("status") not in STATUSES:
                        st.problems.append(f"{label}: status {entry.get('status')!r} is not one "
                                           f"of {STATUSES}")
                    evidence = entry.get("evidence")
                    if evidence not in EVIDENCE:
                        st.problems.append(f"{label}: evidence {evidence!r} is not one of "
                                           f"{EVIDENCE}")
                    tests = entry.get("tests")
                    if not isinstance(tests, list):
                        st.problems.append(f"{label}: tests must be a list of cell ids")
                    elif not tests and evidence in EVIDENCE[:2]:
                        st.problems.append(f"{label}: evidence {evidence!r} names no cell")
                    else:
                        for ref in tests:
                            _, err = resolve_test(str(ref), name, folder, cache)
                            if err:
                                st.problems.append(f"{label}: {err}")
                out.append(st)
            for extra in sorted(set(ledger) - labels):
                st = Statement(name, cell.get("id", "?"), "?", "", extra, ledger[extra])
                st.problems.append(f"{extra}: ledger entry without a prf block of that label "
                                   "in the same cell")
                out.append(st)
    return out


def toc_parts(srcdir: Path):
    """[(part caption, [lesson file names])] in the order of ``_toc.yml``; lessons not in it
    come last under "Other lessons"."""
    import yaml

    folder = srcdir / "lessons"
    parts, seen = [], set()
    toc = srcdir / "_toc.yml"
    if toc.is_file():
        data = yaml.safe_load(toc.read_text(encoding="utf-8")) or {}
        for part in data.get("parts", []):
            files = [c["file"] for c in part.get("chapters", []) if "file" in c]
            names = [Path(f).name + ".ipynb" for f in files
                     if f.startswith("lessons/") and (folder / (Path(f).name + ".ipynb")).is_file()]
            if names:
                parts.append((part.get("caption", ""), names))
                seen.update(names)
    rest = sorted(p.name for p in folder.glob("*.ipynb") if p.name not in seen)
    if rest:
        parts.append(("Other lessons", rest))
    return parts


# --- Sphinx -----------------------------------------------------------------------------------
def _inline_code(text: str, limit: int = 40) -> str:
    text = text.replace("`", "'")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"``{text}``" if text else "(empty cell)"


def ledger_markdown(srcdir: Path) -> str:
    """The MyST text of the ledger: one list-table per part of the book."""
    folder = srcdir / "lessons"
    cache: dict = {}
    out = []
    for caption, names in toc_parts(srcdir):
        rows = collect(folder, names)
        if not rows:
            continue
        out += [f"```{{list-table}} {caption}", ":header-rows: 1", ":class: ledger-table",
                ":widths: 15 20 6 22 12 25", "",
                "* - Statement", "  - Title", "  - Ch.", "  - Source",
                "  - Status", "  - Evidence"]
        for st in rows:
            doc = "/lessons/" + st.notebook[: -len(".ipynb")]
            chapter = st.notebook.split("_")[0].lstrip("0") or "0"
            entry = st.entry or {}
            label = f"{{prf:ref}}`{st.label}`" if st.label and st.kind != "?" else \
                f"{st.label or '(no label)'}"
            tests = []
            for ref in entry.get("tests") or []:
                hit, err = resolve_test(str(ref), st.notebook, folder, cache)
                if err:
                    tests.append(f"**broken reference** {_inline_code(str(ref))}")
                else:
                    name, cell = hit
                    where = "/lessons/" + name[: -len(".ipynb")]
                    ch = Path(name).name.split("_")[0].lstrip("0")
                    page = f"checks of ch. {ch}" if name.startswith("checks/") else f"ch. {ch}"
                    tests.append(f"{{doc}}`{page} <{where}>`: {_inline_code(_first_line(cell))}")
            evidence = entry.get("evidence") or "**missing**"
            tests = [f"**{evidence}**" + (" by " if tests else "")] + ["; ".join(tests)]
            title = st.title.replace("\n", " ") or "(untitled)"
            out += [f"* - {label}", f"  - {title}",
                    f"  - {{doc}}`{chapter} <{doc}>`",
                    f"  - {entry.get('source') or '**missing**'}",
                    f"  - {entry.get('status') or '**missing**'}",
                    f"  - {''.join(tests)}"]
        out += ["```", ""]
    return "\n".join(out)


def setup(app):
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective

    class StatementLedger(SphinxDirective):
        """``{statement-ledger}``: the table of every statement of the lessons."""

        has_content = False

        def run(self):
            srcdir = Path(self.env.srcdir)
            for nb in sorted((srcdir / "lessons").glob("*.ipynb")):
                self.env.note_dependency(str(nb))
            docs = getattr(self.env, "ledger_docs", set())
            docs.add(self.env.docname)
            self.env.ledger_docs = docs
            container = nodes.container(classes=["statement-ledger"])
            text = ledger_markdown(srcdir)
            self.state.nested_parse(StringList(text.splitlines(), source="ledger"),
                                    self.content_offset, container)
            return container.children

    def outdated(app, env, added, changed, removed):
        lessons = {d for d in added | changed | removed if d.startswith("lessons/")}
        if lessons:
            return sorted(getattr(env, "ledger_docs", set()))
        return []

    def purge(app, env, docname):
        getattr(env, "ledger_docs", set()).discard(docname)

    def merge(app, env, docnames, other):
        env.ledger_docs = getattr(env, "ledger_docs", set()) | (
            getattr(other, "ledger_docs", set()) & set(docnames))

    def add_static(app, config):                   # book/_ext/static/ledger.css
        config.html_static_path.append(str(Path(__file__).parent / "static"))

    app.add_directive("statement-ledger", StatementLedger)
    app.connect("config-inited", add_static)
    app.add_css_file("ledger.css")
    app.connect("env-get-outdated", outdated)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 2}
