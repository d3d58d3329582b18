"""A SASL/SCRAM front for the embedded Tansu broker (dev and tests only).

Why it exists: Tansu 0.6.0 with ``--authentication`` and its in-memory storage
keeps no SCRAM users. ``tansu user create`` sends AlterUserScramCredentials
without authenticating, which such a broker refuses; sent on an authenticated
connection, the broker answers success but DescribeUserScramCredentials stays
empty and every login ends in ``e=unknown-user``. And it lets a client that
ignores that error carry on as if authenticated. So the embedded stack runs
Tansu on a loopback port and puts this gate in front of it: the gate speaks the
Kafka SASL handshake itself (SaslHandshake v0/v1, SaslAuthenticate v0-v2,
SCRAM-SHA-512 or -256 verified with ``scramp`` against stored keys, never a
password), answers a bad proof with ``SASL_AUTHENTICATION_FAILED`` and closes
the connection, and only after a good one relays the connection's bytes to
Tansu. Tansu advertises the gate's address, so every client connection goes
through it. Production runs Apache Kafka, which does all this itself.

Run as a process: ``python -m devtools.scram_gate --listen HOST:PORT --upstream
HOST:PORT [--cert PEM --key PEM]`` with the users on stdin as JSON (see
:func:`users_json`); with a certificate, clients connect over TLS (SASL_SSL).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import ssl
import struct
import sys
from dataclasses import dataclass

from scramp import ScramException, ScramMechanism

__all__ = ["GateConfig", "main", "serve", "users_json"]

log = logging.getLogger("newsflow.scram_gate")

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58
FAILED = "Authentication failed during authentication due to invalid credentials with SASL mechanism"


def users_json(mechanism: str, users: dict[str, str], iterations: int = 8192) -> str:
    """The gate's stdin: each user's SCRAM salt and keys (derived here; the password itself is not sent)."""
    m = ScramMechanism(mechanism)
    out = {}
    for name, password in users.items():
        salt, stored, server, count = m.make_auth_info(password, iteration_count=iterations)
        out[name] = [base64.b64encode(salt).decode(), base64.b64encode(stored).decode(),
                     base64.b64encode(server).decode(), count]  # fmt: skip
    return json.dumps({"mechanism": mechanism, "users": out})


@dataclass(frozen=True)
class GateConfig:
    upstream_host: str
    upstream_port: int
    mechanism: str
    users: dict[str, tuple[bytes, bytes, bytes, int]]

    @classmethod
    def from_json(cls, text: str, upstream_host: str, upstream_port: int) -> GateConfig:
        d = json.loads(text)
        users = {
            name: (base64.b64decode(s), base64.b64decode(k), base64.b64decode(v), int(n))
            for name, (s, k, v, n) in d["users"].items()
        }
        return cls(upstream_host, upstream_port, d["mechanism"], users)


# --- the Kafka wire format, as much as the handshake needs ------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("truncated request")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def int16(self) -> int:
        return int(struct.unpack(">h", self.take(2))[0])

    def int32(self) -> int:
        return int(struct.unpack(">i", self.take(4))[0])

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    def string(self) -> str | None:
        n = self.int16()
        return None if n < 0 else self.take(n).decode()

    def tagged_fields(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def _string(s: str | None) -> bytes:
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def _frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    if not 0 <= size <= 100 * 1024 * 1024:
        raise ValueError(f"frame size {size}")
    return await reader.readexactly(size)


def _handshake_response(corr: int, error: int, mechanisms: list[str]) -> bytes:
    body = struct.pack(">h", error) + struct.pack(">i", len(mechanisms)) + b"".join(map(_string, mechanisms))
    return _frame(struct.pack(">i", corr) + body)


def _authenticate_response(corr: int, version: int, error: int, message: str | None, auth: bytes) -> bytes:
    if version >= 2:  # flexible: compact fields and tagged fields, response header v1
        msg = _uvarint(0) if message is None else _uvarint(len(message.encode()) + 1) + message.encode()
        body = struct.pack(">h", error) + msg + _uvarint(len(auth) + 1) + auth + struct.pack(">q", 0) + _uvarint(0)
        return _frame(struct.pack(">i", corr) + _uvarint(0) + body)
    body = struct.pack(">h", error) + _string(message) + struct.pack(">i", len(auth)) + auth
    if version >= 1:
        body += struct.pack(">q", 0)  # session_lifetime_ms: no re-authentication required
    return _frame(struct.pack(">i", corr) + body)


# --- one client connection -------------------------------------------------------------------


class _Session:
    """The SCRAM exchange of one connection: client-first, then client-final."""

    def __init__(self, config: GateConfig) -> None:
        self.config = config
        mech = ScramMechanism(config.mechanism)
        self.server = mech.make_server(self._auth_info)
        self.step = 0
        self.user: str | None = None

    def _auth_info(self, username: str) -> tuple[bytes, bytes, bytes, int]:
        self.user = username
        if username not in self.config.users:
            raise ScramException("unknown-user")
        return self.config.users[username]

    def next(self, token: bytes) -> tuple[bytes, bool]:
        """The server's reply to ``token`` and whether authentication is complete; ScramException if refused."""
        if self.step == 0:
            self.step = 1
            self.server.set_client_first(token.decode())
            return self.server.get_server_first().encode(), False
        self.server.set_client_final(token.decode())
        return self.server.get_server_final().encode(), True


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


