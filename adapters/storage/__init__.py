"""Where shared state lives: SQLite files in the data dir (default) or PostgreSQL (THREADWORK_DATABASE_URL)."""
