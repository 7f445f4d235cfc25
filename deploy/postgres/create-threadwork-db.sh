#!/bin/sh
# One-shot job (the postgres image, for its psql): the `threadwork` role and database that
# THREADWORK_DATABASE_URL names, beside Temporal's databases in the same PostgreSQL.
# Safe on every start: it creates what is missing and sets the role's password from the
# environment each time, so rotating THREADWORK_DB_PASSWORD is an edit of .env and a restart.
# threadwork's own tables are created by its migrations when the worker or gateway starts.
# Connection: PGHOST, PGUSER, PGPASSWORD (the PostgreSQL superuser) from the environment.
set -eu
: "${PGHOST:?}" "${PGUSER:?}" "${PGPASSWORD:?}" "${THREADWORK_DB_PASSWORD:?}"

psql -X -q -v ON_ERROR_STOP=1 -v password="$THREADWORK_DB_PASSWORD" --dbname postgres <<'SQL'
SELECT 'CREATE ROLE threadwork' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'threadwork')\gexec
ALTER ROLE threadwork WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
SELECT 'CREATE DATABASE threadwork OWNER threadwork' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'threadwork')\gexec
REVOKE ALL ON DATABASE threadwork FROM PUBLIC;
SQL
echo "database threadwork ready (role threadwork)"
