"""The match_trigger activity: reads the operator's rules file, then matches."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from workflows import triggers
from workflows.activities.models import MatchRequest
from workflows.contracts import FileRef, WorkflowStart


class TriggerActivities:
    def __init__(self, rules_file: Path | None = None) -> None:
        self._rules_file = rules_file
        triggers.load_rules(rules_file)  # fail at start-up, not on the first message

    async def match_trigger_now(self, text: str, files: list[FileRef]) -> WorkflowStart | None:
        return triggers.match(triggers.load_rules(self._rules_file), text, files)

    @activity.defn
    async def match_trigger(self, req: MatchRequest) -> WorkflowStart | None:
        return await self.match_trigger_now(req.text, req.files)
