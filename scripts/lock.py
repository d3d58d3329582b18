"""The lock file: ``requirements.lock`` pins every package ``make install`` installs.

``python scripts/lock.py`` (``make lock``) writes it from ``pyproject.toml`` with ``uv pip compile``
(the dependencies and the ``dev`` extra, for every platform and Python the project supports). Pins
already in the lock are kept unless ``pyproject.toml`` needs them changed, so running it again after
adding a dependency changes only what that dependency brings in. The first line records a hash of the
dependency declarations it was made from.

``python scripts/lock.py --check`` (in ``make lint``) fails when ``pyproject.toml`` declares other
dependencies than the lock was made from, or when a pin of ``pyproject.toml`` is not the lock's.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
EXTRAS = ("dev",)
_HASH_LINE = "# pyproject.toml dependencies sha256: "
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_hash(pyproject: Path = PYPROJECT) -> str:
    """A hash of what the lock is made from: requires-python, the dependencies and the locked extras."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    declared = {
        "requires-python": project.get("requires-python"),
        "dependencies": sorted(project.get("dependencies", [])),
        "extras": {e: sorted(project.get("optional-dependencies", {}).get(e, [])) for e in EXTRAS},
    }
    return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()


def _pins(lines: list[str]) -> dict[str, set[str]]:
    pins: dict[str, set[str]] = {}
    for line in lines:
        if m := _PIN.match(line.strip().strip('"')):
            pins.setdefault(_normal(m.group(1)), set()).add(m.group(2))
    return pins


def check(pyproject: Path = PYPROJECT, lock: Path = LOCK) -> list[str]:
    """What is wrong with the lock (empty when it is current)."""
    if not lock.exists():
        return [f"{lock.name} is missing: run `make lock`"]
    text = lock.read_text(encoding="utf-8").splitlines()
    recorded = next((line[len(_HASH_LINE) :].strip() for line in text if line.startswith(_HASH_LINE)), None)
    problems = []
    if recorded != declared_hash(pyproject):
        problems.append(f"{lock.name} was not made from the dependencies in {pyproject.name}: run `make lock`")
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    wanted = list(project.get("dependencies", []))
    for e in EXTRAS:
        wanted += project.get("optional-dependencies", {}).get(e, [])
    locked = _pins(text)
    for name, versions in _pins(wanted).items():
        if not versions <= locked.get(name, set()):
            problems.append(
                f"{name}=={min(versions)} in {pyproject.name}, {sorted(locked.get(name, ()))} in {lock.name}"
            )
    return problems


def lock() -> None:
    cmd = [
        sys.executable, "-m", "uv", "pip", "compile", str(PYPROJECT.relative_to(ROOT)),
        *(f"--extra={e}" for e in EXTRAS),
        "--universal", "--python-version=3.11", "--quiet",
        "--custom-compile-command=make lock", f"--output-file={LOCK.relative_to(ROOT)}",
    ]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, check=True)
    body = [line for line in LOCK.read_text(encoding="utf-8").splitlines() if not line.startswith(_HASH_LINE)]
    LOCK.write_text("\n".join([_HASH_LINE + declared_hash(), *body]) + "\n", encoding="utf-8")
    print(f"wrote {LOCK.name}")


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        problems = check()
        for p in problems:
            print(f"lock: {p}", file=sys.stderr)
        return 1 if problems else 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    lock()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
