"""Wrong passwords against `gunicorn -w 4` with the limits in Redis: how many were actually checked.

Run: .venv/bin/python bench/bench_login_limit.py [--attempts 60] [--accounts 1]
Starts gunicorn (4 workers) on a scratch SQLite database with CIVICTRACKER_REDIS_URL set to the test Redis
(CIVICTRACKER_TEST_REDIS_URL, a queue name of its own), fires the attempts from 8 threads, and counts 401
(the password was checked) and 429 (refused by the limit). Target: checked <= the configured limit
(CIVICTRACKER_LOGIN_RATE_LIMIT, 10) for one account; <= 3x it across many accounts from one address.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def _attempt(base: str, email: str) -> int:
    session = requests.Session()
    page = session.get(f"{base}/auth/login", timeout=30).text
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    data = {"email": email, "password": "not-the-password", "csrf_token": match.group(1) if match else ""}
    return session.post(f"{base}/auth/login", data=data, timeout=30, allow_redirects=False).status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=60)
    parser.add_argument("--accounts", type=int, default=1, help="spread the attempts over this many accounts")
    parser.add_argument("--port", type=int, default=8391)
    opts = parser.parse_args()
    redis_url = os.environ.get("CIVICTRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CIVICTRACKER_DATABASE_URL": f"sqlite:///{tmp}/login.sqlite",
            "CIVICTRACKER_INSTANCE_PATH": f"{tmp}/instance",
            "CIVICTRACKER_SECRET_KEY": "bench-secret",
            "CIVICTRACKER_REDIS_URL": redis_url,
            "CIVICTRACKER_QUEUE_NAME": f"bench-login-{uuid.uuid4().hex[:8]}",
        }
        flask = [str(VENV_BIN / "flask"), "--app", "wsgi", "civictracker"]
        subprocess.run([*flask, "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
        for i in range(opts.accounts):
            subprocess.run(
                [*flask, "create-user", f"user{i}@example.org", "--password", "the-right-password-1"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
        server = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{opts.port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{opts.port}"
        try:
            for _ in range(300):
                try:
                    requests.get(f"{base}/auth/login", timeout=2)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            emails = [f"user{i % opts.accounts}@example.org" for i in range(opts.attempts)]
            with ThreadPoolExecutor(8) as pool:
                codes = Counter(pool.map(lambda e: _attempt(base, e), emails))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"gunicorn -w 4, {opts.attempts} wrong passwords over {opts.accounts} account(s) from one address:")
    print(
        f"  checked (401): {codes.get(401, 0)}   refused by the limit (429): {codes.get(429, 0)}   other: "
        f"{ {c: n for c, n in codes.items() if c not in (401, 429)} }"
    )


if __name__ == "__main__":
    main()
