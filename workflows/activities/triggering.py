"""The match_trigger activity: reads the operator's rules file, then matches.

Rules of the child specs (workflows/childspec.py: custom workflows' phrases) come after the
file's rules; a started child's args come from its spec's ``start_args`` (custom workflows:
the message text as ``args["text"]``; document jobs: the links and files). The file is validated
at start-up (a bad file stops the worker with one line); an edit made while running
that fails validation keeps the last good rules and is logged once per broken version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio import activity

from workflows import triggers
from workflows.activities.models import MatchRequest
from workflows.contracts import FileRef, TriggerRule, WorkflowStart

if TYPE_CHECKING:
    from workflows.childspec import ChildSpec

log = logging.getLogger(__name__)


class TriggerActivities:
    def __init__(
        self,
        rules_file: Path | None = None,
        children: Sequence[ChildSpec] | None = None,
        known_workflows: Iterable[str] | None = None,
    ) -> None:
        if children is None:
            from workflows.builtin_children import BUILTIN_CHILDREN  # imports workflows that import this module

            children = BUILTIN_CHILDREN
        self._rules_file = rules_file
        self._extra: list[TriggerRule] = [rule for spec in children for rule in spec.triggers]
        self._start_args = {spec.workflow_type: spec.start_args for spec in children if spec.start_args is not None}
        self._known = set(known_workflows) if known_workflows is not None else None
        # Fail at start-up, not on the first message (TriggerConfigError, one line).
        self._good = triggers.load_rules(rules_file, self._known)
        self._reported: str | None = None

    def current_rules(self) -> list[TriggerRule]:
        """The file's rules now, or the last good ones while the file is broken (said once)."""
        try:
            rules = triggers.load_rules(self._rules_file, self._known)
        except triggers.TriggerConfigError as err:
            if str(err) != self._reported:
                self._reported = str(err)
                log.warning(
                    "%s; keeping the last good trigger rules (%d rules) until the file is fixed", err, len(self._good)
                )
            return self._good
        if self._reported is not None:
            self._reported = None
            log.warning(
                "trigger rules reloaded: %d rules from %s", len(rules), self._rules_file or triggers.DEFAULT_RULES_FILE
            )
        self._good = rules
        return rules

    async def match_trigger_now(self, text: str, files: list[FileRef]) -> WorkflowStart | None:
        """The operator's rules, then the child specs' rules; the started child's args from its spec."""
        return triggers.match(self.current_rules() + self._extra, text, files, self._start_args)

    @activity.defn
    async def match_trigger(self, req: MatchRequest) -> WorkflowStart | None:
        return await self.match_trigger_now(req.text, req.files)
