"""Slack adapter: bolt AsyncApp listeners, payload mapping, Block Kit rendering, Web API posting.

Slack SDK types (slack_bolt, slack_sdk) never leave this package.
"""
