"""The built-in responder: deterministic, offline, and useful on its own.

It answers ``help`` and ``status``, acknowledges everything else, and tells the
user about workflows their message started.
"""

from __future__ import annotations

from workflows.contracts import (
    Button,
    ButtonsBlock,
    DividerBlock,
    FieldsBlock,
    Reply,
    SessionSummary,
    TextBlock,
    TriggeredWorkflow,
)

HELP_WORDS = {"help", "/help", "?", "commands"}
STATUS_WORDS = {"status", "/status"}
END_WORDS = {"end", "/end", "end session", "bye", "goodbye"}

#: Names of the built-ins for states recorded before TriggeredWorkflow carried its display name.
LEGACY_NAMES = {
    "IncidentWorkflow": "incident response",
    "DocumentProcessingWorkflow": "document processing",
}


def display_name(wf: TriggeredWorkflow) -> str:
    return wf.display_name or LEGACY_NAMES.get(wf.workflow_type, wf.workflow_type)


def command_of(text: str) -> str | None:
    """'help' / 'status' / 'end' when the whole message is that command."""
    word = " ".join(text.lower().split()).strip("!.")
    if word in HELP_WORDS:
        return "help"
    if word in STATUS_WORDS:
        return "status"
    if word in END_WORDS:
        return "end"
    return None


def session_buttons(session_id: str) -> ButtonsBlock:
    return ButtonsBlock(
        buttons=[
            Button(label="Status", action_id="session.status", workflow_id=session_id),
            Button(label="Help", action_id="session.help", workflow_id=session_id),
            Button(label="End session", action_id="session.end", workflow_id=session_id, style="danger"),
        ]
    )


def help_reply(session_id: str) -> Reply:
    text = (
        "I'm threadwork. Every conversation with me is durable: I remember this thread "
        "and keep working on what you start here, even across restarts.\n"
        '• Say "we have a critical incident: checkout is down" to start incident response.\n'
        '• Say "summarize https://example.com/report.txt" or attach a file to process a document.\n'
        '• "status" shows this conversation and what it started; "end" closes it.'
    )
    return Reply(
        text=text,
        blocks=[TextBlock(text="How I can help", style="heading"), TextBlock(text=text), session_buttons(session_id)],
    )


def _describe(wf: TriggeredWorkflow) -> str:
    kind = display_name(wf)
    title = f' "{wf.title}"' if wf.title else ""
    return f"{kind}{title} ({wf.status})"


def status_reply(summary: SessionSummary) -> Reply:
    running = [w for w in summary.triggered_workflows if w.status == "running"]
    lines = [_describe(w) for w in summary.triggered_workflows] or ["none yet"]
    text = (
        f"This conversation: {summary.message_count} messages from "
        f"{summary.participants} participant(s); {len(running)} workflow(s) running.\n"
        "Workflows started here:\n" + "\n".join(f"• {line}" for line in lines)
    )
    return Reply(
        text=text,
        blocks=[
            TextBlock(text="Session status", style="heading"),
            FieldsBlock(
                fields=[
                    ("Messages", str(summary.message_count)),
                    ("Participants", str(summary.participants)),
                    ("Workflows running", str(len(running))),
                    ("Workflows started", str(len(summary.triggered_workflows))),
                ]
            ),
            DividerBlock(),
            TextBlock(text="Workflows started here", style="context"),
            TextBlock(text="\n".join(f"• {line}" for line in lines)),
        ],
    )


def started_reply(started: TriggeredWorkflow) -> Reply:
    kind = display_name(started)
    text = (
        f'I\'ve started {kind} for "{started.title}". It will post its progress here; you can keep chatting meanwhile.'
    )
    return Reply(text=text, blocks=[TextBlock(text=text)])


def builtin_reply(text: str, summary: SessionSummary, started: TriggeredWorkflow | None) -> Reply:
    command = command_of(text)
    if command == "help":
        return help_reply(summary.session_id)
    if command == "status":
        return status_reply(summary)
    if started is not None:
        return started_reply(started)
    running = sum(1 for w in summary.triggered_workflows if w.status == "running")
    tail = f' {running} workflow(s) from this conversation are running; say "status" for details.' if running else ""
    reply = f'Got it (message {summary.message_count} in this conversation).{tail} Say "help" to see what I can do.'
    return Reply(text=reply)


def fallback_reply() -> Reply:
    """What the user sees when the language model failed after its retries."""
    return Reply(
        text=(
            "Sorry, I couldn't come up with an answer just now: the language model did not "
            "respond. Your message is saved in this conversation; please try again in a moment."
        )
    )


def goodbye_reply(reason: str, idle_seconds: float) -> Reply:
    if reason == "idle":
        hours = idle_seconds / 3600
        span = f"{hours:g} hours" if hours >= 1 else f"{idle_seconds:g} seconds"
        text = f"This conversation has been quiet for {span}, so I'm closing the session. Write again any time to start a new one."
    else:
        text = "Session ended. Goodbye! Write again any time to start a new one."
    return Reply(text=text, closes_session=True)


def guest_limit_reply(limit: int, hint: str) -> Reply:
    text = (
        f"You've reached the guest limit of {limit} messages in this conversation, "
        f"so I won't process more messages from you here. {hint}"
    )
    return Reply(text=text)
