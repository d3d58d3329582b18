"""Canonical URLs: one spelling per article address, so URL duplicates and versions are found.

Why not ``courlan``: ``courlan.normalize_url`` (installed with trafilatura) is
close but not right for an identity key. Its non-strict tracker pattern matches
by prefix, so it also drops real parameters such as ``?game=2`` or
``?gallery=3`` (two articles would collapse into one canonical URL and become
"versions" of each other); its strict mode keeps only a whitelist (drops
``?p=123``-style ids); it keeps fragments and ``www.``, does not know ``cmpid``,
``ocid`` or ``spm``, and does not reject non-HTTP schemes. This module uses an
explicit list of tracking parameters instead.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "canonicalize_url", "url_host"]

TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # click ids
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "li_fat_id", "igshid", "igsh", "srsltid",
        # mail and analytics
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
        "wt.mc_id", "wt_mc_id", "s_cid", "xtor",
        # referral / campaign markers used by news sites and portals
        "ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "ocid", "icid", "ncid", "smid", "smtyp", "spm",
        "scm", "sr_share", "at_medium", "at_campaign",
    }
)  # fmt: skip
"""Query parameter names (compared case-insensitively) that never identify content."""

TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_", "hsa_", "ga_", "itm_")
"""Query parameter name prefixes (case-insensitive) that never identify content."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_PCT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = ":@!$'()*,;/?-._~"  # no "%": parse_qsl has already decoded escapes


def canonicalize_url(url: str | None) -> str | None:
    """Return the canonical form of an ``http(s)`` URL, or ``None`` for anything else.

    Rules, in order:

    - surrounding whitespace is stripped; a URL with inner whitespace, without
      an ``http``/``https`` scheme (``ftp:``, ``javascript:``, scheme-less
      ``example.com/a``) or without a valid host is rejected (``None``);
    - scheme and host are lower-cased, an IDN host is written in punycode, a
      trailing dot and a leading ``www.`` are removed (``www.example.com`` and
      ``example.com`` are the same site for news purposes), user info is
      dropped, and the scheme's default port (80 / 443) is dropped;
    - the scheme itself is kept (``http`` and ``https`` stay distinct);
    - percent-escapes are normalised (unreserved characters decoded, hex
      upper-cased; other characters percent-encoded), dot segments
      (``/a/./b/../c``) resolved, and a trailing slash removed from any
      non-root path (the root path is ``/``);
    - the fragment is dropped;
    - tracking parameters (:data:`TRACKING_PARAMS`, :data:`TRACKING_PREFIXES`)
      are dropped and the remaining ones sorted by name (stable, so repeated
      names keep their order); blank values are kept.
    """
    if url is None:
        return None
    url = url.strip()
    if not url or any(c.isspace() for c in url) or len(url) > 8192:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    host = _canonical_host(parts.hostname)
    if host is None:
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_host(url: str | None) -> str | None:
    """The canonical host of ``url`` (lower-case, no ``www.``, no port), or ``None`` if it is not a valid URL."""
    canonical = canonicalize_url(url)
    return urlsplit(canonical).hostname if canonical else None


def _canonical_host(hostname: str | None) -> str | None:
    if not hostname:
        return None
    host = hostname.lower().rstrip(".")
    if host.startswith("[") or ":" in host:  # IPv6 literal
        return f"[{host.strip('[]')}]"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if host.startswith("www."):
        host = host[4:]
    if _IPV4_RE.match(host):
        return host if all(int(octet) <= 255 for octet in host.split(".")) else None
    if not _HOST_RE.match(host) or len(host) > 253:
        return None
    # a bare name ("localhost", "intranet") is accepted; garbage such as "-x" is not
    return host


def _normalise_escapes(text: str, safe: str) -> str:
    def repl(match: re.Match[str]) -> str:
        char = chr(int(match[1], 16))
        return char if char in _UNRESERVED else "%" + match[1].upper()

    return quote(_PCT_RE.sub(repl, text), safe=safe)


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)


def _canonical_path(path: str) -> str:
    path = _remove_dot_segments(_normalise_escapes(path, _PATH_SAFE))
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return path


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k and not _is_tracking(k)]
    pairs.sort(key=lambda kv: kv[0])
    return "&".join(f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" for k, v in pairs)
