"""The built website in a real browser, with no network (run by `make test` after `make book`).

Debian's chromium, driven headless by playwright, opens every page of ``_build/html`` over a
localhost server started here, and fails on: math left untypeset (or a TeX error), a broken
image, a link to a file of the site that does not exist, a widget view that does not render or
renders twice, any console error or uncaught exception, any request that would leave
localhost (it is blocked and reported), missing launch/download buttons on notebook pages, TeX
source left in the text (outside code and typeset math), and an image (figure, widget image,
anything) whose alt text is empty or a file name.
It also checks that search finds something and saves screenshots of the landing page and of
one lesson under ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
NOT_PAGES = {"_static", "_sources", "_images", "_downloads"}


def site_pages() -> list[str]:
    """Every HTML page of the built site, as paths relative to _build/html."""
    if not (HTML / "index.html").exists():
        return []
    # index.html only redirects to the landing page (test_index_redirects_to_landing_page).
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not NOT_PAGES & set(p.relative_to(HTML).parts)
                  and p.relative_to(HTML).as_posix() != "index.html")


PAGES = site_pages()


def is_notebook_page(page: str) -> bool:
    return (HTML / "_sources" / page).with_suffix(".ipynb").exists()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not PAGES:
        pytest.fail("no built website in _build/html: run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (make test-site does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Visit:
    """One page opened in a fresh browser context, with everything that went wrong recorded."""

    def __init__(self, browser, url):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.problems: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"uncaught exception: {exc}"))
        self.page.on("response", self._response)
        self.page.goto(url, wait_until="load")

    def _route(self, route):
        url = route.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob") or parsed.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.problems.append(f"request leaving localhost (blocked): {url}")
            route.abort()

    def _console(self, msg):
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text} ({msg.location.get('url', '')})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status} for {response.url}")

    def close(self):
        self.context.close()


TYPESET = """async () => {
  if (!window.MathJax) { return "none"; }
  for (let i = 0; i < 200 && !(MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise(r => setTimeout(r, 50));
  }
  await MathJax.startup.promise;
  return "done";
}"""

MATH_PROBLEMS = """() => {
  const bad = [];
  document.querySelectorAll("span.math, div.math").forEach(el => {
    if (!el.querySelector("mjx-container")) { bad.push("untypeset: " + el.textContent.slice(0, 60)); }
  });
  document.querySelectorAll("mjx-merror").forEach(el => bad.push("TeX error: " + el.textContent.slice(0, 80)));
  document.querySelectorAll("mjx-container mjx-mtext").forEach(el => {
    const c = getComputedStyle(el).color;
    if (c === "rgb(255, 0, 0)") { bad.push("undefined macro: " + el.textContent.slice(0, 40)); }
  });
  return bad;
}"""

# TeX source left in the rendered text, outside code and typeset math: a `$`, `\(`, `\[` or a
# TeX command (a backslash followed by letters, e.g. \lambda, \frac, \mathrm). Each hit is
# reported with the text around it.
RAW_TEX = """() => {
  const bad = [];
  const article = document.querySelector("article") || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll("pre, code, kbd, samp, mjx-container, script, style, .highlight")
      .forEach(e => e.remove());
  const text = copy.textContent.replace(/\\s+/g, " ");
  const pattern = /\\$|\\\\[()[\\]]|\\\\[A-Za-z]+/g;
  let m;
  while ((m = pattern.exec(text)) !== null && bad.length < 10) {
    const around = text.slice(Math.max(0, m.index - 50), m.index + 50).trim();
    bad.push("raw TeX " + JSON.stringify(m[0]) + " in the text: ..." + around + "...");
  }
  return bad;
}"""

# Every image needs a description: alt text that is not empty and not a file name or path
# (myst-nb's default for a notebook figure), for figures, widget images and the theme's own.
ALT_PROBLEMS = """() => Array.from(document.images).map(img => {
  const alt = (img.getAttribute("alt") || "").trim();
  const src = img.getAttribute("src") || "";
  const name = src.startsWith("data:") ? "" : src.split("/").pop().split("?")[0];
  const fileLike = /^\\S+\\.(png|jpe?g|gif|svg|webp|pdf)$/i.test(alt) || /[\\/]/.test(alt) && !/\\s/.test(alt)
                   || /^[0-9a-f]{32,}/i.test(alt) || (name && alt === name);
  const where = img.closest(".widget-output, .jupyter-widgets-output-area") ? "widget image" : "image";
  if (!alt) { return where + " without alt text: " + (name || src.slice(0, 40)); }
  if (fileLike) { return where + " whose alt text is a file name: " + alt.slice(0, 80); }
  return null;
}).filter(x => x)"""

BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.currentSrc || img.src || img.outerHTML.slice(0, 80))"""

WIDGET_VIEWS = """() => {
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  return views.map(v => {
    const subs = Array.from(v.parentElement.children).filter(c => c.classList.contains("widget-subarea"));
    return {n: subs.length,
            visible: subs.map(s => s.getBoundingClientRect().height > 0 && s.querySelector(".jupyter-widgets, .widget-inline-hbox, .widget-box, .widget-output") !== null)};
  });
}"""


def check_widgets(page) -> list[str]:
    """Each widget view script must get exactly one rendered, visible view."""
    n_views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if n_views == 0:
        return []
    try:
        page.wait_for_function(
            "n => document.querySelectorAll('.widget-subarea').length >= n", arg=n_views,
            timeout=20_000)
    except Exception:  # noqa: BLE001 - reported below with the counts
        pass
    page.wait_for_timeout(1_000)          # a second rendering pass would show up by now
    problems = []
    for k, view in enumerate(page.evaluate(WIDGET_VIEWS)):
        if view["n"] == 0:
            problems.append(f"widget view {k} did not render")
        elif view["n"] > 1:
            problems.append(f"widget view {k} rendered {view['n']} times")
        elif not all(view["visible"]):
            problems.append(f"widget view {k} rendered empty")
    return problems


LINKS = """() => Array.from(document.querySelectorAll("a[href]"), a => a.getAttribute("href"))"""


def broken_links(page: str, p) -> list[str]:
    """Links to files of the site (cross-references, citations, navigation) that do not exist."""
    bad = []
    for href in sorted(set(p.evaluate(LINKS))):
        parsed = urlparse(href)
        if parsed.scheme or parsed.netloc or not parsed.path:   # external, mailto:, #anchor
            continue
        target = (HTML / page).parent / parsed.path
        if target.is_dir():
            target = target / "index.html"
        if not target.resolve().exists():
            bad.append(href)
    return bad


@pytest.mark.parametrize("page", PAGES or ["(no build)"])
def test_page_works_offline(page, server, browser):
    visit = Visit(browser, f"{server}/{page}")
    try:
        p = visit.page
        problems = []
        if p.evaluate(TYPESET) == "done":
            problems += p.evaluate(MATH_PROBLEMS)
        elif p.locator("span.math, div.math").count():
            problems.append("the page has math but MathJax was not loaded")
        problems += check_widgets(p)
        problems += p.evaluate(RAW_TEX)
        p.wait_for_load_state("networkidle", timeout=120_000)   # slow on a loaded machine
        problems += [f"broken image: {src}" for src in p.evaluate(BROKEN_IMAGES)]
        problems += p.evaluate(ALT_PROBLEMS)
        if p.locator("div.highlight pre").count() and not p.locator("button.copybtn").count():
            problems.append("code cells without copy buttons")
        problems += [f"broken link: {href}" for href in broken_links(page, p)]
        if is_notebook_page(page):
            if not p.locator('a[href*="mybinder.org/v2/gh/"]').count():
                problems.append("no Binder launch button")
            if not p.locator('a[href$=".ipynb"]').count():
                problems.append("no notebook download button")
        problems = visit.problems + problems      # what the page logged, then what we found
        assert not problems, f"{page}:\n  " + "\n  ".join(problems)
    finally:
        visit.close()


def test_index_redirects_to_landing_page(server, browser):
    visit = Visit(browser, f"{server}/index.html")
    try:
        visit.page.wait_for_url("**/book/intro.html", timeout=10_000)
        assert not visit.problems, "\n".join(visit.problems)
    finally:
        visit.close()


def test_search_finds_pages(server, browser):
    visit = Visit(browser, f"{server}/search.html?q=gradient")
    try:
        visit.page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        assert visit.page.locator("#search-results ul.search li").count() > 0
        assert not visit.problems, "\n".join(visit.problems)
    finally:
        visit.close()


def _first_lesson() -> str | None:
    lessons = [p for p in PAGES if p.startswith("lessons/")]
    others = [p for p in PAGES if is_notebook_page(p) and p != "book/intro.html"]
    return (lessons or others or [None])[0]


def test_screenshots(server, browser):
    """Screenshots of the landing page and one lesson, to look at after every build."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    targets = [("landing", "book/intro.html"), ("lesson", _first_lesson())]
    for name, page in targets:
        if page is None:
            continue
        visit = Visit(browser, f"{server}/{page}")
        try:
            visit.page.evaluate(TYPESET)
            check_widgets(visit.page)
            visit.page.wait_for_load_state("networkidle", timeout=120_000)
            visit.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        finally:
            visit.close()
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000
