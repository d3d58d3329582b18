"""The rooms' import rules (``[tool.importlinter]`` in pyproject.toml, also in ``make lint``) hold, and
would catch an upward import: the same contracts on a copy of the tree with one bad import added fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_tree_keeps_every_import_contract() -> None:
    r = _lint_imports(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        ("shared/codec.py", "import services.ingest.errors", "shared never imports the services"),
        ("services/enrich/stories.py", "import services.ingest.fingerprint", "never import each other"),
        ("services/publish/routing.py", "import services.enrich.stories", "never import each other"),
        ("services/enrich/enrichers/dateline.py", "from .. import handler", "enrichers write fields"),
        ("services/enrich/enrichers/summary.py", "from . import keywords", "each enricher is independent"),
        ("services/enrich/analysis/doc.py", "from ..enrichers import base", "analysis layer is below the fields"),
        ("services/enrich/stories.py", "from .enrichers import entities", "story index reads the analysis layer"),
        ("services/ingest/handler.py", "from . import bootstrap", "app -> bootstrap -> handler"),
        ("services/ingest/parsing.py", "import redis", "ingest's parsing"),
        ("services/ingest/dedup.py", "import evaluation.neardup", "never import evaluation, bench or tests"),
        ("shared/codec.py", "import tests.kafkautil", "never import evaluation, bench or tests"),
        ("evaluation/enrich_eval.py", "import tests.conftest", "the benchmarks never import the tests"),
        ("bench/quality.py", "from tests.eval import test_conll_quality", "the benchmarks never import the tests"),
        ("evaluation/conll_eval.py", "import bench.quality", "the evaluation sets never import the benchmarks"),
        ("services/publish/api.py", "from devtools import embedded", "never imports the dev and test tooling"),
        ("shared/kafka.py", "import devtools.scram_gate", "never imports the dev and test tooling"),
    ],
)
def test_an_upward_import_breaks_a_contract(tmp_path: Path, module: str, bad_import: str, contract: str) -> None:
    for room in ("shared", "services", "evaluation", "bench", "tests", "devtools"):
        shutil.copytree(ROOT / room, tmp_path / room, ignore=shutil.ignore_patterns("__pycache__", "*.yaml"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{bad_import}  # noqa\n", encoding="utf-8")
    r = _lint_imports(tmp_path)
    assert r.returncode != 0
    broken = [line for line in r.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken) or contract in r.stdout.split("Broken contracts")[-1], r.stdout
