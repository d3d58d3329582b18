"""Typed readers of Redis replies: what redis-py's annotations leave as unions, narrowed to what newsflow gets.

redis-py types a reply for either setting of ``decode_responses`` (``bytes | str``, scored or plain members,
RESP2 or RESP3 shapes), and a Lua script's or a pipeline's reply as ``Any``. newsflow's client
(:func:`shared.redis_client.make_redis`) reads bytes, over RESP2. Each function here checks that a reply
has that shape and returns it typed; any other shape raises :class:`RedisReplyError`, which names what was
expected and what came, instead of failing later on an attribute or an index.
"""

from __future__ import annotations

__all__ = [
    "RedisReplyError",
    "reply_bytes",
    "reply_bytes_list",
    "reply_bytes_map",
    "reply_int",
    "reply_list",
    "reply_optional_bytes",
    "reply_optional_bytes_list",
    "reply_scored",
    "reply_stream",
    "reply_xread",
]

StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]


class RedisReplyError(TypeError):
    """A Redis reply not of the shape newsflow's client gives (bytes, RESP2)."""

    def __init__(self, expected: str, got: object) -> None:
        super().__init__(
            f"Redis replied {type(got).__name__} where {expected} was expected "
            "(newsflow reads bytes over RESP2: a client from make_redis, decode_responses=False)"
        )
        self.expected = expected
        self.got = got


def reply_bytes(reply: object) -> bytes:
    if isinstance(reply, bytes):
        return reply
    raise RedisReplyError("bytes", reply)


def reply_optional_bytes(reply: object) -> bytes | None:
    """A bulk string or nil (``GET``, ``HGET``)."""
    return None if reply is None else reply_bytes(reply)


def reply_int(reply: object) -> int:
    """An integer reply (``ZCARD``, ``INCR``, a Lua script's number)."""
    if isinstance(reply, int) and not isinstance(reply, bool):
        return reply
    raise RedisReplyError("an integer", reply)


def reply_list(reply: object) -> list[object]:
    """An array reply, its items unchecked (each is read with the function for its shape)."""
    if isinstance(reply, list):
        return reply
    raise RedisReplyError("a list", reply)


def reply_bytes_list(reply: object) -> list[bytes]:
    """An array of bulk strings (``ZRANGE`` without scores, a flat ``HGETALL`` from Lua)."""
    return [reply_bytes(x) for x in reply_list(reply)]


def reply_optional_bytes_list(reply: object) -> list[bytes | None]:
    """An array of bulk strings or nils (``MGET``)."""
    return [reply_optional_bytes(x) for x in reply_list(reply)]


def reply_bytes_map(reply: object) -> dict[bytes, bytes]:
    """Field -> value (``HGETALL``)."""
    if not isinstance(reply, dict):
        raise RedisReplyError("a dict", reply)
    return {reply_bytes(k): reply_bytes(v) for k, v in reply.items()}


def reply_scored(reply: object) -> list[tuple[bytes, float]]:
    """(member, score) pairs (``ZRANGE ... WITHSCORES``)."""
    out: list[tuple[bytes, float]] = []
    for pair in reply_list(reply):
        if not (isinstance(pair, tuple | list) and len(pair) == 2 and isinstance(pair[1], float)):
            raise RedisReplyError("a (member, score) pair", pair)
        out.append((reply_bytes(pair[0]), pair[1]))
    return out


def reply_stream(reply: object) -> StreamEntries:
    """(entry id, fields) of each stream entry (``XRANGE``, ``XREVRANGE``; nil is no entries)."""
    if reply is None:
        return []
    out: StreamEntries = []
    for entry in reply_list(reply):
        if not (isinstance(entry, tuple | list) and len(entry) == 2):
            raise RedisReplyError("a stream entry (id, fields)", entry)
        out.append((reply_bytes(entry[0]), reply_bytes_map(entry[1])))
    return out


def reply_xread(reply: object) -> list[tuple[bytes, StreamEntries]]:
    """(stream key, its new entries) of each stream read (``XREAD``; nil on a timeout is none)."""
    if reply is None:
        return []
    out: list[tuple[bytes, StreamEntries]] = []
    for item in reply_list(reply):
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise RedisReplyError("a stream read (key, entries)", item)
        out.append((reply_bytes(item[0]), reply_stream(item[1])))
    return out
