"""`flask civictracker prepare-caches` builds the instance folder's caches that a first call would build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_prepare_caches_builds_the_gazetteer_and_language_caches(tmp_path: Path) -> None:
    # A process of its own: the language identifier is loaded once per process, so in the test process
    # another test may have loaded it already (with no cache folder).
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CIVICTRACKER_INSTANCE_PATH": str(tmp_path)}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "civictracker", "prepare-caches"]
    done = subprocess.run(flask, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    names = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert any(n.startswith("cambridge_ma-") and n.endswith(".pickle") for n in names), names
    assert any(n.startswith("py3langid_") for n in names), names
    assert "Caches ready" in done.stdout
