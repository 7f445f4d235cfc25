"""Benchmarks of the Slack and Teams paths, end to end over HTTP (``python -m bench.platforms``)."""
