"""Where the shared real data lives: ../shared/data beside the checkout, or CIVICTRACKER_SHARED_DATA."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A git worktree or a CI clone may sit elsewhere than beside ../shared: the variable names the folder then.
SHARED_DATA = Path(os.environ.get("CIVICTRACKER_SHARED_DATA", ROOT.parent / "shared" / "data"))
