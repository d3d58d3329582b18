"""``free_port``: ports a server can bind seconds later, outside the kernel's range for outgoing connections."""

from __future__ import annotations

import random
import socket

import pytest

from devtools.embedded import _ephemeral_range, free_port, port_bindable


def test_free_ports_are_distinct_bindable_and_outside_the_ephemeral_range() -> None:
    low, high = _ephemeral_range()
    ports = [free_port() for _ in range(30)]
    assert len(set(ports)) == len(ports)
    for port in ports:
        assert not low <= port <= high and 1024 < port <= 65535, (port, low, high)
    with socket.socket() as s:
        s.bind(("0.0.0.0", ports[0]))  # what a faust worker's web server does with it


def test_a_port_in_use_is_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as held:
        for port in range(20000, 21000):  # a listener in the range free_port draws from
            try:
                held.bind(("127.0.0.1", port))
                break
            except OSError:
                continue
        held.listen()
        taken = held.getsockname()[1]
        draws = iter([taken, taken, *(p for p in range(20000, 21000) if p != taken)])  # it first, twice
        monkeypatch.setattr(random, "randint", lambda a, b: next(draws))
        monkeypatch.setattr(random, "choice", lambda seq: seq[0])
        got = free_port()
        assert got != taken and 20000 <= got < 21000


def test_a_held_port_is_not_bindable_and_the_dev_services_get_a_free_run_of_ports() -> None:
    from services.cli import _free_ports_base

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        assert not port_bindable(held.getsockname()[1])
    base = _free_ports_base(5)  # ingest, enrich, publish, archive, intake
    assert all(port_bindable(base + i) for i in range(5))