async def _authenticate(
    config: GateConfig,
    client_r: asyncio.StreamReader,
    client_w: asyncio.StreamWriter,
    upstream_r: asyncio.StreamReader,
    upstream_w: asyncio.StreamWriter,
) -> bool:
    """Run the handshake on the client's connection; True once the client proved who it is."""
    session: _Session | None = None
    raw_tokens = False  # after SaslHandshake v0 the tokens come without a Kafka header
    while True:
        frame = await _read_frame(client_r)
        if raw_tokens and session is not None:
            try:
                reply, done = session.next(frame)
            except ScramException as exc:
                log.warning("refused %s: %s", session.user, exc)
                return False
            client_w.write(_frame(reply))
            await client_w.drain()
            if done:
                return True
            continue
        r = _Reader(frame)
        api_key, version, corr = r.int16(), r.int16(), r.int32()
        r.string()  # client_id
        if api_key == API_VERSIONS:
            upstream_w.write(_frame(frame))
            await upstream_w.drain()
            client_w.write(_frame(await _read_frame(upstream_r)))
            await client_w.drain()
        elif api_key == SASL_HANDSHAKE:
            mechanism = r.string()
            if mechanism != config.mechanism:
                client_w.write(_handshake_response(corr, UNSUPPORTED_SASL_MECHANISM, [config.mechanism]))
                await client_w.drain()
                return False
            session = _Session(config)
            raw_tokens = version == 0
            client_w.write(_handshake_response(corr, 0, [config.mechanism]))
            await client_w.drain()
        elif api_key == SASL_AUTHENTICATE and session is not None:
            if version >= 2:
                r.tagged_fields()
                token = r.take(r.uvarint() - 1)
            else:
                token = r.take(r.int32())
            try:
                reply, done = session.next(token)
            except ScramException as exc:
                log.warning("refused %s: %s", session.user, exc)
                message = f"{FAILED} {config.mechanism}"
                client_w.write(_authenticate_response(corr, version, SASL_AUTHENTICATION_FAILED, message, b""))
                await client_w.drain()
                return False
            client_w.write(_authenticate_response(corr, version, 0, None, reply))
            await client_w.drain()
            if done:
                log.info("authenticated %s via %s", session.user, config.mechanism)
                return True
        else:
            log.warning("closing a connection that sent API %d before authenticating", api_key)
            return False


async def _handle(config: GateConfig, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
    try:
        upstream_r, upstream_w = await asyncio.open_connection(config.upstream_host, config.upstream_port)
    except OSError as exc:
        log.error("upstream %s:%d unreachable: %s", config.upstream_host, config.upstream_port, exc)
        client_w.close()
        return
    try:
        ok = await _authenticate(config, client_r, client_w, upstream_r, upstream_w)
    except (ConnectionError, asyncio.IncompleteReadError, ValueError, UnicodeDecodeError):
        ok = False
    if not ok:
        for w in (client_w, upstream_w):
            with contextlib.suppress(Exception):
                w.close()
        return
    await asyncio.gather(_pipe(client_r, upstream_w), _pipe(upstream_r, client_w))


async def serve(config: GateConfig, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
    """Accept clients on ``host:port`` (over TLS with ``tls``: SASL_SSL, else SASL_PLAINTEXT)."""
    server = await asyncio.start_server(lambda r, w: _handle(config, r, w), host, port, ssl=tls)
    log.info("SCRAM gate on %s:%d%s -> %s:%d", host, port, " (TLS)" if tls else "", config.upstream_host,
             config.upstream_port)  # fmt: skip
    async with server:
        await server.serve_forever()


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, type=_address)
    parser.add_argument("--upstream", required=True, type=_address)
    parser.add_argument("--cert", help="server certificate (PEM): accept clients over TLS")
    parser.add_argument("--key", help="the certificate's private key (PEM)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    (uh, up), (lh, lp) = args.upstream, args.listen
    config = GateConfig.from_json(sys.stdin.read(), uh, up)
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, lh, lp, tls))


if __name__ == "__main__":
    main()
