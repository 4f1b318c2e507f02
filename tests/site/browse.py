"""Manual check of the built site in headless Chromium with the network blocked (a start for issue 9's browser test).

Usage (needs `pip install playwright` and Debian's `chromium`; nothing is downloaded):
    python tests/site/browse.py _build/html notebooks/10_tensor_fusion.html,book/leaderboard.html /tmp/shots

Prints, per page: rendered MathJax elements, raw TeX left, console errors, elements wider than the
content column; saves full-page screenshots; lists every blocked (non-local) request.
"""
import functools, http.server, re, sys, threading
from pathlib import Path
from playwright.sync_api import sync_playwright

root, pages, out = Path(sys.argv[1]), sys.argv[2].split(","), Path(sys.argv[3])
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
handler.log_message = lambda *a: None
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{srv.server_port}/"
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"])
    ctx = b.new_context(viewport={"width": 1280, "height": 900})
    blocked = []
    ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else (blocked.append(r.request.url), r.abort()))
    for page_path in pages:
        pg = ctx.new_page(); errors = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(base + page_path, wait_until="networkidle"); pg.wait_for_timeout(1500)
        text = pg.inner_text("main") if pg.query_selector("main") else pg.inner_text("body")
        raw = [m for m in re.findall(r"(\\\(|\\\[|\$\$)", text)]
        mj = pg.evaluate("document.querySelectorAll('mjx-container').length")
        wide = pg.evaluate("""() => { const main = document.querySelector('main') || document.body; const w = main.getBoundingClientRect().width;
            return [...document.querySelectorAll('table, pre, img')].filter(e => e.scrollWidth > w + 2 || e.getBoundingClientRect().width > w + 2).map(e => e.tagName + ':' + e.scrollWidth).slice(0, 8) }""")
        print(f"{page_path}: mathjax={mj} rawtex={len(raw)} errors={errors[:4]} wide={wide}")
        name = page_path.replace("/", "_").replace(".html", "")
        pg.screenshot(path=str(out / f"{name}.png"), full_page=True)
        pg.close()
    print("blocked requests:", sorted(set(blocked))[:10])
    b.close()
srv.shutdown()
