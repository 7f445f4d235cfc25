"""The layering contract (pyproject.toml, run by scripts/lint) refuses each forbidden direction, allows the rest."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_contract_names_each_crossing_and_allows_bots_to_use_both(tmp_path: Path) -> None:
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    modules = {
        "workflows/core.py": "from adapters import platform\n",  # forbidden: the core imports an adapter
        "workflows/neutral.py": "import json\n",
        "adapters/platform.py": "import workflows.neutral\nimport bots.config\n",  # the first is fine, the second not
        "bots/config.py": "import adapters.platform\nimport workflows.neutral\n",  # bots wire both: allowed
    }
    for package in ("workflows", "adapters", "bots"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for path, source in modules.items():
        (tmp_path / path).write_text(source)
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Contracts: 0 kept, 2 broken." in run.stdout
    chains = {line.strip("- ").split(" (l.")[0] for line in run.stdout.splitlines() if line.startswith("-   ")}
    # Indirect chains are reported from their first link (workflows.core reaches bots through the adapter).
    assert chains == {"workflows.core -> adapters.platform", "adapters.platform -> bots.config"}, run.stdout
    assert "bots.config ->" not in run.stdout and "-> workflows.neutral" not in run.stdout
