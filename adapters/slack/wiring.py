"""Builds the Slack adapter's parts from its settings: the ChatPlatform for workers, the routes for gateways."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from adapters.posted_log import PostedLog
from adapters.slack.app import SlackBot
from adapters.slack.client import SlackClients, make_client
from adapters.slack.oauth import installation_store, oauth_settings
from adapters.slack.platform import SlackPlatform
from adapters.slack.received_events import ReceivedEvents
from adapters.slack.routes import SlackRoutes
from adapters.storage.backends import Storage
from workflows.platform_port import SessionDispatcher
from workflows.registry import WorkflowListing

if TYPE_CHECKING:
    from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore

    from adapters.slack.adapter import SlackSettings


def build_bolt_app(settings: SlackSettings, store: AsyncInstallationStore | None, storage: Storage) -> AsyncApp:
    """Single workspace with SLACK_BOT_TOKEN, or OAuth installs with SLACK_CLIENT_ID/SECRET."""
    if store is not None and settings.slack_client_id and settings.slack_client_secret:
        return AsyncApp(
            signing_secret=settings.slack_signing_secret,
            client=make_client(settings.slack_api_url),
            oauth_settings=oauth_settings(storage, settings.slack_client_id, settings.slack_client_secret, store),
            process_before_response=False,
        )
    return AsyncApp(
        signing_secret=settings.slack_signing_secret,
        client=make_client(settings.slack_api_url, settings.slack_bot_token),
        process_before_response=False,
    )


async def start_platform(
    settings: SlackSettings, storage: Storage
) -> tuple[SlackPlatform, PostedLog, AsyncInstallationStore | None]:
    """The worker's side: API clients (one token, or OAuth installations) and the post log."""
    store = None
    if settings.slack_client_id and settings.slack_client_secret:
        store = installation_store(storage, settings.slack_client_id)
    clients = SlackClients(settings.slack_api_url, settings.slack_bot_token, store)
    posted = storage.posted_log("slack")
    await posted.open()
    platform = SlackPlatform(clients, posted, agent=settings.slack_agent, stop_button=settings.slack_stop_button)
    return platform, posted, store


def build_routes(
    settings: SlackSettings,
    storage: Storage,
    store: AsyncInstallationStore | None,
    dispatcher: SessionDispatcher,
    custom_workflows: list[WorkflowListing],
) -> SlackRoutes:
    """The gateway's side: the bolt app, its listeners handing over to ``dispatcher``, HTTP or Socket Mode routes.

    Message events are journaled before bolt acknowledges them and replayed by a live gateway when
    the one that took them died first (adapters/slack/received_events.py).
    """
    received = ReceivedEvents(storage.slack_received_journal(), settings.slack_replay_after)
    bot = SlackBot(
        build_bolt_app(settings, store, storage), dispatcher, custom_workflows=custom_workflows, received=received
    )
    return SlackRoutes(bot, settings.slack_signing_secret or "", settings.slack_app_token)
