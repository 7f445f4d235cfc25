"""What an incident says: the live summary card, its channel name, and its messages.

Pure functions of the state and a time (the workflow passes ``workflow.now()``), so the
same state always renders the same card.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from workflows.contracts import (
    Actor,
    Button,
    ButtonsBlock,
    ConversationKey,
    DividerBlock,
    FieldsBlock,
    MessageRef,
    Reply,
    TextBlock,
    user_mention,
)
from workflows.contracts import conversation_link as link_token
from workflows.incident.incident_models import STATUSES, IncidentState
from workflows.platform_traits import DEFAULT_CHANNEL_NAMES, ChannelNameRule
from workflows.severity import SEVERITIES

#: Titles longer than this are cut at a word boundary.
MAX_TITLE = 60
#: What declares an incident rather than describing it: "we have a critical incident:", "SEV1 -"...
_DECLARATION = re.compile(
    r"^(?:(?:we|i|there)(?:'ve|'re| have| has| got| are having| is| are)?(?:\s+got)?\s+)?(?:(?:a|an)\s+)?"
    r"(?:(?:new|critical|major|minor|urgent|big|serious|sev\s*-?\s*[1-4])[\s,]+)*"
    r"(incident|outage)\b\s*[:,;\-\u2013\u2014]*\s*",
    re.IGNORECASE,
)
_JOINER = re.compile(r"^(?:with|in|on|for|at|affecting|of)\b", re.IGNORECASE)
_SEVERITY_PREFIX = re.compile(r"^sev\s*-?\s*[1-4]\b\s*[:,;\-\u2013\u2014]*\s*", re.IGNORECASE)
_MENTION_PREFIX = re.compile(r"^(?:<@[^>]+>|@\S+)\s*")

TAKE_COMMAND = "incident.take_command"
CHANGE_SEVERITY = "incident.severity"
POST_UPDATE = "incident.update"
RESOLVE = "incident.resolve"
CLOSE_PICKER = "incident.close_picker"
NOTE = "incident.note"
REQUEST_APPROVAL = "incident.approval"
#: Incident AI (workflows/incident_ai.py): a private catch-up, a stakeholder update draft.
CATCH_UP = "incident.catch_up"
DRAFT_UPDATE = "incident.draft_update"


def short_title(text: str, limit: int = MAX_TITLE) -> str:
    """The incident's title: the declared text minus the declaring words, cut at a word boundary.

    "we have a critical incident: checkout is down" -> "Checkout is down".
    """
    original = " ".join(text.split())
    title = _MENTION_PREFIX.sub("", original)
    declared = _DECLARATION.match(title)
    if declared and title[declared.end() :].strip(" .!:-"):
        rest = title[declared.end() :]
        # "an outage in eu-west" keeps its noun: "Outage in eu-west".
        title = f"{declared.group(1)} {rest}" if _JOINER.match(rest) else rest
    rest = _SEVERITY_PREFIX.sub("", title, count=1)
    if rest.strip(" .!:-"):
        title = rest
    title = title.strip(" .!?:;,-") or original.strip() or "Incident"
    if len(title) > limit:
        cut = title.rfind(" ", 0, limit)
        title = (title[:cut] if cut > limit // 2 else title[: limit - 1]).rstrip(" ,;:-") + "\u2026"
    # A title starts with a capital, but an identifier (an alert name such as "high_memory_load",
    # a service such as "eu-west-1") keeps its case.
    first = title.split(" ", 1)[0].rstrip(":,;")
    return title[0].upper() + title[1:] if first.isalpha() and first.islower() else title


def channel_name(title: str, when: datetime, suffix: int = 1, rule: ChannelNameRule | None = None) -> str:
    """``inc-{yyyymmdd}-{slug}``: valid by the platform's ``rule`` (its traits), deterministic from title and time.

    The slug is cut at a word (hyphen) boundary; ``suffix`` > 1 appends ``-{suffix}`` (after ``name_taken``).
    """
    rule = rule or DEFAULT_CHANNEL_NAMES
    prefix = f"inc-{when:%Y%m%d}-"
    tail = f"-{suffix}" if suffix > 1 else ""
    slug = rule.clean(title) or "incident"
    room = rule.max_length - len(prefix) - len(tail)
    if len(slug) > room:
        cut = slug.rfind("-", 0, room + 1)
        slug = slug[:cut] if cut > room // 2 else slug[:room]
    return prefix + slug.rstrip("-_") + tail


def who(actor: Actor | None) -> str:
    return (actor.name or actor.id) if actor else "unassigned"


def duration_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return f"{int(span.total_seconds())}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def _clock(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def conversation_link(key: ConversationKey, name: str) -> str:
    """The incident conversation in text: a link token each adapter draws (Slack ``<#C…>``, a Teams deep link, a web chat link)."""
    return link_token(key, name or key.channel)


def where(state: IncidentState) -> str:
    """A link to where the incident runs: its channel, or the origin thread after a fallback."""
    if state.conversation != state.origin or not state.card:
        return conversation_link(state.conversation, state.conversation_name)
    return link_token(message_thread(state.card), "the incident thread")


def message_thread(ref: MessageRef) -> ConversationKey:
    """The thread a posted message starts or sits in (a link to "the message with the buttons")."""
    key = ref.key
    return key if key.thread else key.model_copy(update={"thread": ref.message_id})


def topic(state: IncidentState) -> str:
    """The incident channel's topic, kept current on severity and status changes."""
    return f"{state.severity} \u00b7 {state.status} \u00b7 {state.title}"


def announcement(state: IncidentState, opened: bool) -> Reply:
    """What the incidents channel is told when an incident opens and when it resolves."""
    if opened:
        text = f"{state.severity} incident opened: {state.title} \u2014 in {where(state)} (commander {who(state.commander)})"
    else:
        end = state.resolved_at or state.last_update_at
        text = (
            f"Resolved: {state.title} ({state.severity}, {duration_text(end - state.started_at)}) \u2014 {where(state)}"
        )
    return Reply(text=text)


def card(state: IncidentState, workflow_id: str, now: datetime) -> Reply:
    """The summary card; the workflow updates this one message in place on every change."""
    end = state.resolved_at or now
    fields = [
        ("Severity", state.severity),
        ("Status", state.status),
        ("Commander", user_mention(state.commander)),
        ("Started", _clock(state.started_at)),
        ("Duration", duration_text(end - state.started_at)),
        ("Last update", _clock(state.last_update_at)),
    ]
    if state.responders:
        fields.append(("Responders", ", ".join(state.responders)))
    text = (
        f"Incident {state.severity}: {state.title} | status {state.status} | commander {who(state.commander)} "
        f"| started {_clock(state.started_at)} | duration {duration_text(end - state.started_at)}"
    )
    blocks: list[Any] = [
        TextBlock(text=f"Incident {state.severity}: {state.title}", style="heading"),
        FieldsBlock(fields=fields),
    ]
    if state.fallback_reason:
        blocks.append(TextBlock(text=f"Running in this thread: {state.fallback_reason}", style="context"))
    if not state.is_resolved():
        blocks.append(ButtonsBlock(buttons=_main_buttons(workflow_id)))
        if state.picker is not None:
            blocks.append(ButtonsBlock(buttons=_picker_buttons(state, workflow_id)))
    return Reply(text=text, blocks=blocks)


def _main_buttons(workflow_id: str) -> list[Button]:
    return [
        Button(label="Take command", action_id=TAKE_COMMAND, workflow_id=workflow_id),
        Button(label="Change severity", action_id=CHANGE_SEVERITY, workflow_id=workflow_id),
        Button(label="Post update", action_id=POST_UPDATE, workflow_id=workflow_id),
        Button(label="Resolve", action_id=RESOLVE, workflow_id=workflow_id, style="primary"),
        Button(label="Catch up", action_id=CATCH_UP, workflow_id=workflow_id),
        Button(label="Draft update", action_id=DRAFT_UPDATE, workflow_id=workflow_id),
    ]


def _picker_buttons(state: IncidentState, workflow_id: str) -> list[Button]:
    if state.picker == "severity":
        choices = [(s, CHANGE_SEVERITY, s) for s in SEVERITIES if s != state.severity]
    else:
        choices = [(s.capitalize(), POST_UPDATE, s) for s in STATUSES[:-1] if s != state.status]
    buttons = [
        Button(label=label, action_id=action, value=value, workflow_id=workflow_id) for label, action, value in choices
    ]
    return [*buttons, Button(label="Cancel", action_id=CLOSE_PICKER, workflow_id=workflow_id)]


def link_reply(state: IncidentState) -> Reply:
    text = (
        f'Incident {state.severity} "{state.title}" is being handled in {where(state)}. Progress will be posted here.'
    )
    return Reply(text=text, blocks=[TextBlock(text=text)])


def fallback_reply(state: IncidentState) -> Reply:
    text = (
        f"I couldn't open an incident channel ({state.fallback_reason}), so incident "
        f'"{state.title}" is handled right here in this thread.'
    )
    return Reply(text=text)


def progress_reply(state: IncidentState, change: str) -> Reply:
    return Reply(text=f'Incident "{state.title}" ({state.severity}): {change}')


def reminder_reply(state: IncidentState, interval_seconds: float) -> Reply:
    span = duration_text(timedelta(seconds=interval_seconds))
    text = (
        f'Reminder: no update on incident "{state.title}" for {span}. {who(state.commander)}, please post an '
        "update (the Post update button, or `incident update <text>` here)."
    )
    return Reply(text=text)


def summary_text(state: IncidentState, limit: int = 30) -> str:
    """The final summary: duration, severity, timeline and decisions (the timeline's last ``limit`` entries)."""
    end = state.resolved_at or state.last_update_at
    lines = [
        f"Incident resolved: {state.title}",
        f"Severity {state.severity}, duration {duration_text(end - state.started_at)}, commander {who(state.commander)}.",
        "Timeline:",
    ]
    entries = state.timeline[-limit:]
    if len(state.timeline) > limit:
        lines.append(f"  ({len(state.timeline) - limit} earlier entries in the postmortem)")
    lines += [f"  {e.at:%H:%M:%S} {e.actor}: {e.text}" for e in entries]
    decided = [a for a in state.approvals if a.outcome != "pending"]
    lines.append("Decisions:")
    lines += [
        f"  {a.question}: {a.outcome}" + (f" by {who(a.decided_by)}" if a.decided_by else "") for a in decided
    ] or ["  none"]
    return "\n".join(lines)


def postmortem_reply(state: IncidentState) -> Reply:
    """The postmortem draft as a heading (the thread's title everywhere) and its Markdown body."""
    head, _, body = state.postmortem.partition("\n")
    title = head.lstrip("# ").strip() or f"Postmortem (draft): {state.title}"
    body = body.strip("\n")
    return Reply(
        text=f"{title}\n\n{body}", blocks=[TextBlock(text=title, style="heading"), TextBlock(text=body or " ")]
    )


def summary_reply(state: IncidentState) -> Reply:
    text = summary_text(state)
    head, _, rest = text.partition("\n")
    return Reply(text=text, blocks=[TextBlock(text=head, style="heading"), DividerBlock(), TextBlock(text=rest)])
