"""``start_redis(data_dir=...)``: AOF persistence, so a restarted embedded Redis keeps its state."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis

from devtools.embedded import free_port, start_redis, stop

pytestmark = pytest.mark.integration


def test_a_restart_keeps_the_data_with_a_data_dir_and_loses_it_without(tmp_path: Path) -> None:
    port = free_port()
    for data_dir, kept in ((tmp_path / "aof", True), (None, False)):
        proc = start_redis(port, data_dir=data_dir)
        try:
            with Redis(port=port) as r:
                r.set("nftest:aof:k", b"v")
        finally:
            stop(proc)
        proc = start_redis(port, data_dir=data_dir)
        try:
            with Redis(port=port) as r:
                assert (r.get("nftest:aof:k") == b"v") is kept
        finally:
            stop(proc)
    assert any((tmp_path / "aof").rglob("*.aof*"))
