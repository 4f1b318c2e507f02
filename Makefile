# The two commands of the README:
#   make book   build the website into _build/html (executes every notebook)
#   make test   unit tests + nbval over every notebook + book build with warnings as errors + site checks
#               (the site checks include a headless-Chromium pass over every page)
# and, for teachers, make exercises: every chapter without its solutions, into _build/exercises.
# All create .venv and install the pinned versions of requirements/constraints.txt first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB_FLAGS := --keep-going

.PHONY: book test unit notebooks book-strict site venv lock lab clean exercises

venv: $(STAMP)

$(STAMP): requirements/book.txt requirements/constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else "Python 3.11 is required, found %d.%d: run make PYTHON=/path/to/python3.11" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -r requirements/book.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "Website: _build/html/index.html"

test: unit notebooks book-strict site

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q

notebooks: $(STAMP)
	$(BIN)/python -m pytest -q -p tests.notebook_timer --nbval-lax --nbval-cell-timeout=600 notebooks book/leaderboard.ipynb book/instructors.ipynb book/outgrow_laptop.ipynb

book-strict: $(STAMP)
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(BIN)/jupyter-book build . -W $(JB_FLAGS)

# checks over the built website: offline math, no CDN scripts, pages, links and #anchors, search, alt
# texts (test_built_site.py), and every page in headless Chromium with the network blocked (test_browser.py;
# needs the system chromium: installed here with apt when root, skipped loudly without it, an error with CI set)
site: $(STAMP)
	@bash tests/site/ensure_chromium.sh
	@MMSA_SITE_TESTS=1 $(BIN)/python -m pytest -q tests/site; status=$$?; \
	  echo "Full-page screenshots of every page: _build/screenshots/ (problems: _build/screenshots/report.txt)"; \
	  exit $$status

# Re-pin every dependency after editing requirements/book.txt.
lock:
	rm -rf /tmp/mmsa-lock && $(PYTHON) -m venv /tmp/mmsa-lock
	/tmp/mmsa-lock/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	/tmp/mmsa-lock/bin/python -m pip install --quiet -r requirements/book.txt
	/tmp/mmsa-lock/bin/python requirements/pin.py /tmp/mmsa-lock

# every chapter as a student's notebook: solutions (Solution boxes, cells tagged "solution") removed
exercises: $(STAMP)
	$(BIN)/python -m mmsa_helpers exercises --out _build/exercises

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf _build $(VENV)
