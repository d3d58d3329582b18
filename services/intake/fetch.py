"""HTTP GET for intake: polite, bounded, and unable to reach inside the network (the I/O adapter).

- Conditional GET (``If-None-Match`` / ``If-Modified-Since``): a 304 is :attr:`Fetched.not_modified`.
- gzip and deflate are accepted and decompressed by aiohttp; :attr:`Settings.intake_max_bytes` caps the
  *decompressed* body, so a compression bomb is cut off like a 50 MB page (``too_large``).
- Redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each target checked like the first URL; a
  loop is an error (``redirect_loop``).
- Every URL goes through :func:`shared.egress.url_refusal` and every address a name resolves to through
  :class:`shared.egress.GuardedResolver` at connection time: loopback, private, link-local and reserved
  addresses are refused unless ``NEWSFLOW_INTAKE_ALLOW_PRIVATE_NETWORKS=true`` (link-local and reserved never).
- One :class:`~services.intake.politeness.HostGate` spaces requests per host across every source.
- A failure is a :class:`FetchError` with a short ``code`` (``timeout``, ``http_503``, ``refused_target``...),
  the status when there was one, and a ``Retry-After`` when the server sent one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver

from shared.egress import EgressPolicy, GuardedResolver, RefusedTarget, url_refusal
from shared.retry_after import retry_after_s
from shared.settings import Settings

from .politeness import HostGate

__all__ = ["MAX_REDIRECTS", "FetchError", "Fetched", "Fetcher", "user_agent"]

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


def user_agent(settings: Settings) -> str:
    """``newsflow-intake/<version> (+<contact URL>)``: names newsflow and how to reach its operator."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("newsflow")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout without an install
        ver = "dev"
    return f"newsflow-intake/{ver} (+{settings.intake_contact_url})"


class FetchError(Exception):
    """A fetch that did not give a body: ``code``, ``status`` (if any), ``retry_after`` (seconds, if sent)."""

    def __init__(self, code: str, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    """A response: its final URL, status, body (empty on 304), content type and validators."""

    url: str
    status: int
    body: bytes
    content_type: str | None = None
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8, else Windows-1252 (what browsers do)."""
        for encoding in (self.charset, "utf-8"):
            if encoding:
                try:
                    return self.body.decode(encoding)
                except (LookupError, UnicodeDecodeError):
                    continue
        return self.body.decode("cp1252", "replace")


class Fetcher:
    """GETs for one intake replica (see the module doc). ``resolver``: tests pass a stub inside the guard."""

    def __init__(self, settings: Settings, *, resolver: AbstractResolver | None = None) -> None:
        self.settings = settings
        self.policy = EgressPolicy(allow_insecure=True, allow_private=settings.intake_allow_private_networks)
        self.gate = HostGate(settings.intake_host_concurrency, settings.intake_host_interval_s)
        self._resolver = GuardedResolver(self.policy, resolver)
        self._session: aiohttp.ClientSession | None = None
        self.agent = user_agent(settings)

    async def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            s = self.settings
            connector = aiohttp.TCPConnector(resolver=self._resolver, limit=max(8, s.intake_concurrency * 2))
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=s.intake_timeout_s, sock_connect=min(10.0, s.intake_timeout_s)),
                headers={"User-Agent": self.agent, "Accept-Encoding": "gzip, deflate"},
                auto_decompress=True,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None, accept: str | None = None
    ) -> Fetched:
        """GET ``url`` (conditionally when validators are given), following redirects; see the module doc."""
        session = await self._open()
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        seen = {url}
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if (reason := url_refusal(current, self.policy)) is not None:
                raise FetchError("refused_target", f"{current}: {reason}")
            async with self.gate.slot(current):
                result = await self._once(session, current, headers)
            if isinstance(result, Fetched):
                return result
            target = urljoin(current, result)
            if target in seen:
                raise FetchError("redirect_loop", f"{url}: redirect loop at {target}")
            seen.add(target)
            current = target
        raise FetchError("too_many_redirects", f"{url}: more than {MAX_REDIRECTS} redirects")

    async def _once(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> Fetched | str:
        """One request: the response, or the ``Location`` of a redirect."""
        try:
            async with session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in (301, 302, 303, 307, 308):
                    location = resp.headers.get("Location")
                    if not location:
                        raise FetchError("bad_redirect", f"{url}: {resp.status} without a Location", status=resp.status)
                    return location
                if resp.status == 304:
                    return Fetched(url, 304, b"", etag=resp.headers.get("ETag"),
                                   last_modified=resp.headers.get("Last-Modified"))  # fmt: skip
                if resp.status >= 400:
                    raise FetchError(
                        f"http_{resp.status}", f"{url}: HTTP {resp.status} {resp.reason or ''}".strip(),
                        status=resp.status, retry_after=retry_after_s(resp.headers.get("Retry-After")),
                    )  # fmt: skip
                body = await self._read_capped(resp, url)
                return Fetched(
                    url=str(resp.url), status=resp.status, body=body, content_type=resp.headers.get("Content-Type"),
                    charset=resp.charset, etag=resp.headers.get("ETag"),
                    last_modified=resp.headers.get("Last-Modified"),
                )  # fmt: skip
        except FetchError:
            raise
        except RefusedTarget as exc:
            raise FetchError("refused_target", f"{url}: {exc}") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedTarget):
                raise FetchError("refused_target", f"{url}: {exc.os_error}") from None
            raise FetchError("connect_error", f"{url}: cannot connect ({exc.os_error})") from None
        except TimeoutError:
            raise FetchError(
                "timeout", f"{url}: no complete answer within {self.settings.intake_timeout_s:g} s"
            ) from None
        except aiohttp.ClientError as exc:
            raise FetchError("http_error", f"{url}: {type(exc).__name__}: {exc}") from None

    async def _read_capped(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        limit = self.settings.intake_max_bytes
        declared = resp.content_length
        if declared is not None and declared > limit and resp.headers.get("Content-Encoding") is None:
            raise FetchError("too_large", f"{url}: {declared:,} bytes declared, over the limit of {limit:,}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise FetchError("too_large", f"{url}: over the limit of {limit:,} bytes (NEWSFLOW_INTAKE_MAX_BYTES)")
            chunks.append(chunk)
        return b"".join(chunks)
