"""The API reference (book/api.md): every module of mmsa_helpers is on it, through Sphinx autodoc."""
import importlib
import pkgutil
import re
from pathlib import Path

import yaml

import mmsa_helpers

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "book" / "api.md"
SKIP = {"mmsa_helpers.__main__"}   # runs the command line when imported


def package_modules() -> set[str]:
    found = {m.name for m in pkgutil.walk_packages(mmsa_helpers.__path__, "mmsa_helpers.")}
    return ({"mmsa_helpers"} | found) - SKIP


def listed_modules() -> list[str]:
    return re.findall(r"^\.\. automodule:: (\S+)\s*$", PAGE.read_text(), flags=re.M)


def test_every_module_is_on_the_api_page():
    listed = listed_modules()
    missing = sorted(package_modules() - set(listed))
    assert not missing, f"add these modules to book/api.md (an automodule block each): {missing}"
    assert not sorted(set(listed) - package_modules()), "book/api.md lists modules that do not exist"
    assert len(listed) == len(set(listed)), "a module is listed twice"


def test_every_listed_module_imports_and_has_a_docstring():
    for name in listed_modules():
        module = importlib.import_module(name)
        assert (module.__doc__ or "").strip(), f"{name} has no module docstring for the API page"


def test_the_book_loads_autodoc_and_the_page_is_in_the_toc():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert {"sphinx.ext.autodoc", "sphinx.ext.napoleon"} <= set(config["sphinx"]["extra_extensions"])
    assert "api.css" in config["sphinx"]["config"]["html_css_files"]
    assert (ROOT / "book" / "_static" / "api.css").exists()
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    appendix = next(p for p in toc["parts"] if p["caption"] == "Appendix")
    assert {"book/api", "book/instructors", "book/outgrow_laptop"} <= {c["file"] for c in appendix["chapters"]}
