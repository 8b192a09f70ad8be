"""An instructor's JupyterHub address in `launch_buttons.jupyterhub_url` (book/teaching.md)
gives every notebook page an nbgitpuller link to that hub, and the build stays free of
warnings; the course's own _config.yml leaves it empty. Checked on a one-page book with the
course's theme settings (the full book takes minutes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
HUB = "https://hub.example.edu"


def test_course_config_leaves_the_hub_empty():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["launch_buttons"]["jupyterhub_url"] == ""
    assert config["launch_buttons"]["binderhub_url"]


def test_hub_address_gives_nbgitpuller_links(tmp_path):
    course = yaml.safe_load((ROOT / "_config.yml").read_text())
    book = tmp_path / "book"
    (book / "lessons").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A lesson\n\nText."),
                nbformat.v4.new_code_cell("1 + 1")]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                  "language": "python"},
                   "language_info": {"name": "python"}}
    nbformat.write(nb, book / "lessons" / "01_lesson.ipynb")
    (book / "intro.md").write_text("# Intro\n\nThe book.\n")
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                   "  - file: lessons/01_lesson\n")
    config = {"title": "t", "execute": {"execute_notebooks": "off"},
              "repository": course["repository"],
              "html": {"use_repository_button": True},
              "launch_buttons": {**course["launch_buttons"], "jupyterhub_url": HUB}}
    (book / "_config.yml").write_text(yaml.safe_dump(config))
    proc = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build",
                           str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    html = (book / "_build" / "html" / "lessons" / "01_lesson.html").read_text()
    links = [part.split('"')[0] for part in html.split('href="')[1:]
             if part.startswith(f"{HUB}/hub/user-redirect/git-pull")]
    assert links, "no JupyterHub launch link"
    query = parse_qs(urlparse(links[0].replace("&amp;", "&")).query)
    repo = course["repository"]["url"]
    assert query["repo"] == [repo] and query["branch"] == [course["repository"]["branch"]]
    assert query["urlpath"] == [f"lab/tree/{repo.rstrip('/').split('/')[-1]}/lessons/01_lesson.ipynb"]
    assert "mybinder.org/v2/gh/" in html           # Binder stays
