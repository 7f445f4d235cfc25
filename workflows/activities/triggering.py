"""The match_trigger activity: reads the operator's rules file, then matches.

Rules of custom workflows (workflows/registry.py) come after the file's rules; the
workflows they start get the message text as ``args["text"]``.
"""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from workflows import triggers
from workflows.activities.models import MatchRequest
from workflows.contracts import FileRef, TriggerRule, WorkflowStart


class TriggerActivities:
    def __init__(self, rules_file: Path | None = None, extra_rules: list[TriggerRule] | None = None) -> None:
        self._rules_file = rules_file
        self._extra = list(extra_rules or [])
        self._extra_types = {r.workflow for r in self._extra}
        triggers.load_rules(rules_file)  # fail at start-up, not on the first message

    async def match_trigger_now(self, text: str, files: list[FileRef]) -> WorkflowStart | None:
        """The operator's rules, then the custom workflows' phrases; custom workflows get the text as args."""
        decision = triggers.match(triggers.load_rules(self._rules_file) + self._extra, text, files)
        if decision is not None and decision.workflow_type in self._extra_types and not decision.args:
            decision.args = {"text": text}
        return decision

    @activity.defn
    async def match_trigger(self, req: MatchRequest) -> WorkflowStart | None:
        return await self.match_trigger_now(req.text, req.files)
