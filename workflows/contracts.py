"""Typed messages that cross every boundary: platform adapter <-> gateway <-> workflow.

Everything here is plain data (pydantic) so it travels through Temporal with
``workflows.data_converter`` (pydantic JSON) and never carries a platform SDK object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows import session_ids
from workflows.platform_traits import PlatformTraits
from workflows.tools.models import ToolCallRecord, ToolsConfig

#: A platform's name, as its adapter registers it (workflows/session_ids.py); ids start with it.
Platform = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]

#: Longest message text accepted anywhere (adapters answer 400 / refuse beyond it).
MAX_MESSAGE_CHARS = 40_000

#: How long a Slack/Teams post or update is retried before it counts as undelivered
#: (THREADWORK_PLATFORM_RETRY_WINDOW); travels in workflow inputs so replays see the same value.
DEFAULT_PLATFORM_RETRY_WINDOW = 3600.0


class ConversationKey(BaseModel):
    """Where a conversation lives. ``thread`` is None for channel-level keys."""

    platform: Platform
    workspace: str = ""
    channel: str
    thread: str | None = None

    def session_id(self) -> str:
        """The workflow id of this conversation's ChatSessionWorkflow, by the codec its adapter registered
        (workflows/session_ids.py); an unregistered platform raises UnknownPlatform."""
        return session_ids.session_id(self)

    @classmethod
    def from_session_id(cls, session_id: str) -> ConversationKey:
        """Inverse of session_id(); raises ValueError for an unknown shape (UnknownPlatform for an unknown platform)."""
        return session_ids.parse_session_id(session_id)


class CreatedChannel(ConversationKey):
    """What create_channel answers: the new conversation and the name the platform really gave it."""

    name: str = ""

    def key(self) -> ConversationKey:
        return ConversationKey(
            platform=self.platform, workspace=self.workspace, channel=self.channel, thread=self.thread
        )


class Actor(BaseModel):
    id: str
    name: str = ""
    is_guest: bool = False
    is_bot: bool = False


class FileRef(BaseModel):
    """A document attached to a message or named by an event (fetched by an activity)."""

    name: str
    url: str = ""
    mimetype: str = ""
    size: int | None = None
    source: str = "url"  # url | slack | teams | webchat | s3 | azure_blob | sharepoint


class ChatMessage(BaseModel):
    key: ConversationKey
    actor: Actor
    text: str
    message_id: str
    files: list[FileRef] = Field(default_factory=list)
    ts: datetime | None = None
    #: Platform data an adapter needs to answer later (e.g. a serialized Teams
    #: ConversationReference). Opaque to the workflow core.
    reply_context: dict[str, Any] | None = None


# ---- links inside reply text (each adapter renders them) --------------------

#: ``⟦conv:{session id of the key}|{label}⟧`` and ``⟦user:{user id}|{label}⟧`` inside Reply text
#: and blocks. Slack renders ``<#C…>`` / ``<@U…>``, Teams a deep link, the web chat a link that
#: opens the channel or thread; ``plain_links`` is the fallback (``#label`` / ``@label``).
LINK_TOKEN = re.compile(r"\u27e6(conv|user):([^|\u27e7]*)\|([^\u27e7]*)\u27e7")


def _label(text: str) -> str:
    return text.replace("|", "/").replace("\u27e7", ")").replace("\n", " ")


def conversation_link(key: ConversationKey, label: str) -> str:
    """Text that names a conversation (a channel, or a thread when ``key.thread`` is set) as a link."""
    return f"\u27e6conv:{key.session_id()}|{_label(label)}\u27e7"


def user_mention(actor: Actor | None) -> str:
    """Text that names a user as a mention where the platform has them."""
    if actor is None:
        return "unassigned"
    return f"\u27e6user:{_label(actor.id)}|{_label(actor.name or actor.id)}\u27e7"


def render_links(
    text: str,
    conversation: Callable[[ConversationKey, str], str],
    user: Callable[[str, str], str],
) -> str:
    """``text`` with each link token replaced by what ``conversation(key, label)`` / ``user(id, label)`` return."""

    def one(m: re.Match[str]) -> str:
        kind, target, label = m.group(1), m.group(2), m.group(3)
        if kind == "user":
            return user(target, label)
        try:
            key = ConversationKey.from_session_id(target)
        except ValueError:
            return f"#{label}"
        return conversation(key, label)

    return LINK_TOKEN.sub(one, text)


def plain_links(text: str) -> str:
    """The plain-text fallback: ``#label`` for conversations, ``@label`` for users."""
    return LINK_TOKEN.sub(lambda m: ("#" if m.group(1) == "conv" else "@") + m.group(3), text)


