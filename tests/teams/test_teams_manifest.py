"""The Teams app package validates against the official v1.29 schema; icons have the right sizes."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from bots.cli import main

APP_ID = "6f1e3c2a-1b2c-4d5e-8f90-123456789abc"
SCHEMA_NAME = "teams-app-manifest-1.29.schema.json"


def schema_path() -> Path:
    """The official schema, vendored with its license in tests/schemas/."""
    path = Path(__file__).resolve().parents[1] / "schemas" / SCHEMA_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: copy it from the project's shared/schemas")
    return path


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGBA rows of a non-interlaced 8-bit RGBA PNG (all five filter types)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert (depth, color, interlace) == (8, 6, 0), "icons must be 8-bit RGBA, not interlaced"
    raw, stride, rows, prev = zlib.decompress(idat), width * 4, [], bytes(width * 4)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 4] if i >= 4 else 0
            b, c = prev[i], prev[i - 4] if i >= 4 else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = bytes(line)
    return width, height, rows


def test_cli_builds_a_valid_app_package(tmp_path, capsys):
    out = tmp_path / "pkg" / "threadwork-teams.zip"
    assert main(["manifest", "teams", "--app-id", APP_ID, "--domain", "bot.example.com", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color, outline = package.read("color.png"), package.read("outline.png")

    schema = json.loads(schema_path().read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(manifest)
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.example.com"]
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    commands = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert commands == ["help", "status", "end", "incident"]

    width, height, _ = png_pixels(color)
    assert (width, height) == (192, 192)
    width, height, rows = png_pixels(outline)
    assert (width, height) == (32, 32)
    pixels = {row[i : i + 4] for row in rows for i in range(0, len(row), 4)}
    assert all(p[3] == 0 or p[:3] == b"\xff\xff\xff" for p in pixels), "outline.png must be white on transparent"
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


@pytest.mark.parametrize(
    ("app_id", "domain", "expected"),
    [("not-a-guid", "bot.example.com", "GUID"), (APP_ID, "https://bot.example.com/x", "host name")],
)
def test_cli_refuses_bad_values_clearly(tmp_path, capsys, app_id, domain, expected):
    out = tmp_path / "x.zip"
    assert main(["manifest", "teams", "--app-id", app_id, "--domain", domain, "--out", str(out)]) == 2
    assert expected in capsys.readouterr().err
    assert not out.exists()


def test_schema_rejects_a_broken_manifest(tmp_path):
    """The validation above can fail: the same manifest without its bot id does not pass."""
    out = tmp_path / "pkg.zip"
    main(["manifest", "teams", "--app-id", APP_ID, "--domain", "bot.example.com", "--out", str(out)])
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    del manifest["bots"][0]["botId"]
    manifest["accentColor"] = "blue"
    schema = json.loads(schema_path().read_text())
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(manifest))
    assert errors
