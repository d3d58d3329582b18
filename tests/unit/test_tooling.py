"""The checks behind ``make lint`` and ``make typecheck``: the lock file is current with pyproject.toml
(and the check notices when it is not), every type-ignore comment names its error code and a reason, and
no mypy setting turns errors off for a whole module."""

from __future__ import annotations

import importlib.util
import re
import shutil
import tomllib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent.parent
CODE_DIRS = ("shared", "services", "evaluation", "tests", "bench", "scripts", "devtools")


def _lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("newsflow_lock", ROOT / "scripts" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_lock_file_is_current_with_pyproject() -> None:
    assert _lock_module().check() == []


def test_the_lock_check_notices_a_new_dependency_and_a_moved_pin(tmp_path: Path) -> None:
    lock = _lock_module()
    shutil.copy(ROOT / "requirements.lock", tmp_path / "requirements.lock")
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    added = text.replace("dependencies = [\n", 'dependencies = [\n    "humanize==4.13.0",\n', 1)
    (tmp_path / "pyproject.toml").write_text(added, encoding="utf-8")
    problems = lock.check(tmp_path / "pyproject.toml", tmp_path / "requirements.lock")
    assert any("make lock" in p for p in problems) and any(p.startswith("humanize==4.13.0") for p in problems)

    moved = re.sub(r'"orjson==[^"]+"', '"orjson==0.0.1"', text)
    (tmp_path / "pyproject.toml").write_text(moved, encoding="utf-8")
    problems = lock.check(tmp_path / "pyproject.toml", tmp_path / "requirements.lock")
    assert any(p.startswith("orjson==0.0.1") for p in problems)


_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<rest>.*)$")
_WITH_REASON = re.compile(r"^\[[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*\]\s+#\s*\S")


def test_every_type_ignore_names_its_code_and_a_reason() -> None:
    bad = []
    for d in CODE_DIRS:
        for path in sorted((ROOT / d).rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if (m := _IGNORE.search(line)) and not _WITH_REASON.match(m.group("rest")):
                    bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, "write `# type: ignore[code]  # why`:\n" + "\n".join(bad)


_SILENCING = ("ignore_errors", "disable_error_code")
_INLINE_CONFIG = re.compile(r"^\s*#\s*mypy:")


def test_no_mypy_setting_silences_a_module() -> None:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert set(mypy["files"]) == set(CODE_DIRS)  # what mypy checks is what this test reads
    bad = [f"[tool.mypy] {key}" for key in _SILENCING if key in mypy]
    for override in mypy.get("overrides", []):
        bad += [f"override {override['module']}: {key}" for key in _SILENCING if key in override]
    for d in CODE_DIRS:
        for path in sorted((ROOT / d).rglob("*.py")):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _INLINE_CONFIG.match(line):
                    bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, "type the code (or one line: `# type: ignore[code]  # why`) instead of:\n" + "\n".join(bad)
