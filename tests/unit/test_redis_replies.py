"""shared/redis_replies.py: each reader returns the reply typed when it has the bytes/RESP2 shape newsflow's
client gives, and raises RedisReplyError (naming what it expected) on any other, e.g. a decoding client's str."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.redis_replies import (
    RedisReplyError,
    reply_bytes,
    reply_bytes_list,
    reply_bytes_map,
    reply_int,
    reply_list,
    reply_optional_bytes,
    reply_optional_bytes_list,
    reply_scored,
    reply_stream,
    reply_xread,
)


def test_bulk_strings_and_nil() -> None:
    assert reply_bytes(b"x") == b"x"
    assert reply_optional_bytes(b"x") == b"x"
    assert reply_optional_bytes(None) is None
    assert reply_bytes_list([b"a", b"b"]) == [b"a", b"b"]
    assert reply_optional_bytes_list([b"a", None]) == [b"a", None]
    assert reply_bytes_map({b"k": b"v"}) == {b"k": b"v"}
    assert reply_list([b"id", [b"k", b"v"]]) == [b"id", [b"k", b"v"]]


def test_integers_but_not_bools() -> None:
    assert reply_int(3) == 3
    with pytest.raises(RedisReplyError, match="integer"):
        reply_int(True)
    with pytest.raises(RedisReplyError, match="integer"):
        reply_int(b"3")


def test_scored_members_as_tuples_or_lists() -> None:
    assert reply_scored([(b"a", 2.0), [b"b", 1.0]]) == [(b"a", 2.0), (b"b", 1.0)]
    assert reply_scored([]) == []
    with pytest.raises(RedisReplyError, match=r"\(member, score\) pair"):
        reply_scored([b"a", b"2"])  # a flat reply: WITHSCORES not parsed into pairs


def test_stream_entries_and_reads() -> None:
    entries = [(b"1-0", {b"d": b"{}"}), (b"2-0", {b"d": b"[]", b"f": b"{}"})]
    assert reply_stream(entries) == entries
    assert reply_stream(None) == []
    assert reply_xread([[b"ns:stream", entries]]) == [(b"ns:stream", entries)]
    assert reply_xread(None) == [] and reply_xread([]) == []
    with pytest.raises(RedisReplyError, match="a list"):
        reply_xread({b"ns:stream": [entries]})  # the RESP3 shape
    with pytest.raises(RedisReplyError, match="stream entry"):
        reply_stream([(b"1-0", {b"d": b"{}"}, b"extra")])
    with pytest.raises(RedisReplyError, match="NoneType where bytes"):
        reply_stream([(None, None)])  # a deleted entry (XCLAIM's shape), never an XRANGE one


@pytest.mark.parametrize(
    ("read", "reply"),
    [
        (reply_bytes, "x"),
        (reply_optional_bytes, "x"),
        (reply_bytes_list, ["a"]),
        (reply_optional_bytes_list, [None, "a"]),
        (reply_bytes_map, {"k": "v"}),
        (reply_scored, [("a", 1.0)]),
        (reply_stream, [("1-0", {"d": "{}"})]),
        (reply_xread, [["ns:stream", [("1-0", {"d": "{}"})]]]),
    ],
)
def test_a_decoding_clients_str_reply_is_refused_with_the_reason(
    read: Callable[[object], object], reply: object
) -> None:
    with pytest.raises(RedisReplyError) as caught:
        read(reply)
    message = str(caught.value)
    assert "Redis replied str where bytes was expected" in message and "decode_responses=False" in message
    assert caught.value.expected == "bytes" and isinstance(caught.value.got, str)
