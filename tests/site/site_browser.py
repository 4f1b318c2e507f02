"""Open every page of the built book in headless Chromium, offline, and list what a reader would see wrong.

Used by tests/site/test_browser.py (`make site`, part of `make test`) and, for a few pages by hand:

    python tests/site/site_browser.py                                  # every page of _toc.yml
    python tests/site/site_browser.py notebooks/07_speech book/preface  # some pages
    python tests/site/site_browser.py --out /tmp/shots --html _build/html notebooks/08_vision

The site is served from a local HTTP server; every other request is blocked and
recorded. Each page is loaded at 1280x900, MathJax typesetting is awaited, and
the page is checked for (kind: what):

    load          the page did not load (or its checks did not finish)
    console       a console error or uncaught page error from the book's own assets
    network       a request that left the local server (the book must work offline)
    raw-tex       TeX delimiters (\\( \\[ $$ \\begin{) left in the visible text outside code
    broken-image  an <img> that did not load (naturalWidth 0)
    no-caption    a figure (an <img> in a figure or a cell output) with no caption and no meaningful alt
    audio-label   an <audio> player with no label (aria-label, title, caption or text next to it)
    wide          a table or code block (pre) wider than the content column, or scrolling sideways
    output        a traceback or a warning printed in a cell output

A full-page screenshot of every page is saved (default _build/screenshots/).
Chromium is the system one ($CHROMIUM, /usr/bin/chromium, or chromium on PATH);
Playwright's own browser downloads are never used.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import http.server
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("MMSA_SITE_HTML", ROOT / "_build" / "html"))  # another build: MMSA_SITE_HTML=dir
SHOTS = ROOT / "_build" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
#: The class book/_ext/figure_alt.py gives an image whose alt only says where it is.
ALT_FROM_POSITION = "alt-from-position"


def toc_pages(root: Path = ROOT) -> list[str]:
    """Every page of _toc.yml, root first, as paths without suffix (``notebooks/07_speech``)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]


def find_chromium() -> str | None:
    """The system Chromium: $CHROMIUM, /usr/bin/chromium, or chromium / chromium-browser on PATH."""
    candidates = [os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    return None


@dataclasses.dataclass(frozen=True)
class Problem:
    page: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: [{self.kind}] {self.detail}"


def report(problems: list[Problem], pages: list[str]) -> str:
    """Problems grouped by page, in the order of the pages, then a count per kind."""
    lines = []
    for page in pages:
        mine = [p for p in problems if p.page == page]
        if mine:
            lines.append(f"{page}  ({len(mine)} problem{'s' * (len(mine) != 1)})")
            lines += [f"    [{p.kind}] {p.detail}" for p in mine]
    kinds: dict[str, int] = {}
    for p in problems:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    bad = len({p.page for p in problems})
    lines.append(f"{len(problems)} problems on {bad} of {len(pages)} pages"
                 + (": " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) if kinds else ""))
    return "\n".join(lines)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output readable
        pass


@dataclasses.dataclass
class LocalSite:
    """The built site on 127.0.0.1 at a free port, in a thread."""
    directory: Path

    def __enter__(self) -> "LocalSite":
        handler = functools.partial(_Quiet, directory=str(self.directory))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# Runs in the page after load: waits for MathJax, fonts and images, then measures.
