"""`make book` in any order, any number of times (a copy of the repository, the real Makefile).

An incremental Sphinx build in which no page changed writes no page and copies no static
file; the site must still be complete after it, and a changed vendored file (book/_vendor)
must still reach _build/html/_static. Each step below is one `make book` in a temporary copy
of the repository, using this checkout's .venv (not reinstalled: its stamp is marked old).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
SKIP = {".venv", "_build", ".git", "__pycache__", ".ruff_cache", ".pytest_cache",
        ".ipynb_checkpoints"}
# Files every complete build has, besides each page's own references (checked below).
REQUIRED = ["_static/mathjax/tex-mml-chtml.js", "_static/widgets/embed-amd.js",
            "_static/widgets/require.js", "_static/widgets/widgets-base.js",
            "_static/styles/sphinx-book-theme.css", "book/intro.html", "index.html"]
LOCAL_REF = re.compile(r'(?:src|href)="((?:\.\./)*_static/[^"?#]+)')

pytestmark = pytest.mark.slow


def make_book(repo: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["OMP_NUM_THREADS"] = "1"
    cmd = ["make", "-C", str(repo), "book", f"VENV={VENV}", "-o", str(VENV / ".installed-stamp")]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    log = run.stdout + run.stderr
    assert run.returncode == 0, f"`make book` failed ({run.returncode}):\n{log[-4000:]}"
    return log


def missing_files(html: Path) -> list[str]:
    """Required files, and every _static file a page links to, that are not in the site."""
    missing = [f for f in REQUIRED if not (html / f).is_file()]
    if not list((html / "_static").glob("mystnb.*.css")):
        missing.append("_static/mystnb.*.css")
    for page in html.rglob("*.html"):
        if {"_static", "_sources"} & set(page.relative_to(html).parts):
            continue
        for ref in set(LOCAL_REF.findall(page.read_text(encoding="utf-8"))):
            if not (page.parent / ref).resolve().is_file():
                missing.append(f"{ref} (linked from {page.relative_to(html)})")
    return missing


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    if not (VENV / ".installed-stamp").exists():
        pytest.fail("no .venv: run `make install` first")
    dest = tmp_path_factory.mktemp("book") / "repo"
    shutil.copytree(ROOT, dest, ignore=lambda d, names: [n for n in names if n in SKIP])
    return dest


def test_make_book_twice_then_after_changes(repo):
    html = repo / "_build" / "html"
    make_book(repo)
    assert not missing_files(html), missing_files(html)

    # 1. Again, nothing changed: Sphinx writes nothing, and the site stays complete.
    log = make_book(repo)
    assert "no targets are out of date" in log, "expected an incremental build with no page to write"
    assert not missing_files(html), missing_files(html)

    # 2. A vendored file changed, still no page changed: the new version is served.
    vendored = repo / "book" / "_vendor" / "widgets" / "widgets-base.js"
    vendored.write_text(vendored.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    make_book(repo)
    assert (html / "_static/widgets/widgets-base.js").read_text(encoding="utf-8") == \
        vendored.read_text(encoding="utf-8")
    assert not missing_files(html), missing_files(html)

    # 3. _static removed by hand (or by an older Makefile): the next build restores the site.
    shutil.rmtree(html / "_static")
    make_book(repo)
    assert not missing_files(html), missing_files(html)
