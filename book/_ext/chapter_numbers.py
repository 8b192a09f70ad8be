"""Figures, tables and exercises numbered per chapter ("Fig. 13.2", "Exercise 13.1").

Sphinx numbers every numbered block once through the whole book ("Exercise 41" in chapter 13),
because the table of contents is not numbered (the lesson titles carry their own numbers). This
extension renumbers, after Sphinx's own pass, each page's blocks from 1 in page order, prefixed
by the chapter number of a lesson's file name (``lessons/13b_zou_proof_pieces`` gives "13b.1");
a chapter's checks page (``lessons/checks/09_lazy_vs_active_checks``) numbers its own "C9.1".
Pages that are not lessons number their blocks 1, 2, ... on their own. Cross-references and
sphinx-exercise's "Solution to Exercise ..." titles read the same table, so they agree.
"""

from __future__ import annotations

import re

_LESSON = re.compile(r"^lessons/(?P<checks>checks/)?(?P<chapter>\d+[a-z]?)_")


def chapter_of(docname: str) -> str | None:
    """The chapter label of a lesson's docname ("lessons/12b_x" gives "12b", its checks page
    "lessons/checks/12b_x_checks" gives "C12b"), else None."""
    m = _LESSON.match(docname)
    if not m:
        return None
    return ("C" if m.group("checks") else "") + m.group("chapter").lstrip("0")


def renumber(toc_fignumbers: dict) -> dict:
    """Per-page numbers for ``env.toc_fignumbers`` ({doc: {figtype: {id: tuple}}})."""
    out = {}
    for docname, by_type in toc_fignumbers.items():
        chapter = chapter_of(docname)
        out[docname] = {}
        for figtype, ids in by_type.items():
            ordered = sorted(ids, key=lambda i: tuple(int(x) for x in ids[i]))
            prefix = (chapter,) if chapter else ()
            out[docname][figtype] = {i: prefix + (k,) for k, i in enumerate(ordered, start=1)}
    return out


def setup(app):
    def restore_book_wide(app, env):
        # Sphinx compares its fresh book-wide numbers with the stored ones to decide which pages
        # to rewrite; give it back the book-wide numbers of the last build (not ours), so that an
        # unchanged book rewrites no page.
        if hasattr(env, "book_wide_fignumbers"):
            env.toc_fignumbers = env.book_wide_fignumbers
        return []

    def per_chapter(app, env):
        old = getattr(env, "chapter_fignumbers", {})
        env.book_wide_fignumbers = env.toc_fignumbers
        env.toc_fignumbers = renumber(env.toc_fignumbers)
        env.chapter_fignumbers = env.toc_fignumbers
        return [d for d, nums in env.toc_fignumbers.items() if nums != old.get(d)]

    # around Sphinx's TocTreeCollector (priority 500), which assigns the book-wide numbers
    app.connect("env-get-updated", restore_book_wide, priority=100)
    app.connect("env-get-updated", per_chapter, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
