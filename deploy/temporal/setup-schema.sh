#!/bin/sh
# One-shot job (temporalio/admin-tools): create Temporal's two databases and bring their
# schemas to this admin-tools version. Safe on every start: existing databases are kept and
# only pending schema versions are applied, which is also how a Temporal upgrade migrates
# (docs/deployment.md). The password comes from SQL_PASSWORD in the environment.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
schema_dir=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  dir=${pair#*:}
  echo "schema: $db"
  sql_tool --db "$db" create
  sql_tool --db "$db" setup-schema -v 0.0
  sql_tool --db "$db" update-schema -d "$schema_dir/$dir/versioned"
done
echo "schema: done"
