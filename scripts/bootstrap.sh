#!/usr/bin/env bash
# One-stop set-up: Debian packages (where absent), the virtualenv with every Python dependency, and,
# for tests, the local PostgreSQL and Redis services running. Usage: scripts/bootstrap.sh [run|test]
set -euo pipefail
mode="${1:-run}"
cd "$(dirname "$0")/.."

bash scripts/install-system.sh "$mode"

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtualenv in .venv" >&2
  "$PY" -m venv .venv
fi
# The virtualenv holds exactly the pinned, hash-checked set of the lock file: requirements.lock to run,
# requirements-dev.lock (a superset) to test. `make lock` recompiles them on purpose; nothing here
# resolves versions. Reinstall only when the lock file (or the mode) changed: the stamp holds its hash.
lock=requirements.lock
[ "$mode" = "test" ] && lock=requirements-dev.lock
stamp=.venv/.civictracker-deps
want="$lock $(cat "$lock" requirements-build.in | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing Python dependencies from $lock into .venv" >&2
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r "$lock"
  # The project itself, editable, built by the pinned setuptools just installed (hashes cannot cover it).
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi

if [ "$mode" = "test" ]; then
  # The test suite needs both backends and Redis; start them if this machine has them stopped.
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "Starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -n | tail -1)" main start || true
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "Starting Redis" >&2
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  fi
fi

# The project's bytecode, written now as a non-editable install would: where PYTHONDONTWRITEBYTECODE is
# set (as on some machines) every process would otherwise compile its ~150 modules from source at start,
# about 0.5 s of each cold CLI call on a slow machine.
.venv/bin/python -m compileall -q civictracker wsgi.py >/dev/null || echo "Could not write the bytecode" >&2

# The instance folder's caches (the city's gazetteer, the language identifier; ~1.5 s to build): built
# here so that the first CLI call, request or job after set-up does not pay for them.
.venv/bin/flask --app wsgi civictracker prepare-caches >/dev/null \
  || echo "Could not build the caches now; the first process that needs them builds them" >&2
