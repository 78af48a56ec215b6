#!/usr/bin/env bash
# Install the Debian packages civictracker needs, only where they are absent.
# Usage: scripts/install-system.sh [run|test]
#   run  -> SpatiaLite (embedded default)
#   test -> also PostGIS for the local PostgreSQL, Redis server and Chromium for browser tests
set -euo pipefail
mode="${1:-run}"
pkgs=(libsqlite3-mod-spatialite)
if [ "$mode" = "test" ]; then
  pg_major=""
  if command -v pg_config >/dev/null 2>&1; then pg_major="$(pg_config --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')"; fi
  if [ -z "$pg_major" ] && [ -d /etc/postgresql ]; then pg_major="$(ls /etc/postgresql | sort -n | tail -1)"; fi
  pkgs+=("postgresql-${pg_major:-15}-postgis-3" redis-server chromium)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
