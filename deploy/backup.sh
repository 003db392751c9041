#!/usr/bin/env bash
# Back up a Learnway PostgreSQL database to one file (pg_dump's custom format: compressed,
# restorable table by table, partitions included).
#
#   deploy/backup.sh postgresql://learnway@db:5432/learnway /backups/learnway-$(date +%F).dump
#
# The password, if any, comes from ~/.pgpass or PGPASSWORD, never from the command line.
set -euo pipefail
if [ "$#" -ne 2 ]; then
  echo "usage: $0 DATABASE_URL BACKUP_FILE" >&2
  exit 2
fi
url="${1/postgresql+psycopg:/postgresql:}"
target="$2"
partial="$target.partial"
pg_dump --format=custom --compress=6 --no-owner --file="$partial" --dbname="$url"
pg_restore --list "$partial" >/dev/null  # the archive reads back before it replaces a good one
mv "$partial" "$target"
echo "backed up to $target ($(du -h "$target" | cut -f1))"
