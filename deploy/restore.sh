#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into an EMPTY database (create it first:
# createdb learnway_restored), then bring its schema up to this release's migrations.
#
#   deploy/restore.sh /backups/learnway-2026-11-26.dump postgresql://learnway@db:5432/learnway_restored
#
# Refuses a database that already holds tables: restoring over live data is never what you want.
set -euo pipefail
if [ "$#" -ne 2 ]; then
  echo "usage: $0 BACKUP_FILE DATABASE_URL" >&2
  exit 2
fi
source="$1"
url="${2/postgresql+psycopg:/postgresql:}"
tables=$(psql --no-psqlrc --tuples-only --no-align --dbname="$url" \
  --command="SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
if [ "$tables" != "0" ]; then
  echo "refusing: the target database already holds $tables tables; restore into an empty one" >&2
  exit 1
fi
pg_restore --no-owner --exit-on-error --single-transaction --dbname="$url" "$source"
learnway=${LEARNWAY_COMMAND:-learnway}
"$learnway" init --database "$url"  # an older backup gains this release's migrations
echo "restored $source into the database"
