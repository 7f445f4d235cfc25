"""Slash commands: ``/threadwork help|status|end|workflows|run`` and ``/incident <title>``.

Each command calls ``ack`` first (Slack wants an answer within 3 seconds) and does
anything slower afterwards, answering through ``respond`` (the command's response_url)
or in the conversation. Slash commands cannot be used in threads, so they act on the
channel's top-level conversation: ``slack:{team}:{channel}:dm`` (in a DM, that is the
DM's session); ``/incident`` in a channel opens a new thread for the incident instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import escape
from adapters.slack.incident_events import on_incident_subcommand
from adapters.slack.mapping import DM_THREAD
from adapters.user_notice import UNAVAILABLE_TEXT
from workflows.builtin_children import BUILTIN_CHILDREN
from workflows.contracts import ActionEvent, ConversationKey, SessionState, TriggerRequest
from workflows.platform_port import Delivery
from workflows.registry import WorkflowListing

if TYPE_CHECKING:
    from slack_bolt.context.ack.async_ack import AsyncAck
    from slack_bolt.context.respond.async_respond import AsyncRespond

    from adapters.slack.app import SlackBot

log = logging.getLogger(__name__)

USAGE = (
    "*/threadwork help* - what I can do\n"
    "*/threadwork status* - this conversation's session\n"
    "*/threadwork end* - end this conversation's session\n"
    "*/threadwork workflows* - the workflows I can start\n"
    "*/threadwork run <name> [text]* - start one of them\n"
    "*/incident <title>* - declare an incident"
)
HELP = (
    "I'm threadwork: every thread with me is a durable session. Mention me in a channel to start one "
    "(I answer in the thread, and follow-ups in that thread need no mention), or write to me directly.\n" + USAGE
)
NO_SESSION_TO_END = 'There is no session here to end. To end a thread\'s session, say "end" in that thread.'
INCIDENT_USAGE = "Usage: /incident <title>, for example: /incident checkout is failing"


def command_key(command: dict[str, Any]) -> ConversationKey:
    return ConversationKey(
        platform="slack", workspace=command.get("team_id", ""), channel=command.get("channel_id", ""), thread=DM_THREAD
    )


def workflows_text(custom: list[WorkflowListing]) -> str:
    lines = [f"• {spec.display_name} ({spec.workflow_type})" for spec in BUILTIN_CHILDREN]
    for wf in custom:
        said = f'; or say "{wf.triggers[0]}"' if wf.triggers else ""
        hook = f"; webhook {wf.webhook_path}" if wf.webhook_path else ""
        lines.append(f"• {wf.name} ({wf.workflow_type}): {wf.description} Start: /threadwork run {wf.name}{said}{hook}")
    return (
        "Workflows I can start:\n" + "\n".join(lines) + "\n"
        'Start incident response with /incident <title> or by saying "we have an incident: ..."; '
        'document processing by sharing a file or a link with "summarize".'
    )


def status_text(state: SessionState | None) -> str:
    if state is None:
        return (
            "There is no session at the top level of this conversation. Every thread with me is its own "
            'session: say "status" in that thread, or use its Status button.'
        )
    running = [w for w in state.triggered_workflows if w.status == "running"]
    lines = [f'• {w.workflow_type} "{w.title}" ({w.status}) [{w.workflow_id}]' for w in state.triggered_workflows]
    return (
        f"Session {state.session_id} is {'active' if state.is_active else 'ended'}: {state.message_count} messages, "
        f"{len(state.participants)} participant(s), {len(running)} workflow(s) running."
        + ("\n" + "\n".join(lines) if lines else "")
    )


def register_commands(app: AsyncApp, bot: SlackBot) -> None:
    @app.command("/threadwork")
    async def threadwork(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        words = (command.get("text") or "").split()
        sub = words[0].lower() if words else "help"
        key = command_key(command)
        if sub == "help":
            await ack(text=HELP, response_type="ephemeral")
        elif sub == "workflows":
            await ack(text=workflows_text(bot.custom_workflows), response_type="ephemeral")
        elif sub == "run":
            await run_workflow(bot, command, words[1:], ack, respond, client)
        elif sub == "status":
            await ack()
            try:
                text = status_text(await bot.sessions.session_state(key.session_id()))
            except Exception:  # Temporal unreachable: say so rather than nothing
                log.exception("status of %s failed", key.session_id())
                text = UNAVAILABLE_TEXT
            await respond(text=text, response_type="ephemeral")
        elif sub == "end":
            await ack()  # first: the lookups below talk to Temporal
            if not await bot.sessions.has_session(key.session_id()):
                await respond(text=NO_SESSION_TO_END, response_type="ephemeral")
                return
            actor = await bot.actors.actor(client, key.workspace, command.get("user_id", ""))
            result = await bot.sessions.act(
                key.session_id(), ActionEvent(key=key, actor=actor, action_id="session.end")
            )
            await respond(text=result.ephemeral or "Ending this conversation's session…", response_type="ephemeral")
        else:
            await ack(text=f"I don't know /threadwork {escape(sub)}.\n{USAGE}", response_type="ephemeral")

    @app.command("/incident")
    async def incident(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        if await on_incident_subcommand(bot, command, ack, client):
            return
        title = " ".join((command.get("text") or "").split())
        if not title:
            await ack(text=INCIDENT_USAGE, response_type="ephemeral")
            return
        await ack(text=f'Declaring incident "{escape(title)}"…', response_type="ephemeral")
        await start_in_thread(
            bot,
            command,
            client,
            respond,
            announce=f"declared an incident: *{escape(title)}*",
            request=TriggerRequest(workflow_type="IncidentWorkflow", title=title),
        )


async def run_workflow(
    bot: SlackBot,
    command: dict[str, Any],
    words: list[str],
    ack: AsyncAck,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    """``/threadwork run NAME [text]``: start a registered custom workflow in a new thread."""
    names = {wf.name: wf for wf in bot.custom_workflows}
    if not words or words[0] not in names:
        known = ", ".join(sorted(names)) or "none are registered"
        asked = f" {escape(words[0])}" if words else ""
        await ack(
            text=f"I can't run{asked}: name one of the registered workflows ({known}).", response_type="ephemeral"
        )
        return
    wf, text = names[words[0]], " ".join(words[1:])
    await ack(text=f"Starting {escape(wf.name)}…", response_type="ephemeral")
    await start_in_thread(
        bot,
        command,
        client,
        respond,
        announce=f"started {escape(wf.name)}" + (f": {escape(text)}" if text else ""),
        request=TriggerRequest(workflow_type=wf.name, title=text or wf.name, args={"text": text}),
    )


async def start_in_thread(
    bot: SlackBot,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    *,
    announce: str,
    request: TriggerRequest,
) -> None:
    """Post an anchor message in the channel and start the workflow from that new thread's session.

    (In a DM the workflow starts from the DM's own session.)
    """
    user = command.get("user_id", "")
    key = command_key(command)
    actor = await bot.actors.actor(client, key.workspace, user)
    if not key.channel.startswith("D"):
        try:
            anchor = await client.chat_postMessage(channel=key.channel, text=f"<@{user}> {announce}")
        except SlackApiError as err:
            reason = err.response.get("error", "") if isinstance(err.response.data, dict) else ""
            hint = " Invite me first: /invite @threadwork" if reason in ("not_in_channel", "channel_not_found") else ""
            await respond(text=f"I couldn't start that here ({reason}).{hint}", response_type="ephemeral")
            return
        except (SlackClientError, OSError) as err:
            await respond(text=f"I couldn't reach Slack to start that: {err}", response_type="ephemeral")
            return
        key = key.model_copy(update={"thread": anchor["ts"]})
    request = request.model_copy(
        update={"actor": actor, "request_id": f"{command.get('channel_id')}:{command.get('trigger_id', '')}"}
    )
    result = await bot.sessions.trigger(key, request)
    if result.status == Delivery.UNAVAILABLE:
        await respond(text=UNAVAILABLE_TEXT, response_type="ephemeral")
