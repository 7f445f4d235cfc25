"""How fast Stop ends a streamed turn, per platform: ``python -m bench.stop`` (docs/assistant.md)."""