# ---- platform-neutral reply blocks (each adapter renders them) -------------


class TextBlock(BaseModel):
    type: Literal["text"] = "text"
    text: str
    style: Literal["plain", "heading", "context"] = "plain"


class FieldsBlock(BaseModel):
    type: Literal["fields"] = "fields"
    fields: list[tuple[str, str]]


class Button(BaseModel):
    label: str
    action_id: str
    value: str = ""
    #: Workflow that receives the click as an ActionEvent update.
    workflow_id: str
    style: Literal["default", "primary", "danger"] = "default"


class ButtonsBlock(BaseModel):
    type: Literal["buttons"] = "buttons"
    buttons: list[Button]


class DividerBlock(BaseModel):
    type: Literal["divider"] = "divider"


Block = Annotated[TextBlock | FieldsBlock | ButtonsBlock | DividerBlock, Field(discriminator="type")]


class Reply(BaseModel):
    """What the bot says. ``text`` is always set: it is the fallback of every rendering."""

    text: str
    blocks: list[Block] = Field(default_factory=list)
    #: The session's last reply (its goodbye): a platform with session status (Slack agent sessions) closes it.
    closes_session: bool = False


class MessageRef(BaseModel):
    """Enough for an adapter to update or thread under a message it posted."""

    key: ConversationKey
    message_id: str
    extra: dict[str, Any] = Field(default_factory=dict)


class ActionEvent(BaseModel):
    key: ConversationKey
    actor: Actor
    action_id: str
    value: str = ""
    message_ref: MessageRef | None = None
    event_id: str = ""


class ActionResult(BaseModel):
    """How the adapter answers a click.

    ``ephemeral`` goes privately to the clicker. ``update`` is the clicked message as
    it is now: workflows already update their messages durably through the platform
    activities, so only protocols whose click response carries the new message
    (a Teams invoke response) use it.
    """

    update: Reply | None = None
    ephemeral: str | None = None
    #: What a typed command (``incident approve …``) answers publicly in its thread: the outcome,
    #: with a link to where the buttons are. Clicks ignore it.
    notice: str | None = None


# ---- session state ----------------------------------------------------------


class HistoryEntry(BaseModel):
    role: Literal["user", "assistant", "system"]
    actor: str
    text: str
    ts: datetime


class TriggeredWorkflow(BaseModel):
    workflow_id: str
    workflow_type: str
    status: str = "running"
    started_at: datetime
    title: str = ""
    #: What replies call it ("incident response"); empty in states recorded before ChildSpec.
    display_name: str = ""


class Participant(BaseModel):
    id: str
    name: str = ""
    is_guest: bool = False
    message_count: int = 0


class TriggerRule(BaseModel):
    """One operator rule: any of ``patterns`` (regexes, case-insensitive) starts ``workflow``."""

    name: str
    workflow: str
    patterns: list[str] = Field(default_factory=list)
    on_files: bool = False
    #: Severity guess for incidents: first matching entry wins, e.g. {"SEV1": ["critical", "sev1"]}.
    severity: dict[str, list[str]] = Field(default_factory=dict)


class ChildEntry(BaseModel):
    """One child workflow a session may start: the serializable part of a ChildSpec
    (workflows/childspec.py), carried in SessionConfig so replays never read worker state."""

    workflow_type: str
    #: The id segment: ``{session}/{kind}/{n}``.
    kind: str
    display_name: str = ""
    #: Short names for a start by name (``deploy-approval``).
    aliases: list[str] = Field(default_factory=list)
    #: Operator options, merged under each start's args.
    args: dict[str, Any] = Field(default_factory=dict)
    #: ``module:Class`` of the child's SessionHooks, or None.
    hooks: str | None = None


