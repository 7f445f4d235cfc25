"""Which message starts which child workflow: operator-editable rules, pure matching.

Matching is a pure function of (rules, text, files) so it can run anywhere; the
workflow calls it through the ``match_trigger`` local activity, which loads the
current rules file, so an operator's edit applies to the next message.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from workflows.contracts import FileRef, TriggerRule, WorkflowStart

DEFAULT_RULES_FILE = Path(__file__).with_name("triggers.default.yaml")
DEFAULT_SEVERITY = "SEV3"
_URL = re.compile(r"https?://\S+")


class TriggerConfigError(ValueError):
    """The rules file is unreadable or has an invalid rule (message says which)."""


def load_rules(path: Path | None = None) -> list[TriggerRule]:
    path = path or DEFAULT_RULES_FILE
    stat = path.stat()
    return list(_load_rules_cached(str(path), stat.st_mtime_ns))


@lru_cache(maxsize=8)
def _load_rules_cached(path: str, _mtime: int) -> tuple[TriggerRule, ...]:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
        rules = tuple(TriggerRule.model_validate(r) for r in data.get("rules", []))
    except (OSError, yaml.YAMLError, ValueError) as err:
        raise TriggerConfigError(f"{path}: {err}") from err
    for rule in rules:
        for pattern in [*rule.patterns, *(p for ps in rule.severity.values() for p in ps)]:
            try:
                re.compile(pattern)
            except re.error as err:
                raise TriggerConfigError(f"{path}: rule {rule.name!r}: bad pattern {pattern!r}: {err}")
    return rules


def _search(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def guess_severity(rule: TriggerRule, text: str) -> str:
    for severity, patterns in rule.severity.items():
        if any(_search(p, text) for p in patterns):
            return severity
    return DEFAULT_SEVERITY


def match(rules: list[TriggerRule], text: str, files: list[FileRef] | None = None) -> WorkflowStart | None:
    """The first rule that matches ``text`` (or the attached files), as a start decision."""
    files = files or []
    for rule in rules:
        hit = any(_search(p, text) for p in rule.patterns) or (rule.on_files and bool(files))
        if not hit:
            continue
        title = " ".join(text.split())[:120] or (files[0].name if files else rule.name)
        start = WorkflowStart(workflow_type=rule.workflow, title=title)
        if rule.severity:
            start.severity = guess_severity(rule, text)
        if rule.workflow == "DocumentProcessingWorkflow":
            urls = _URL.findall(text)
            start.args = {
                "documents": [f.model_dump() for f in files]
                + [FileRef(name=u.rsplit("/", 1)[-1] or u, url=u).model_dump() for u in urls]
            }
        return start
    return None
