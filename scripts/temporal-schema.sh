#!/bin/sh
# Creates and upgrades Temporal's two PostgreSQL databases (temporal, temporal_visibility) with the
# schema tool. Idempotent: on an up-to-date database every step is a no-op. docker-compose.yml's
# temporal-schema service and `npm run start:cluster` (src/dev/cluster.ts) both run this script.
#
#   TEMPORAL_SQL_TOOL  the schema tool (default temporal-sql-tool, as in temporalio/admin-tools)
#   SCHEMA_DIR         the server's schema/ directory (default /etc/temporal/schema, as in the image)
#   POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, SQL_PASSWORD   where PostgreSQL is (compose's names)
set -eu
TOOL=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
SCHEMA=${SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12
tool() { "$TOOL" --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"; }
for db in temporal temporal_visibility; do
  # "create" fails when the database exists: that is the no-op case.
  tool --db "$db" create >/dev/null 2>&1 || true
done
tool --db temporal setup-schema -v 0.0
tool --db temporal update-schema -d "$SCHEMA/temporal/versioned"
tool --db temporal_visibility setup-schema -v 0.0
tool --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
echo 'temporal schemas are up to date'
