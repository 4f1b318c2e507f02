"""setup(): no Hugging Face progress widgets (the static site cannot show them)."""
import os

import mmsa_helpers


def test_setup_turns_off_hugging_face_progress_bars(monkeypatch):
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    mmsa_helpers.setup()
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
    import transformers.utils.logging as hf_logging

    assert not hf_logging.is_progress_bar_enabled()


def test_setup_report_says_one_thread_in_the_singular():
    from mmsa_helpers.runtime import SetupInfo

    one = str(SetupInfo(seed=0, threads=1, device="cpu", torch_version="2", deterministic=True))
    two = str(SetupInfo(seed=0, threads=2, device="cpu", torch_version="2", deterministic=False))
    assert "cpu, 1 thread · deterministic" in one and "threads" not in one
    assert two.endswith("cpu, 2 threads")