# Only the book's content column (article.bd-article) is measured: the theme's
# navigation and sidebars are not the book's content.
PAGE_CHECKS = r"""
async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + 20000;
  // MathJax is loaded with `defer` only on pages with math; wait for its first typesetting
  if (document.querySelector('script[src*="mathjax"]')) {
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise) && Date.now() < deadline) await sleep(25);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  }
  await document.fonts.ready;
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener('load', r, {once: true}); i.addEventListener('error', r, {once: true});
    setTimeout(r, Math.max(0, deadline - Date.now()));
  })));

  const out = [];
  const add = (kind, detail) => out.push({kind, detail});
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  // the content column: the article's box less its padding, where the text runs
  const box = article.getBoundingClientRect(), pad = getComputedStyle(article);
  const column = {left: box.left + parseFloat(pad.paddingLeft), right: box.right - parseFloat(pad.paddingRight)};
  column.width = column.right - column.left;
  const visible = e => e.checkVisibility ? e.checkVisibility({visibilityProperty: true, opacityProperty: false})
                                         : !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const clip = (s, n = 70) => { s = (s || '').replace(/\s+/g, ' ').trim(); return s.length > n ? s.slice(0, n - 1) + '…' : s; };
  const meaningful = s => { s = (s || '').replace(/\s+/g, ' ').trim();
    return s.length >= 8 && /[a-z]/i.test(s) && !/^[\w./\\-]*\.(png|jpe?g|gif|svg|webp|pdf)$/i.test(s)
           && !/^[0-9a-f]{16,}$/i.test(s.replace(/\.\w+$/, '').split('/').pop()); };
  // where an element is: the nearest heading above it, and its cell number when it is a cell's
  const where = e => {
    let h = null, n = e;
    const heads = [...article.querySelectorAll('h1, h2, h3, h4')];
    for (const x of heads) if (x.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING) h = x;
    const cells = [...article.querySelectorAll('div.cell')];
    const cell = e.closest('div.cell');
    const sec = h ? `section "${clip(h.textContent.replace(/[#¶]/g, ''), 50)}"` : 'top of page';
    return cell ? `${sec}, code cell ${cells.indexOf(cell) + 1} of ${cells.length}` : sec;
  };

  // raw TeX in the visible text, outside code and rendered math
  const skip = 'pre, code, kbd, samp, script, style, textarea, mjx-container, .MathJax, .highlight, .math';
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const tex = /\\\(|\\\[|\$\$|\\begin\{/;
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    if (!el || el.closest(skip) || !visible(el)) continue;
    const m = t.textContent.match(tex);
    if (m) { const i = t.textContent.indexOf(m[0]);
      add('raw-tex', `${where(el)}: "${clip(t.textContent.slice(Math.max(0, i - 30), i + 40))}"`); }
  }

  // images: loaded, and each figure described
  for (const img of article.querySelectorAll('img')) {
    const src = img.getAttribute('src') || '';
    const name = src && !src.startsWith('data:') ? clip(src.split('/').pop(), 40)
                 : (img.id ? 'img#' + clip(img.id, 30) : 'an inline img');
    if (img.complete && img.naturalWidth === 0 && src !== '')
      add('broken-image', `${where(img)}: ${name} did not load`);
    const holder = img.closest('figure, .cell_output, .output');
    if (!holder) continue;
    const figure = img.closest('figure');
    const cap = figure && figure.querySelector('figcaption');
    const capText = cap ? (cap.querySelector('.caption-text') || cap).textContent : '';
    const alt = img.classList.contains('%(fallback)s') ? '' : img.getAttribute('alt');
    if (!meaningful(capText) && !meaningful(alt))
      add('no-caption', `${where(img)}: image ${name} has no caption and ` +
          (img.classList.contains('%(fallback)s') ? `only a positional alt ("${clip(img.getAttribute('alt'), 60)}")`
                                                : `alt ${JSON.stringify(img.getAttribute('alt'))}`));
  }

  // audio players: a label of their own, a caption, or text next to them
  const textOf = n => n ? (n.nodeType === Node.TEXT_NODE ? n.textContent
                           : (n.matches && n.matches('audio, script, style') ? '' : n.innerText || '')) : '';
  const sibling = (n, dir) => { let s = n[dir];
    while (s && (s.nodeType === Node.COMMENT_NODE || (s.nodeType === Node.TEXT_NODE && !s.textContent.trim()))) s = s[dir];
    return s; };
  const audios = [...article.querySelectorAll('audio')];
  audios.forEach((a, k) => {
    const own = ['aria-label', 'title'].map(x => a.getAttribute(x)).find(v => v && v.trim());
    const by = a.getAttribute('aria-labelledby');
    const byText = by && by.split(/\s+/).map(id => document.getElementById(id)).filter(Boolean).map(e => e.textContent).join(' ');
    const fig = a.closest('figure'), cap = fig && fig.querySelector('figcaption');
    let near = '';
    // text right before or after the player, at its level or, while it is alone, at its parents' level
    for (let n = a, depth = 0; n && n !== article && depth < 4 && !near.trim(); n = n.parentElement, depth++) {
      const before = sibling(n, 'previousSibling'), after = sibling(n, 'nextSibling');
      near = [before, after].filter(s => s && !(s.matches && (s.matches('audio') || s.querySelector('audio'))))
                            .map(textOf).join(' ');
      if (before || after) break;          // not alone: only its own siblings count
    }
    if (!(own || (byText && byText.trim()) || a.closest('label') || (cap && cap.textContent.trim()) || near.trim().length >= 3))
      add('audio-label', `${where(a)}: audio player ${k + 1} of ${audios.length} has no label (no aria-label, caption or text next to it)`);
  });

  // tables and code blocks that do not fit the content column
  for (const e of article.querySelectorAll('table, pre')) {
    if (!visible(e) || e.closest('mjx-container')) continue;
    const r = e.getBoundingClientRect();
    const wider = r.width > column.width + 1 || r.right > column.right + 1;
    const scrolls = e.scrollWidth > e.clientWidth + 1;
    if (!wider && !scrolls) continue;
    const what = e.tagName === 'TABLE'
      ? `table (${e.rows.length} rows, header "${clip(e.rows[0] && e.rows[0].innerText, 50)}")`
      : `code block "${clip(e.innerText.split('\n').reduce((a, b) => b.length > a.length ? b : a, ''), 60)}"`;
    const width = Math.max(Math.round(r.width), e.scrollWidth);
    add('wide', `${where(e)}: ${what} is ${width}px wide, the column ${Math.round(column.width)}px` +
        (scrolls ? ` (scrolls sideways: ${e.scrollWidth}px in ${e.clientWidth}px)` : ''));
  }

  // tracebacks and warnings printed by a cell
  for (const o of article.querySelectorAll('.cell_output .output')) {
    const text = o.textContent || '';
    const m = o.matches('.stderr, .traceback, .error') ? (text.trim() ? 'stderr output' : '')
            : /Traceback \(most recent call last\)/.test(text) ? 'Traceback'
            : (text.match(/\b[A-Z]\w*Warning:|\bWarning:/) || [''])[0];
    if (m) add('output', `${where(o)}: ${m}: "${clip(text, 90)}"`);
  }
  const seen = new Set();
  return out.filter(p => { const k = p.kind + p.detail; if (seen.has(k)) return false; seen.add(k); return true; });
}
""".replace("%(fallback)s", ALT_FROM_POSITION)


