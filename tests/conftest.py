"""The checks over the built website (tests/site) run only after a build: `make site` (part of `make test`)."""
import os

collect_ignore = [] if os.environ.get("MMSA_SITE_TESTS") == "1" else ["site"]
