"""Print every materialised case of the evaluation set as JSON lines (for review)."""

from __future__ import annotations

import json
from dataclasses import asdict

from . import load_cases

for case in load_cases():
    print(json.dumps(asdict(case), ensure_ascii=False))
