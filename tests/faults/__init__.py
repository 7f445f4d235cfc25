"""Fault tests: each case of issue 9, bounded in time, with its figure (docs/reliability.md)."""
