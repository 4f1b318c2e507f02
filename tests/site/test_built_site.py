"""Checks over the built website (`make test` runs them after the strict book build).

The site must work offline: math from the local MathJax copy, no scripts from a CDN,
every page of the table of contents present, internal links resolving.
"""
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
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


def test_internal_links_resolve():
    broken = []
    for page in PAGES:
        if "_static" in page.parts:
            continue
        for href in re.findall(r'href="([^"#]+)(?:#[^"]*)?"', page.read_text()):
            if urlparse(href).scheme or href.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(href.split("?")[0])).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(HTML)} -> {href}")
    assert not broken, broken[:20]


def test_search_index_exists():
    assert (HTML / "searchindex.js").stat().st_size > 10_000


def test_no_page_declares_a_script_constant_twice():
    for page in PAGES:
        text = page.read_text()
        assert text.count("const THEBE_JS_URL") <= 1, f"{page.relative_to(HTML)}: duplicate thebe config script"
