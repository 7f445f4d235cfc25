"""The built-in web chat: the default channel that needs no Slack or Teams account."""