def check_pages(pages: list[str], html: Path = HTML, shots: Path | None = SHOTS,
                chromium: str | None = None, log=print) -> tuple[list[Problem], dict]:
    """Load each page (``notebooks/07_speech``) of the site at ``html``; return its problems and timings."""
    from playwright.sync_api import sync_playwright  # imported here: the module must load without it

    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium: install Debian's `chromium` or set $CHROMIUM")
    if shots is not None:
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir(parents=True)
    problems: list[Problem] = []
    stats = {"pages": 0, "seconds": 0.0, "blocked": []}
    start = time.monotonic()
    with LocalSite(html) as site, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            "--hide-scrollbars", "--mute-audio"])
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, service_workers="block")
        current = {"page": ""}

        def route(r) -> None:
            url = r.request.url
            if url.startswith(site.base):
                r.continue_()
            else:
                stats["blocked"].append((current["page"], url))
                problems.append(Problem(current["page"], "network", f"blocked request to {url[:120]}"))
                r.abort("blockedbyclient")
        context.route("**/*", route)

        for name in pages:
            current["page"] = name
            t0 = time.monotonic()
            tab = context.new_page()
            errors: list[str] = []

            def on_console(msg, errors=errors) -> None:
                if msg.type != "error":
                    return
                url = (msg.location or {}).get("url", "")
                # a blocked request's console error is reported as a `network` problem already
                if url and not url.startswith(site.base):
                    return
                errors.append(f"console error{' at ' + url.replace(site.base, '') if url else ''}: {msg.text[:200]}")
            tab.on("console", on_console)
            tab.on("pageerror", lambda exc, errors=errors: errors.append(f"page error: {str(exc)[:200]}"))
            tab.on("requestfailed", lambda req, errors=errors: errors.append(
                f"failed to load {req.url.replace(site.base, '')}: {req.failure}")
                if req.url.startswith(site.base) else None)
            try:
                response = tab.goto(site.base + name + ".html", wait_until="load")
                if response is None or not response.ok:
                    raise RuntimeError(f"the server answered {response.status if response else 'nothing'}")
                found = tab.evaluate(PAGE_CHECKS)
                if shots is not None:
                    tab.screenshot(path=str(shots / (name.replace("/", "__") + ".png")), full_page=True)
            except Exception as exc:  # one page that does not load must not hide the others' problems
                problems.append(Problem(name, "load", f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
                continue
            finally:
                tab.close()
            problems += [Problem(name, "console", e) for e in dict.fromkeys(errors)]
            problems += [Problem(name, p["kind"], p["detail"]) for p in found]
            stats["pages"] += 1
            log(f"  {name}: {len([p for p in problems if p.page == name])} problems, {time.monotonic() - t0:.1f} s")
        browser.close()
    stats["seconds"] = time.monotonic() - start
    order = {p: i for i, p in enumerate(pages)}
    problems.sort(key=lambda p: order.get(p.page, len(order)))  # stable: each page's problems keep their order
    return problems, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pages", nargs="*", help="pages without .html (default: every page of _toc.yml)")
    ap.add_argument("--html", type=Path, default=HTML, help="the built site (default _build/html)")
    ap.add_argument("--out", type=Path, default=SHOTS, help="screenshots folder (default _build/screenshots)")
    args = ap.parse_args(argv)
    pages = [p.removesuffix(".html") for p in args.pages] or toc_pages()
    problems, stats = check_pages(pages, args.html, args.out)
    print(report(problems, pages))
    print(f"{stats['pages']} pages in {stats['seconds']:.1f} s; screenshots in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
