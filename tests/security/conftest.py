"""Security test fixtures: the admin and API apps on the test database, users of each role, API keys."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "delivery"))
