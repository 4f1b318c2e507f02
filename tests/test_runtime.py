"""setup(): no Hugging Face progress widgets (the static site cannot show them)."""
import os

import mmsa_helpers


def test_setup_turns_off_hugging_face_progress_bars(monkeypatch):
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    mmsa_helpers.setup()
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    import transformers.utils.logging as hf_logging

    assert not hf_logging.is_progress_bar_enabled()
