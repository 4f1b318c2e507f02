"""torchrun: two CPU processes (gloo) train like one process with the same global batch."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mmsa_helpers.experiment import run_experiment

SETTINGS = {"epochs": 2, "dropout": 0.0, "progress": False, "device": "cpu"}
TORCHRUN = Path(sys.executable).with_name("torchrun")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun is installed with torch; not found next to python")
def test_two_processes_match_one_with_the_same_global_batch(tmp_path):
    out = tmp_path / "ddp.json"
    sets = [a for k, v in SETTINGS.items() for a in ("--set", f"{k}={v}")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MMSA_THREADS": "1"}
    cmd = [str(TORCHRUN), "--nproc_per_node=2", f"--master_port={free_port()}", "-m", "mmsa_helpers", "train",
           "-d", "synthetic", "-m", "ef_lstm", "-s", "0", *sets, "--json", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("record written") == 1          # only rank 0 reports and writes
    ddp = json.loads(out.read_text())
    assert ddp["distributed"] == {"world_size": 2, "backend": "gloo"}
    single = run_experiment("synthetic", "ef_lstm", seeds=[0], config=SETTINGS)
    for metric in ("MAE", "Corr"):
        # the same steps up to float summation order: agreement to 2e-3 (measured: 4 decimals)
        assert abs(ddp["per_seed"][0]["test"][metric] - single.metrics[0][metric]) < 2e-3, metric
    assert ddp["per_seed"][0]["best_epoch"] == single.details[0]["best_epoch"]
