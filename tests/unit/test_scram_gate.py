"""The SCRAM gate's pure parts: the users it is given, one SCRAM exchange, the wire encoding."""

from __future__ import annotations

import struct

import pytest
from scramp import ScramClient, ScramException

from devtools.scram_gate import GateConfig, _authenticate_response, _Reader, _Session, _uvarint, users_json

PASSWORD = "correct horse battery staple"


def _config() -> GateConfig:
    return GateConfig.from_json(users_json("SCRAM-SHA-512", {"svc": PASSWORD}, iterations=4096), "127.0.0.1", 1)


def _exchange(user: str, password: str) -> bytes:
    client = ScramClient(["SCRAM-SHA-512"], user, password)
    session = _Session(_config())
    first, done = session.next(client.get_client_first().encode())
    assert not done
    client.set_server_first(first.decode())
    final, done = session.next(client.get_client_final().encode())
    assert done
    client.set_server_final(final.decode())  # the client verifies the server's signature
    return final


def test_the_gate_is_given_stored_keys_never_the_password() -> None:
    text = users_json("SCRAM-SHA-512", {"svc": PASSWORD})
    assert PASSWORD not in text and "svc" in text


def test_the_right_password_completes_with_a_server_signature() -> None:
    assert _exchange("svc", PASSWORD).startswith(b"v=")


@pytest.mark.parametrize(("user", "password"), [("svc", "wrong"), ("mallory", PASSWORD)])
def test_a_wrong_password_or_unknown_user_is_refused(user: str, password: str) -> None:
    with pytest.raises(ScramException):
        _exchange(user, password)


def test_sasl_authenticate_responses_follow_each_version_layout() -> None:
    v0 = _authenticate_response(7, 0, 58, "no", b"")
    r = _Reader(v0[4:])
    assert struct.unpack(">i", v0[:4])[0] == len(v0) - 4
    assert (r.int32(), r.int16(), r.string(), r.int32()) == (7, 58, "no", 0)
    v1 = _authenticate_response(7, 1, 0, None, b"v=x")
    r = _Reader(v1[4:])
    assert (r.int32(), r.int16(), r.string(), r.take(r.int32()), r.take(8)) == (7, 0, None, b"v=x", bytes(8))
    v2 = _authenticate_response(7, 2, 0, None, b"v=x")
    r = _Reader(v2[4:])
    assert r.int32() == 7
    r.tagged_fields()
    assert r.int16() == 0 and r.uvarint() == 0  # null compact string
    assert r.take(r.uvarint() - 1) == b"v=x" and r.take(8) == bytes(8)
    r.tagged_fields()
    assert r.pos == len(r.data)


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 2**21 + 5])
def test_unsigned_varints_round_trip(n: int) -> None:
    assert _Reader(_uvarint(n)).uvarint() == n
