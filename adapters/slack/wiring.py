"""Builds the Slack adapter from settings: the ChatPlatform for workers, the routes for gateways."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from adapters.slack.app import SlackBot
from adapters.slack.client import SlackClients, make_client
from adapters.slack.oauth import installation_store, oauth_settings
from adapters.slack.platform import SlackPlatform
from adapters.storage.backends import Storage
from workflows.registry import list_workflows
from adapters.slack.routes import SlackRoutes

if TYPE_CHECKING:
    from bots.config import Settings
    from bots.wiring import Platforms


def build_bolt_app(settings: Settings, store=None, storage: Storage | None = None) -> AsyncApp:
    """Single workspace with SLACK_BOT_TOKEN, or OAuth installs with SLACK_CLIENT_ID/SECRET."""
    if store is not None:
        storage = storage or Storage.from_settings(settings)
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


async def setup_slack(settings: Settings, platforms: Platforms) -> SlackRoutes:
    store = None
    if settings.slack_client_id and settings.slack_client_secret:
        store = installation_store(platforms.storage, settings.slack_client_id)
    clients = SlackClients(settings.slack_api_url, settings.slack_bot_token, store)
    posted = platforms.storage.posted_log("slack")
    await posted.open()
    platforms.closers.append(posted.close)
    platform = SlackPlatform(clients, posted, agent=settings.slack_agent)
    routes = SlackRoutes(SlackBot(build_bolt_app(settings, store, platforms.storage), custom_workflows=list_workflows(settings.custom_workflows_file)), settings.slack_signing_secret or "", settings.slack_app_token)
    platform.routes = routes  # for operators and tests: which mode was chosen
    platforms.registry.register(platform)
    platforms.mounts.append(lambda app, dispatcher: routes.add_to(app, dispatcher))
    return routes
