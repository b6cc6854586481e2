#!/usr/bin/env bash
# bench/lb/run.sh [--duration SECONDS] [--rate N]
#
# Two Accord hubs (`accord serve`, production mode, one shared hub key) on one fresh PostgreSQL
# database behind HAProxy configured by bench/lb/haproxy.cfg; drives real traffic through the
# balancer, stops one hub half-way and checks that the balancer routes around it. Installs
# HAProxy from Debian's packages when it is missing (needs root). Cleans up everything it started.
# The work is done by bench/lb/check.ts; see docs/operator.md section 7.
#
# DATABASE_URL: the PostgreSQL server to use (default postgres://postgres@127.0.0.1:5432/postgres);
# a database accord_lb_<random> is created there and dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v haproxy >/dev/null 2>&1; then
  echo "haproxy not found: installing it from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
fi
echo "using $(haproxy -v | head -n 1)" >&2

base_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d "${TMPDIR:-/tmp}/accord-lb.XXXXXX")"
cleanup() {
  local status=$?
  # check.ts stops what it starts and drops its database; this only catches what a check killed
  # half-way left behind (it keeps $work/pids and $work/database up to date).
  if [[ -s "$work/pids" ]]; then
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$work/pids"
  fi
  if [[ -s "$work/database" ]]; then
    psql "$base_url" -qc "drop database if exists \"$(cat "$work/database")\" with (force)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ACCORD_LB_WORK="$work" DATABASE_URL="$base_url" node --import tsx bench/lb/check.ts "$@"
