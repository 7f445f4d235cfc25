"""What one message costs in workflow history: events by type per turn, bytes per turn.

Counts from a conversation's real history show how many workflow tasks (round trips
between server and worker) and local activities (markers) each message takes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

SHOWN = {
    "WORKFLOW_TASK_COMPLETED": "workflow tasks",
    "MARKER_RECORDED": "local activities",
    "WORKFLOW_EXECUTION_UPDATE_ACCEPTED": "updates",
}


@dataclass
class TurnProfile:
    turns: int
    events_per_turn: float
    bytes_per_turn: float
    by_type: dict[str, float]


async def turn_profile(client: Client, workflow_id: str) -> TurnProfile:
    """Per-turn averages over the conversation's first run (start events excluded).

    The first run, not the current one: a session continues-as-new every few turns
    (THREADWORK_SESSION_MAX_TURNS_PER_RUN), so its current run may hold no turn yet.
    """
    described = await client.get_workflow_handle(workflow_id).describe()
    first_run = described.raw_description.workflow_execution_info.first_run_id or None
    history = await client.get_workflow_handle(workflow_id, run_id=first_run).fetch_history()
    events = [e for e in history.events if e.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW]
    turns = sum(1 for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    if turns == 0:
        raise RuntimeError(f"{workflow_id} has no completed updates")
    # Skip the first turn, which carries the workflow start, so every side counts steady-state turns.
    first_done = next(
        i for i, e in enumerate(events) if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
    )
    steady = events[first_done + 1 :]
    steady_turns = turns - 1
    if steady_turns == 0:
        raise RuntimeError(f"{workflow_id} needs at least two turns to profile")
    counts = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in steady)
    return TurnProfile(
        turns=steady_turns,
        events_per_turn=len(steady) / steady_turns,
        bytes_per_turn=sum(e.ByteSize() for e in steady) / steady_turns,
        by_type={name: counts.get(name, 0) / steady_turns for name in SHOWN},
    )
