"""threadwork benchmark: the real session path beside a raw Temporal echo floor.

Run ``.venv/bin/python -m bench.run`` (``--quick`` for a smoke run); see docs/performance.md.
"""
