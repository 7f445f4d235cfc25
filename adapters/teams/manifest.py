"""The Teams app package: manifest/teams/manifest.json filled in, plus the two icons, zipped."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
FILES = ("manifest.json", "color.png", "outline.png")


def manifest_dir() -> Path:
    """manifest/teams of the repository checkout, else of the working directory (the Docker image's /app)."""
    candidates = [Path(__file__).resolve().parents[2] / "manifest" / "teams", Path.cwd() / "manifest" / "teams"]
    path = next((c for c in candidates if c.is_dir()), candidates[0])
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(f"the Teams manifest template is incomplete: {', '.join(missing)} missing in {path}")
    return path


def render_manifest(*, app_id: str, domain: str) -> dict:
    """The template with the bot's app id and the gateway's host name; refuses values Teams would refuse."""
    if not GUID.match(app_id):
        raise ValueError(f"--app-id must be the bot's Microsoft App ID (a GUID), not {app_id!r}")
    if not HOSTNAME.match(domain):
        raise ValueError(f"--domain must be a host name like bot.example.com (no scheme, port or path), not {domain!r}")
    template = (manifest_dir() / "manifest.json").read_text(encoding="utf-8")
    return json.loads(template.replace("{{APP_ID}}", app_id.lower()).replace("{{DOMAIN}}", domain.lower()))


def build_package(*, app_id: str, domain: str, out: str | Path) -> Path:
    """Write the app package (manifest.json, color.png, outline.png at the zip's root) to ``out``."""
    manifest = render_manifest(app_id=app_id, domain=domain)
    source = manifest_dir()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        for icon in FILES[1:]:
            package.write(source / icon, icon)
    return out
