"""Slack as an Adapter: enabled when a bot token (or OAuth client) and the signing secret are set."""

from __future__ import annotations

from typing import Any, ClassVar

from aiohttp import web
from pydantic import Field

from adapters.context import AdapterContext
from adapters.posted_log import PostedLog
from adapters.settings import AdapterSettings, missing
from adapters.slack.session_ids import SlackSessionIds
from workflows.activities.fetchers import Fetcher
from workflows.platform_port import ChatPlatform, SessionDispatcher
from workflows.platform_traits import PlatformTraits
from workflows.session_ids import SessionIdCodec


class SlackSettings(AdapterSettings):
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    #: Seconds after which a Slack event whose listener never finished (its gateway died) is replayed.
    slack_replay_after: float = Field(30.0, gt=0, validation_alias="THREADWORK_SLACK_REPLAY_AFTER")
    #: The app was installed with `threadwork manifest slack --agent`: agent sessions follow each turn.
    slack_agent: bool = Field(False, validation_alias="THREADWORK_SLACK_AGENT")
    #: Apps without the agent experience: a Stop button on streamed replies (docs/assistant-slack.md).
    slack_stop_button: bool = Field(False, validation_alias="THREADWORK_SLACK_STOP_BUTTON")

    @property
    def enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret) or bool(
            self.slack_client_id and self.slack_client_secret and self.slack_signing_secret
        )

    def startup_problem(self) -> str | None:
        if self.slack_client_id and not self.slack_client_secret:
            return missing("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "multi-workspace installs need both")
        if self.slack_client_secret and not self.slack_client_id:
            return missing("SLACK_CLIENT_SECRET", "SLACK_CLIENT_ID", "multi-workspace installs need both")
        has_credentials = bool(self.slack_bot_token or self.slack_client_id)
        if self.slack_bot_token and self.slack_bot_token.startswith("xapp-"):
            return (
                "SLACK_BOT_TOKEN holds an app-level token (xapp-...): put it in SLACK_APP_TOKEN, "
                "and the bot token (xoxb-...) in SLACK_BOT_TOKEN"
            )
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            return (
                "SLACK_APP_TOKEN must be an app-level token (xapp-..., scope connections:write) for Socket Mode; "
                "unset it to serve /slack/events instead"
            )
        if self.slack_app_token and not has_credentials:
            return missing("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "Socket Mode also needs the bot token to act")
        if has_credentials and not self.slack_signing_secret:
            present = "SLACK_BOT_TOKEN" if self.slack_bot_token else "SLACK_CLIENT_ID"
            return missing(
                present, "SLACK_SIGNING_SECRET", "Slack stays off without it (every request is verified with it)"
            )
        if self.slack_signing_secret and not has_credentials:
            return missing(
                "SLACK_SIGNING_SECRET",
                "SLACK_BOT_TOKEN",
                "Slack needs the bot token (or SLACK_CLIENT_ID/SECRET) to act",
            )
        return None


class SlackAdapter:
    name: ClassVar[str] = "slack"
    #: Threads under every channel post, pins, ephemeral messages, mrkdwn; channel names as Slack allows
    #: them (lowercase, digits, '-', '_'), kept to 40 characters to stay readable in the sidebar.
    traits: ClassVar[PlatformTraits] = PlatformTraits(
        name="slack", display_name="Slack", threads=True, pins=True, markup="mrkdwn"
    )
    session_ids: ClassVar[SessionIdCodec] = SlackSessionIds()
    settings_model: ClassVar[type[AdapterSettings]] = SlackSettings

    @classmethod
    def enabled(cls, settings: AdapterSettings) -> bool:
        return isinstance(settings, SlackSettings) and settings.enabled

    def __init__(self, settings: AdapterSettings, context: AdapterContext) -> None:
        assert isinstance(settings, SlackSettings)
        self.settings = settings
        self.context = context
        self._posted: PostedLog | None = None
        self._clients: Any = None  # the worker's Slack API clients (their HTTP session closes with the adapter)
        self._installations: Any = None
        #: The gateway's routes once mounted (operators and tests: which mode was chosen).
        self.routes: Any = None

    async def start(self) -> ChatPlatform:
        from adapters.slack.wiring import start_platform

        platform, self._posted, self._installations = await start_platform(self.settings, self.context.storage)
        self._clients = platform.clients
        return platform

    def mount(self, app: web.Application, dispatcher: SessionDispatcher) -> None:
        from adapters.slack.wiring import build_routes
        from workflows.registry import list_workflows

        custom = list_workflows(self.context.custom_workflows_file)
        self.routes = build_routes(self.settings, self.context.storage, self._installations, dispatcher, custom)
        self.routes.add_to(app)

    def document_fetchers(self) -> dict[str, Fetcher]:
        """Files attached in Slack are read with the bot token, from Slack's hosts only."""
        from adapters.slack.file_fetcher import SlackFileFetcher

        return {"slack": SlackFileFetcher(self.settings.slack_bot_token, self.settings.slack_api_url)}

    async def close(self) -> None:
        if self._clients is not None:
            await self._clients.close()
        if self._posted is not None:
            await self._posted.close()
