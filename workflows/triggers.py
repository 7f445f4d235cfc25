"""Which message starts which child workflow: operator-editable rules, pure matching.

Matching is a pure function of (rules, text, files) so it can run anywhere; the
workflow calls it through the ``match_trigger`` local activity, which loads the
current rules file, so an operator's edit applies to the next message. Every error
about the file is one line naming the file (and the rule), because operators read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workflows.contracts import FileRef, TriggerRule, WorkflowStart
from workflows.severity import DEFAULT_SEVERITY

DEFAULT_RULES_FILE = Path(__file__).with_name("triggers.default.yaml")
_URL = re.compile(r"https?://\S+")


class TriggerConfigError(ValueError):
    """The rules file is unreadable or has an invalid rule (message says which)."""


def load_rules(path: Path | None = None, known_workflows: Iterable[str] | None = None) -> list[TriggerRule]:
    """The rules of ``path`` (default: the built-in file), checked against ``known_workflows`` if given."""
    path = path or DEFAULT_RULES_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as err:
        raise TriggerConfigError(f"triggers file {path}: {err.strerror or err} (THREADWORK_TRIGGERS_FILE)") from None
    rules = list(_load_rules_cached(str(path), mtime))
    if known_workflows is not None:
        check_workflows(rules, set(known_workflows), path)
    return rules


def check_workflows(rules: Iterable[TriggerRule], known: set[str], path: Path | str) -> None:
    """Refuse a rule that would start a workflow type no worker registers (e.g. a typo)."""
    for rule in rules:
        if rule.workflow not in known:
            raise TriggerConfigError(
                f"triggers file {path}: rule {rule.name!r} starts unknown workflow {rule.workflow!r}; "
                f"known workflow types: {', '.join(sorted(known))}"
            )


def _yaml_problem(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return " ".join(f"{where}{problem}".split())


def _validation_problem(err: ValidationError, index: int) -> str:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "rule"
    return f"rule #{index + 1}: {field}: {first.get('msg', 'invalid')}"


@lru_cache(maxsize=8)
def _load_rules_cached(path: str, _mtime: int) -> tuple[TriggerRule, ...]:
    where = f"triggers file {path}"
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as err:
        raise TriggerConfigError(f"{where}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise TriggerConfigError(f"{where}: not UTF-8 text ({err.reason})") from None
    except yaml.YAMLError as err:
        raise TriggerConfigError(f"{where}: not valid YAML: {_yaml_problem(err)}") from None
    raw = data.get("rules", []) if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise TriggerConfigError(f"{where}: expected a mapping with a list under 'rules:'")
    rules = []
    for index, item in enumerate(raw):
        try:
            rules.append(TriggerRule.model_validate(item))
        except ValidationError as err:
            raise TriggerConfigError(f"{where}: {_validation_problem(err, index)}") from None
    for rule in rules:
        for pattern in [*rule.patterns, *(p for ps in rule.severity.values() for p in ps)]:
            try:
                re.compile(pattern)
            except re.error as err:
                raise TriggerConfigError(f"{where}: rule {rule.name!r}: bad pattern {pattern!r}: {err}") from None
    return tuple(rules)


def _search(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def guess_severity(rule: TriggerRule, text: str) -> str:
    for severity, patterns in rule.severity.items():
        if any(_search(p, text) for p in patterns):
            return severity
    return DEFAULT_SEVERITY


def match(
    rules: list[TriggerRule],
    text: str,
    files: list[FileRef] | None = None,
    start_args: Mapping[str, Callable[[str, list[FileRef]], dict[str, Any]]] | None = None,
) -> WorkflowStart | None:
    """The first rule that matches ``text`` (or the attached files), as a start decision; its args
    come from the started type's ``start_args`` (a ChildSpec's: e.g. the links and files of a document job)."""
    files = files or []
    for rule in rules:
        hit = any(_search(p, text) for p in rule.patterns) or (rule.on_files and bool(files))
        if not hit:
            continue
        title = " ".join(text.split())[:120] or (files[0].name if files else rule.name)
        start = WorkflowStart(workflow_type=rule.workflow, title=title)
        if rule.severity:
            start.severity = guess_severity(rule, text)
        build_args = (start_args or {}).get(rule.workflow)
        if build_args is not None:
            start.args = build_args(text, files)
        return start
    return None
