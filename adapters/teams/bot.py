"""The Teams bot: messages go to the conversation's session, card clicks to their workflow."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from msrest.serialization import Model

from adapters.teams.cards import error_card, render_card
from adapters.teams.mapping import MemberDirectory, action_event, card_data, chat_message
from adapters.teams.platform import TeamsPlatform
from adapters.teams.references import key_of, tenant_of
from adapters.user_notice import Notice, deliver_and_tell
from workflows.contracts import MAX_MESSAGE_CHARS, ActionResult
from workflows.platform_port import PlatformError, SessionDispatcher

log = logging.getLogger(__name__)

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"


def click_allowed(workflow_id: str, tenant: str) -> bool:
    """A click may only drive workflows of its own tenant's Teams conversations."""
    return workflow_id.startswith(f"teams:{tenant}:")


class ThreadworkTeamsBot(TeamsActivityHandler):
    def __init__(
        self, dispatcher: SessionDispatcher, platform: TeamsPlatform, members: MemberDirectory | None = None
    ) -> None:
        self.dispatcher = dispatcher
        self.platform = platform
        self.members = members or MemberDirectory()

    async def _say_privately(self, turn_context: TurnContext, text: str) -> None:
        """In a personal chat a reply is private; elsewhere it goes to a 1:1 chat with the clicker."""
        activity = turn_context.activity
        if (activity.conversation.conversation_type or "personal") == "personal":
            await turn_context.send_activity(MessageFactory.text(text))
            return
        try:
            await self.platform.send_private(key_of(activity), activity.from_property.id, text)
        except PlatformError as err:
            log.warning("could not tell %s privately: %s", activity.from_property.id, err)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        data = card_data(activity.value)
        if data is not None:  # an Action.Submit (the fallback of Action.Execute)
            result = await self._act(turn_context, data)
            if result.ephemeral:
                await self._say_privately(turn_context, result.ephemeral)
            return
        if not activity.id:
            await turn_context.send_activity(MessageFactory.text("I can't take a message without an id."))
            return
        actor = await self.members.actor(turn_context, tenant_of(activity))
        msg = chat_message(activity, actor)
        if not msg.text and not msg.files:
            await turn_context.send_activity(MessageFactory.text('Say "help" to see what I can do.'))
            return
        if len(msg.text) > MAX_MESSAGE_CHARS:
            await turn_context.send_activity(
                MessageFactory.text(f"That message is {len(msg.text)} characters; I take at most {MAX_MESSAGE_CHARS}.")
            )
            return

        async def tell(notice: Notice) -> None:
            if notice.private:
                await self._say_privately(turn_context, notice.text)
            else:
                await turn_context.send_activity(MessageFactory.text(notice.text))

        await deliver_and_tell(self.dispatcher, msg, tell)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name == "adaptiveCard/action":
            return await self._card_action(turn_context)
        return await super().on_invoke_activity(turn_context)

    async def _card_action(self, turn_context: TurnContext) -> InvokeResponse:
        """Action.Execute: the workflow's answer goes back in the invoke response."""
        value = turn_context.activity.value
        action = value.get("action") if isinstance(value, dict) else None
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            return _answer(
                HTTPStatus.BAD_REQUEST, ERROR_TYPE, {"code": "BadRequest", "message": "not an Action.Execute"}
            )
        data = card_data(action.get("data"))
        if data is None:
            message = "this action carries no threadwork workflow and action"
            return _answer(HTTPStatus.BAD_REQUEST, ERROR_TYPE, {"code": "BadRequest", "message": message})
        result = await self._act(turn_context, data)
        if result.ephemeral:
            return _answer(HTTPStatus.OK, CARD_TYPE, error_card(result.ephemeral))
        if result.update is not None:
            return _answer(HTTPStatus.OK, CARD_TYPE, render_card(result.update))
        return _answer(HTTPStatus.OK, MESSAGE_TYPE, "Done.")

    async def _act(self, turn_context: TurnContext, data: dict[str, Any]) -> ActionResult:
        activity = turn_context.activity
        tenant = tenant_of(activity)
        workflow_id = data["workflow_id"]
        if not click_allowed(workflow_id, tenant):
            log.warning("refused a click for %s from tenant %s", workflow_id, tenant)
            return ActionResult(ephemeral="This button belongs to another organization's conversation.")
        actor = await self.members.actor(turn_context, tenant)
        event = action_event(activity, actor, data)
        log.info("click %s on %s by %s in %s", event.action_id, workflow_id, actor.id, key_of(activity).session_id())
        return await self.dispatcher.act(workflow_id, event)


class _InvokeBody(Model):
    """The adaptiveCard/action response body (the SDK's model types ``value`` as a dict only)."""

    _attribute_map = {  # noqa: RUF012 - msrest reads this per class, as its Model declares it (no ClassVar)
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, *, status_code: int, type: str, value: Any) -> None:
        super().__init__()
        self.status_code = status_code
        self.type = type
        self.value = value


def _answer(status: HTTPStatus, kind: str, value: Any) -> InvokeResponse:
    return InvokeResponse(status=int(status), body=_InvokeBody(status_code=int(status), type=kind, value=value))
