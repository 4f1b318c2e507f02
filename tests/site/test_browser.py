"""Every page of the book in a real browser: headless Chromium, offline, at 1280x900.

`make site` (part of `make test`) runs it after the strict build. It loads each
page of _toc.yml from a local server with every other request blocked and fails
on what a reader would see wrong: console errors, raw TeX, broken images,
figures without a caption or alt text, unlabelled audio players, tables and code
wider than the column, tracebacks or warnings in outputs (tests/site/site_browser.py
says exactly what each check measures). All pages are checked first, then one
report lists every problem as `page: [kind] detail`. Full-page screenshots of
every page land in _build/screenshots/ (with report.txt).

Chromium is the system one (Debian's `chromium`, or $CHROMIUM). Without it the
test is skipped with a message, except under CI (CI set), where it fails.
"""
import os

import pytest

from site_browser import HTML, SHOTS, check_pages, find_chromium, report, toc_pages

NO_CHROMIUM = ("no Chromium for the browser test of the website: install it (`apt-get install chromium` "
               "on Debian/Ubuntu) or set CHROMIUM=/path/to/chromium")


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(NO_CHROMIUM + " (CI is set: a missing browser is a failure there)", pytrace=False)
        pytest.skip("SKIPPED, NOT PASSED: " + NO_CHROMIUM)
    return path


def test_every_page_in_the_browser(chromium):
    pages = toc_pages()
    problems, stats = check_pages(pages, HTML, SHOTS, chromium)
    text = report(problems, pages)
    summary = f"{stats['pages']} pages in {stats['seconds']:.1f} s; full-page screenshots in {SHOTS}"
    (SHOTS / "report.txt").write_text(text + "\n" + summary + "\n")
    print(summary)
    assert stats["pages"] == len(pages), summary
    assert not problems, f"the website has problems a reader would see:\n{text}\n{summary}"


FIXTURE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>fixture</title>
<script>window.addEventListener('load', () => { throw new Error('boom from the book'); });</script></head>
<body><main><article class="bd-article" style="width: 700px">
<h1>Fixture</h1>
<p>Raw math \\(x^2\\) left by a typo.</p>
<pre>a fine short line</pre><code>\\(inline code is fine\\)</code>
<pre>%s</pre>
<table><tr>%s</tr></table>
<div class="pst-scrollable-table-container" style="overflow: auto"><table><tr><td>short</td></tr></table></div>
<img src="missing.png" alt="A plot that is not there">
<figure><img src="ok.svg" alt="ok.svg"><figcaption><span class="caption-text">Two lines that cross once</span></figcaption></figure>
<div class="cell"><div class="cell_output"><div class="output text_html">
  <img src="ok.svg" alt="../_images/0123456789abcdef0123456789abcdef.png">
  <img src="ok.svg" class="alt-from-position" alt="Figure 3 output by cell 9 of chapter 8, Vision">
  <audio controls></audio><audio controls aria-label="An angry voice"></audio>
</div>
<div class="output stderr"><pre>UserWarning: something</pre></div>
<div class="output stream"><pre>Traceback (most recent call last): oops</pre></div></div></div>
<p>A sad voice:</p><audio controls></audio>
<details><summary>hidden</summary><pre>%s</pre></details>
<mjx-container><mjx-assistive-mml>\\(not visible\\)</mjx-assistive-mml></mjx-container>
<img src="https://example.org/tracker.png" alt="An image from the network">
</article></main></body></html>""" % ("x" * 400, "<td>wide cell</td>" * 60, "y" * 400)
OK_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'


def test_the_checks_find_each_kind_of_problem(chromium, tmp_path):
    """The checks catch what they claim to, on a page made of known defects (and skip what is fine)."""
    (tmp_path / "page.html").write_text(FIXTURE)
    (tmp_path / "ok.svg").write_text(OK_SVG)
    problems, _ = check_pages(["page"], tmp_path, None, chromium, log=lambda *a: None)
    found = {}
    for p in problems:
        found.setdefault(p.kind, []).append(p.detail)
    assert sorted(found) == ["audio-label", "broken-image", "console", "network", "no-caption", "output",
                             "raw-tex", "wide"], report(problems, ["page"])
    assert len(found["raw-tex"]) == 1 and "x^2" in found["raw-tex"][0]
    assert len(found["wide"]) == 2  # the long pre and the wide table; not the hidden pre, not the short table
    assert len(found["no-caption"]) == 2  # the hash alt and the positional alt; not the captioned figure
    assert len(found["audio-label"]) == 1  # the first player; the second has aria-label, the third a text before it
    assert len(found["output"]) == 2
    assert any("boom from the book" in d for d in found["console"])
    assert any("missing.png" in d for d in found["broken-image"])
    assert found["network"] == ["blocked request to https://example.org/tracker.png"]
