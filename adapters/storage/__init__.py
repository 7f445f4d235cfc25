"""Where shared state lives: SQLite files in the data dir (default) or PostgreSQL (THREADWORK_DATABASE_URL)."""


class StoreUnavailable(Exception):
    """The shared database cannot be reached right now (an outage, not a bug); the message says why."""