class SessionConfig(BaseModel):
    """Settings a session needs, fixed at start so the workflow stays deterministic.

    Frozen: sessions with equal configs share one object in a worker (workflows/shared_config.py).
    """

    model_config = ConfigDict(frozen=True)

    guest_message_limit: int = 3
    idle_timeout_seconds: float = 86_400
    max_turns_per_run: int = 10
    history_limit: int = 50
    dedupe_window: int = 200
    upgrade_hint: str = "Ask a workspace admin to make you a full member for unlimited messages."
    #: The child workflows this session may start (empty: the built-ins, as sessions started
    #: before this field existed; workflows/children.py).
    children: list[ChildEntry] = Field(default_factory=list)
    #: Operator settings for children, by workflow type, as sessions started before ``children``
    #: carried them; merged under each child's args.
    child_args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Seconds a refused (5xx, 429, network) Slack/Teams post is retried before it is given up.
    platform_retry_window_seconds: float = DEFAULT_PLATFORM_RETRY_WINDOW
    #: The model's tools (workflows/tools/): set when a language model is configured.
    tools: ToolsConfig | None = None
    #: Every configured platform's traits, by name (empty in inputs recorded before they travelled:
    #: workflows.platform_traits.LEGACY_TRAITS then says what those inputs meant).
    platforms: dict[str, PlatformTraits] = Field(default_factory=dict)
    #: The built-in responder streams its replies (status, chunks, Stop) like a model's, to show the
    #: assistant experience without a model; off: they are posted whole at once (the fast path).
    stream_builtin: bool = False


class Undelivered(BaseModel):
    """A post or update the platform never accepted: shown by ``threadwork sessions show``."""

    at: datetime
    conversation: str
    what: str  # "post" | "update"
    text: str  # the start of the reply
    reason: str


#: How many undelivered entries a session or child keeps (the newest).
UNDELIVERED_KEPT = 20


FEEDBACK_KEPT = 100


class Feedback(BaseModel):
    """One person's rating of one bot message (a feedback button; a second click replaces the first)."""

    at: datetime
    actor_id: str
    actor: str = ""
    rating: Literal["positive", "negative"]
    message_id: str = ""


class SessionState(BaseModel):
    """Everything a session carries across continue-as-new."""

    session_id: str
    key: ConversationKey
    platform: Platform
    message_count: int = 0
    is_active: bool = True
    participants: dict[str, Participant] = Field(default_factory=dict)
    history: list[HistoryEntry] = Field(default_factory=list)
    triggered_workflows: list[TriggeredWorkflow] = Field(default_factory=list)
    recent_message_ids: list[str] = Field(default_factory=list)
    created_at: datetime | None = None
    last_message_at: datetime | None = None
    runs: int = 1
    reply_context: dict[str, Any] | None = None
    #: Replies the platform never accepted (newest last, at most UNDELIVERED_KEPT).
    undelivered: list[Undelivered] = Field(default_factory=list)
    #: The model's tool calls (newest last, at most TOOL_CALLS_KEPT): ``threadwork sessions show``.
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    #: Ratings of the bot's answers (feedback buttons; newest last, at most FEEDBACK_KEPT).
    feedback: list[Feedback] = Field(default_factory=list)


class SessionInput(BaseModel):
    key: ConversationKey
    config: SessionConfig = Field(default_factory=SessionConfig)
    state: SessionState | None = None


class TriggerRequest(BaseModel):
    """Start a named child explicitly (signal trigger_workflow, slash commands)."""

    workflow_type: str
    title: str = ""
    actor: Actor | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    request_id: str = ""


class ChildStatus(BaseModel):
    workflow_id: str
    status: str


class SessionSummary(BaseModel):
    """Read-only view for replies (what the responder gets instead of the whole state)."""

    session_id: str
    message_count: int
    participants: int
    triggered_workflows: list[TriggeredWorkflow]
    history: list[HistoryEntry]


class WorkflowStart(BaseModel):
    """A decision to start a child workflow (from triggers or an explicit request)."""

    workflow_type: str
    title: str
    severity: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class ChildWorkflowInput(BaseModel):
    """What every child started from a conversation gets: where it came from and why."""

    origin: ConversationKey
    session_id: str
    title: str
    severity: str | None = None
    requested_by: Actor | None = None
    origin_message_id: str = ""
    origin_context: dict[str, Any] | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    #: The session's (or the events starter's) THREADWORK_PLATFORM_RETRY_WINDOW.
    platform_retry_window_seconds: float = DEFAULT_PLATFORM_RETRY_WINDOW
    #: The session's (or the events starter's) platform traits, as in SessionConfig.platforms.
    platforms: dict[str, PlatformTraits] = Field(default_factory=dict)
