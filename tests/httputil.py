"""A service's HTTP endpoints from a test: one GET, and polling a path until it answers a status."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

__all__ = ["get", "wait_for"]


def get(port: int, path: str) -> tuple[int, bytes]:
    """The status and body of ``GET http://127.0.0.1:<port><path>``; (0, b"") when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def wait_for(port: int, path: str, status: int, timeout_s: float = 60) -> bytes:
    """The body of ``path`` once it answers ``status``; an AssertionError with the last answer at the timeout."""
    deadline = time.monotonic() + timeout_s
    last: tuple[int, bytes] = (0, b"")
    while time.monotonic() < deadline:
        last = get(port, path)
        if last[0] == status:
            return last[1]
        time.sleep(0.3)
    raise AssertionError(f"{path} never answered {status}; last {last}")
