"""Checks over the built website (`make test` runs them after the strict book build).

The site must work offline: math from the local MathJax copy, no scripts from a CDN,
every page of the table of contents present and searchable, internal links and
their #anchors resolving, every image with a text alternative a reader can use.
The same pages in a real browser: test_browser.py.
"""
import html.parser
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("MMSA_SITE_HTML", ROOT / "_build" / "html"))  # another build: MMSA_SITE_HTML=dir
#: Pages allowed to pull from a CDN (none: list a page here only with the reason).
KNOWN_CDN: set[str] = set()

if not (HTML / "index.html").exists():
    pytest.exit(f"no built site at {HTML}: run `make book-strict` first (make test does)", returncode=1)


def toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]


PAGES = sorted(HTML.rglob("*.html"))


@pytest.mark.parametrize("page", toc_pages())
def test_every_toc_page_is_built(page):
    assert (HTML / f"{page}.html").is_file(), page


def test_mathjax_is_served_from_the_site():
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert list((HTML / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    page = (HTML / "notebooks" / "10_tensor_fusion.html").read_text()
    assert 'src="../_static/mathjax/tex-chtml.js"' in page
    for p in PAGES:
        assert "cdn.jsdelivr.net/npm/mathjax" not in p.read_text(), p


@pytest.mark.parametrize("page", [p for p in PAGES if "_static" not in p.parts], ids=lambda p: str(p.relative_to(HTML)))
def test_no_script_or_stylesheet_from_the_network(page):
    text = page.read_text()
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', text)
    external = [u for u in external if not u.startswith("https://github.com")]
    if str(page.relative_to(HTML)) in KNOWN_CDN:
        return
    assert not external, external


class _Anchors(html.parser.HTMLParser):
    """The ids a page defines, the links it makes (<a href>) and its images (<img> attributes)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.hrefs, self.images = set(), [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href") is not None:
            self.hrefs.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs)


@lru_cache(maxsize=None)
def parsed(page: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(page.read_text())
    return parser


def test_internal_links_resolve():
    """Every link to a file of the site finds it, and every #anchor (same page or another) finds its id."""
    broken = []
    for page in PAGES:
        if "_static" in page.parts:
            continue
        for href in parsed(page).hrefs:
            url = urlparse(href)
            if url.scheme or href.startswith(("mailto:", "javascript:")) or href in ("", "#"):
                continue
            target = (page.parent / unquote(url.path)).resolve() if url.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(HTML)} -> {href} (no such file)")
            elif url.fragment and target.suffix == ".html" and unquote(url.fragment) not in parsed(target).ids:
                broken.append(f"{page.relative_to(HTML)} -> {href} (no id {unquote(url.fragment)!r} there)")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:40])


def test_every_toc_page_is_in_the_search_index():
    text = (HTML / "searchindex.js").read_text()
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    missing = [p for p in toc_pages() if p not in index["docnames"]]
    assert not missing, missing


#: An alt text that is a file name or a hash (myst-nb names output images by their sha256).
PLACEHOLDER_ALT = re.compile(r"([\w./\\-]*\.(png|jpe?g|gif|svg|webp|pdf)|[\w./-]*[0-9a-f]{16,}[\w.]*)", re.I)


@pytest.mark.parametrize("page", toc_pages())
def test_images_have_meaningful_alt_text(page):
    """No image of the book's pages has an empty alt or one that is just its file name or hash.

    book/_ext/figure_alt.py gives output images their figure caption as alt text;
    an image in raw HTML output (an animation player) needs its own.
    """
    bad = []
    for img in parsed(HTML / f"{page}.html").images:
        alt, src = (img.get("alt") or "").strip(), img.get("src") or ""
        name = src.rsplit("/", 1)[-1][:40] if src and not src.startswith("data:") else (img.get("id") or "inline image")
        if not alt:
            bad.append(f"{name}: no alt text")
        elif PLACEHOLDER_ALT.fullmatch(alt) or alt == src:
            bad.append(f"{name}: alt is a file name or hash ({alt[:60]!r})")
    assert not bad, "\n".join(bad)


def test_search_index_exists():
    assert (HTML / "searchindex.js").stat().st_size > 10_000


def test_no_page_declares_a_script_constant_twice():
    for page in PAGES:
        text = page.read_text()
        assert text.count("const THEBE_JS_URL") <= 1, f"{page.relative_to(HTML)}: duplicate thebe config script"
