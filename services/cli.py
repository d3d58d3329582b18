"""The ``newsflow`` command line."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import orjson
import typer
from rich.console import Console
from rich.progress import Progress

from shared.settings import Settings, get_settings

if TYPE_CHECKING:  # imported when used: the CLI starts without loading the dev stack
    from devtools.devstack import DevStack
    from shared.apikeys import KeyStore

T = TypeVar("T")

app = typer.Typer(help="newsflow: ingest, enrich and publish news article streams over Kafka.", no_args_is_help=True)
topics_app = typer.Typer(help="Manage newsflow's topics.", no_args_is_help=True)
dlq_app = typer.Typer(help="Inspect and re-drive dead letters (news.dlq).", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")
keys_app = typer.Typer(help="API keys for the HTTP API (scopes read, write, admin).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
schema_app = typer.Typer(help="The message contract: AsyncAPI document, JSON Schemas.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
state_app = typer.Typer(
    help="The Redis state rebuilt from the log (dedup, delivery ledger, story index).", no_args_is_help=True
)
app.add_typer(state_app, name="state")
console = Console()

SAMPLES = Path(__file__).resolve().parent / "samples"


def _logging() -> None:
    from shared.logs import configure

    configure(get_settings())  # text, or one JSON object per line (NEWSFLOW_LOG_FORMAT=json)


def _workable_settings() -> Settings:
    """The settings, or exit 2 with every reason they cannot work (each naming its variable)."""
    from shared.settings_check import SettingsError, require_workable

    try:
        return require_workable(get_settings())
    except SettingsError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None


def _start_service(name: str) -> None:
    """Fail fast on unworkable settings, then log where the service connects (never a secret)."""
    from shared.settings_check import connection_summary

    s = _workable_settings()
    _logging()
    logging.getLogger("newsflow").info("%s starting: %s", name, connection_summary(s))


@app.command()
def ingest() -> None:
    """Run one ingest worker (news.raw -> news.ingested / news.duplicates / news.dlq)."""
    _start_service("ingest")
    from services.ingest.app import main

    main()


@app.command()
def enrich() -> None:
    """Run one enrich worker (news.ingested -> news.enriched)."""
    _start_service("enrich")
    from services.enrich.app import main

    main()


@app.command()
def publish() -> None:
    """Run one publish worker (news.enriched -> routed sinks)."""
    _start_service("publish")
    from services.publish.app import main

    main()


@app.command()
def intake() -> None:
    """Run one intake worker (sources polled and HTTP push -> news.raw)."""
    _start_service("intake")
    from services.intake.app import main

    main()


@app.command()
def archive() -> None:
    """Run one archive worker (news.enriched -> PostgreSQL at NEWSFLOW_ARCHIVE_URL); migrates the schema first."""
    _start_service("archive")
    from services.archive.app import main

    main()


@app.command()
def reenrich(
    since: Annotated[str, typer.Option(help="Articles from this date or time on (ISO 8601, e.g. 2026-11-01)")],
    where: Annotated[
        list[str] | None,
        typer.Option(
            help="A search filter, name=value, repeatable: country=JP, entity=ECB, category=..., "
            "language=, source=, story=, q=<words>, to=<time>"
        ),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Start an unfinished run over instead of resuming it")
    ] = False,
) -> None:
    """Send archived articles back through enrich (a new model or rule set reaches history); resumable."""
    from datetime import UTC, datetime

    from services.reenrich import ReenrichRun, parse_where
    from services.reenrich import reenrich as run_reenrich

    s = _workable_settings()
    try:
        start = datetime.fromisoformat(since.replace("Z", "+00:00"))
        filters = parse_where(where or [])
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    with Progress(console=console) as progress:
        task = progress.add_task("re-enriching", total=None)

        def advance(run: ReenrichRun) -> None:
            progress.update(task, total=run.total, completed=run.sent)

        try:
            run = asyncio.run(run_reenrich(s, start, filters, restart=restart, progress=advance))
        except ValueError as exc:  # a filter the search refuses (QueryError)
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None
    how = "resumed" if run.resumed else "run"
    console.print(f"{how} {run.id}: sent {run.sent} of {run.total} article(s) to {s.topics.ingested} for enrich")


@topics_app.command("create")
def topics_create() -> None:
    """Create every newsflow topic with the configured partitions (idempotent)."""
    from shared.kafka import ensure_topics, wait_for_broker

    s = _workable_settings()

    async def run() -> list[str]:
        await wait_for_broker(s, timeout_s=120)
        return await ensure_topics(s)

    created = asyncio.run(run())
    console.print(f"created {created or 'nothing (all exist)'}; {s.partitions} partitions each")


@app.command()
def send(
    paths: Annotated[list[str], typer.Argument(help="Files (.txt .json .jsonl .html), folders, or - for stdin")],
    topic: Annotated[str | None, typer.Option(help="Topic (default: news.raw)")] = None,
) -> None:
    """Publish raw articles to news.raw."""
    from services.clients import iter_inputs, send_raw

    s = _workable_settings()
    inputs = list(iter_inputs(paths))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"sending to {topic or s.topics.raw}", total=len(inputs))
        n = asyncio.run(send_raw(s, inputs, topic, progress=lambda: progress.advance(task)))
    console.print(f"sent {n} article(s) to [bold]{topic or s.topics.raw}[/] at {s.bootstrap_servers}")


def _readable(topic_value: bytes | None) -> str:
    try:
        d = orjson.loads(topic_value or b"")
    except orjson.JSONDecodeError:
        return (topic_value or b"").decode("utf-8", "replace")[:300]
    if not isinstance(d, dict):
        return str(d)[:300]
    if "error" in d and "stage" in d:
        return f"[red]DLQ[/] {d['stage']} {d['error']['code']}: {d['error']['message']}"
    if "duplicate_of" in d and "kind" in d and "body" not in d:
        return (
            f"[yellow]duplicate[/] {d['id']} ({d['kind']}, {d['similarity']}) of {d['duplicate_of']}: {d.get('title')}"
        )
    lines = [f"[bold]{d.get('title', '')}[/]  [dim]{d.get('id')} v{d.get('version')}[/]"]
    e = d.get("enrichment") or {}
    for name, payload in e.items():
        if not isinstance(payload, dict):
            continue
        shown = {k: v for k, v in payload.items() if k not in ("method", "version")}
        text = orjson.dumps(shown).decode()
        lines.append(f"  {name}: {text[:160]}{'…' if len(text) > 160 else ''}  [dim]({payload.get('method')})[/]")
    if d.get("story_id"):
        lines.append(f"  story_id: {d['story_id']}")
    return "\n".join(lines)


@app.command()
def tail(
    topic: Annotated[str | None, typer.Argument(help="Topic (default: news.enriched)")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print raw JSON values")] = False,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="Start at the oldest record")] = False,
    n: Annotated[int | None, typer.Option("-n", help="Stop after N records")] = None,
) -> None:
    """Print a topic's records as they arrive."""
    from services.clients import consume

    s = _workable_settings()

    async def run() -> None:
        async for tp, offset, _key, value, _ in consume(
            s, topic or s.topics.enriched, from_beginning=from_beginning, limit=n
        ):
            if json:
                print((value or b"").decode("utf-8", "replace"), flush=True)
            else:
                console.print(f"[dim]{tp.topic}/{tp.partition}@{offset}[/] {_readable(value)}")

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@dlq_app.command("show")
def dlq_show(
    n: Annotated[int | None, typer.Option("-n", help="At most N letters")] = None,
    show_original: Annotated[bool, typer.Option("--original", help="Also print the original bytes")] = False,
) -> None:
    """List the dead letters with their reasons."""
    from services.clients import consume

    s = _workable_settings()

    async def run() -> int:
        count = 0
        async for tp, offset, _, value, _ in consume(s, s.topics.dlq, from_beginning=True, limit=n, idle_timeout_s=2):
            d = orjson.loads(value or b"{}")
            count += 1
            console.print(
                f"{tp.partition}@{offset} [red]{d['error']['code']}[/] ({d['stage']}, from "
                f"{d['source_topic']}/{d['source_partition']}@{d['source_offset']}): {d['error']['message']}"
            )
            if show_original:
                console.print(base64.b64decode(d["original_value_b64"])[:500].decode("utf-8", "replace"), markup=False)
        return count

    console.print(f"{asyncio.run(run())} dead letter(s) in {s.topics.dlq}")


@dlq_app.command("redrive")
def dlq_redrive(
    code: Annotated[str | None, typer.Option(help="Only letters with this error code")] = None,
    stage: Annotated[str | None, typer.Option(help="Only letters from this stage (ingest, enrich, publish)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be re-driven")] = False,
) -> None:
    """Send dead letters back through the pipeline (each once), after a fix."""
    from services.clients import redrive_dlq

    letters = asyncio.run(redrive_dlq(_workable_settings(), code=code, stage=stage, dry_run=dry_run))
    verb = "would re-drive" if dry_run else "re-drove"
    console.print(f"{verb} {len(letters)} dead letter(s)")


async def _with_keys(s: Settings, work: Callable[[KeyStore], Awaitable[T]]) -> T:
    from shared.apiauth import key_namespace
    from shared.apikeys import RedisKeyStore
    from shared.redis_client import make_redis

    redis = make_redis(s)
    try:
        return await work(RedisKeyStore(redis, namespace=key_namespace(s)))
    finally:
        await redis.aclose()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A name for the key (who or what uses it), e.g. japan-desk")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read, write (the default) or admin; repeatable")
    ] = None,
) -> None:
    """Make a key and print it once (only its SHA-256 is stored)."""
    from shared.apiauth import audit
    from shared.apikeys import KeyRefused, Principal, parse_scopes

    s = _workable_settings()
    try:
        scopes = parse_scopes(scope or ["write"])
        key, rec = asyncio.run(_with_keys(s, lambda store: store.create(name, scopes)))
    except (KeyRefused, ValueError) as exc:
        console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(2) from None
    _logging()
    audit("key.create", Principal("(command line)", frozenset()), name=rec.name, scopes=",".join(sorted(rec.scopes)))
    console.print(f"key {rec.name!r} ({', '.join(sorted(rec.scopes))}); shown once, keep it now:", highlight=False)
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """The keys: name, scopes, when made (never the key)."""
    s = _workable_settings()
    keys = asyncio.run(_with_keys(s, lambda store: store.list()))
    for k in keys:
        print(f"{k.name}\t{','.join(sorted(k.scopes))}\t{k.created_at}")  # tab-separated, for scripts
    console.print(f"{len(keys)} key(s)", style="dim")


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name")]) -> None:
    """Revoke a key: every replica refuses it within NEWSFLOW_API_KEY_CACHE_S (under a second)."""
    from shared.apiauth import audit
    from shared.apikeys import Principal

    s = _workable_settings()
    if not asyncio.run(_with_keys(s, lambda store: store.revoke(name))):
        console.print(f"[red]no key named {name!r}[/]", highlight=False)
        raise typer.Exit(1)
    _logging()
    audit("key.revoke", Principal("(command line)", frozenset()), name=name)
    console.print(f"revoked {name!r}", highlight=False)


@state_app.command("rebuild")
def state_rebuild(
    scope: Annotated[list[str] | None, typer.Argument(help="dedup, ledger, stories (default: all three)")] = None,
) -> None:
    """Rebuild states from the log now (the workers pause their decisions until it is done), with progress."""
    from services.state_rebuild import SCOPES, state_gates
    from shared.redis_client import make_redis

    s = _workable_settings()
    wanted = scope or list(SCOPES)
    unknown = sorted(set(wanted) - set(SCOPES))
    if unknown:
        console.print(f"[red]unknown scope {', '.join(unknown)}[/]: one of {', '.join(SCOPES)}")
        raise typer.Exit(2)

    async def run() -> None:
        redis = make_redis(s)
        try:
            gates = state_gates(s, redis)
            for name in wanted:
                gate = gates[name]
                with Progress(console=console) as bar:
                    task = bar.add_task(f"rebuilding {name}", total=None)
                    await redis.delete(gate.ready_key)  # from now on the workers wait for this rebuild
                    work = asyncio.ensure_future(gate.ensure())
                    while not work.done():
                        p = gate.progress
                        if p is not None:
                            bar.update(task, completed=p.done, total=p.total or None)
                        await asyncio.wait({work}, timeout=0.2)
                    await work
                    p = gate.progress
                    if p is not None:  # done: the bar full, also for an empty window
                        bar.update(task, completed=max(p.total, p.done, 1), total=max(p.total, p.done, 1))
                read = f"{gate.progress.line()}" if gate.progress and gate.rebuilds else "by another process"
                console.print(f"{name}: rebuilt ({read})")
        finally:
            await redis.aclose()

    asyncio.run(run())


@state_app.command("status")
def state_status() -> None:
    """Whether each state is in Redis (ready), or being rebuilt (and by whom)."""
    from services.state_rebuild import state_gates
    from shared.redis_client import make_redis

    s = _workable_settings()

    async def run() -> None:
        redis = make_redis(s)
        try:
            for name, gate in state_gates(s, redis).items():
                holder = await redis.get(gate.lease_key)
                ready = await gate.is_ready()
                state = "ready" if ready else "NOT READY (lost, or never built: the workers wait for a rebuild)"
                if holder:
                    state += f"; rebuild lease held by {holder.decode() if isinstance(holder, bytes) else holder}"
                console.print(f"{name}: {state}")
        finally:
            await redis.aclose()

    asyncio.run(run())


@schema_app.command("asyncapi")
def schema_asyncapi(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write here instead of stdout")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of YAML")] = False,
) -> None:
    """Print the AsyncAPI 3.0 document of every topic (docs/asyncapi.yaml is it for the defaults)."""
    from services.contracts import asyncapi_document, asyncapi_yaml
    from services.publish.routing import load_router

    s = get_settings()
    doc = asyncapi_document(
        s.topics, load_router(s.routing_file).routes, bootstrap_servers=s.bootstrap_servers,
        partitions=s.partitions, group_prefix=s.group_prefix,
    )  # fmt: skip
    text = orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n" if as_json else asyncapi_yaml(doc)
    if output is None:
        print(text, end="")
    else:
        output.write_text(text)


@schema_app.command("json")
def schema_json(
    topic: Annotated[str, typer.Argument(help="A topic name (news.ingested, a routed topic) or kind")],
) -> None:
    """Print the JSON Schema of a topic's messages."""
    from services.contracts import TOPIC_ROLES, topic_json_schema
    from services.publish.routing import load_router, topic_matches

    s = get_settings()
    roles = {getattr(s.topics, r): r for r in TOPIC_ROLES if r != "published"}
    role = roles.get(topic) or (topic if topic in TOPIC_ROLES else None)
    if role is None and any(topic_matches(r.topic, topic) for r in load_router(s.routing_file).routes):
        role = "published"
    if role is None:
        console.print(f"[red]unknown topic {topic!r}[/]: one of {', '.join(roles)}, a routed topic, or a kind "
                      f"({', '.join(TOPIC_ROLES)})")  # fmt: skip
        raise typer.Exit(2)
    print(orjson.dumps(topic_json_schema(role), option=orjson.OPT_INDENT_2).decode())


@app.command()
def dev(
    demo: Annotated[
        bool, typer.Option("--demo", help="Send the sample articles and print the enriched results")
    ] = False,
    log_dir: Annotated[Path, typer.Option(help="Where the children's logs go")] = Path(".newsflow/logs"),
    secure: Annotated[
        bool,
        typer.Option(
            "--secure",
            help="Start the broker with SASL/SCRAM-SHA-512 and Redis with TLS and an ACL user "
            "(generated credentials and CA in .newsflow/secure/)",
        ),
    ] = False,
) -> None:
    """Run the whole pipeline on this machine (embedded broker, Redis and PostgreSQL when none answers)."""
    from devtools.devstack import SERVICES, DevStack

    s = _workable_settings()
    stack = DevStack(s, log_dir, say=console.print, secure=secure)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        stack.start_infrastructure()
        s = stack.settings  # with --secure: the generated credentials and CA
        web = s.web_port or _free_ports_base(len(SERVICES))  # ingest, enrich, publish, archive, intake: web, web+1...
        if demo:
            stack.serve_demo_feed()
        stack.start_services(web_port_base=web)
        key = stack.create_session_key()
        urls = [
            f"{n} http://127.0.0.1:{web + i}/metrics" for i, n in enumerate(("ingest", "enrich", "publish", "archive"))
        ]
        console.print("metrics: " + ", ".join(urls), soft_wrap=True)
        console.print(
            f"\n[bold green]newsflow is running.[/] Publish raw articles to [bold]{s.topics.raw}[/] at "
            f"{s.bootstrap_servers} with any Kafka client, or:\n"
            f"  newsflow send services/samples/*.txt\n"
            f"Consume the enriched stream:\n  newsflow tail {s.topics.enriched} --from-beginning\n"
            f"Live story page and HTTP API: [bold]{stack.page_url}[/] (OpenAPI at {stack.page_url}openapi.json)\n"
            f"Admin API key for this session (revoked on exit; reading needs none in dev):\n  {key}\n"
            f"  curl -H 'Authorization: Bearer {key}' {stack.page_url}v1/subscriptions\n"
            f"Search the archive: {stack.page_url}v1/search?q=earthquake&country=JP\n"
            f"Intake (sources, HTTP push with a write key): http://127.0.0.1:{web + 4}/v1/sources, "
            f"POST http://127.0.0.1:{web + 4}/v1/raw\n"
            f"Ctrl-C stops everything.\n"
        )
        if demo:
            _demo(s, stack, lambda: stopping)
        while not stopping:
            if dead := stack.check_children():
                console.print(f"[red]stopped unexpectedly: {', '.join(dead)}[/] (see {log_dir})")
                raise typer.Exit(1)
            time.sleep(0.5)
    finally:
        console.print("stopping…")
        stack.stop_all()
        console.print("stopped.")


def _free_ports_base(count: int) -> int:
    """A port with the ``count - 1`` ports after it free as well (each binds on every interface now)."""
    from devtools.embedded import free_port, port_bindable

    for _ in range(100):
        base = free_port()
        if base + count <= 65535 and all(port_bindable(base + i) for i in range(1, count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found")


def _demo(s: Settings, stack: DevStack, stopping: Callable[[], bool]) -> None:
    """Send the samples; print each enriched / duplicate / dead-letter result as it arrives."""
    from devtools.devstack import DEMO_FEED_ENTRIES
    from services.clients import consume, iter_inputs, send_raw

    inputs = list(iter_inputs([str(SAMPLES)]))
    env_ns = stack.env.get("NEWSFLOW_REDIS_NAMESPACE")
    console.print(
        f"demo: sending {len(inputs)} sample article(s) from {SAMPLES}"
        + (f" (dedup namespace {env_ns})" if env_ns else "")
    )
    asyncio.run(send_raw(s, inputs))

    async def show() -> None:
        want = len(inputs) + DEMO_FEED_ENTRIES  # the samples, and the demo feed's entries sent by intake
        seen = 0
        topics = [s.topics.enriched, s.topics.duplicates, s.topics.dlq]

        async def one(topic: str) -> None:
            nonlocal seen
            async for tp, offset, _, value, _ in consume(s, topic, from_beginning=True, limit=None):
                console.print(f"[dim]{tp.topic}/{tp.partition}@{offset}[/] {_readable(value)}\n")
                seen += 1

        tasks = [asyncio.create_task(one(t)) for t in topics]
        started = time.monotonic()
        while not stopping() and seen < want and time.monotonic() - started < 180:
            if stack.check_children():  # a service died: no more results will come (the caller says which)
                break
            await asyncio.sleep(0.2)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        console.print(f"demo: {seen} of {want} results shown in {time.monotonic() - started:.1f}s")

    asyncio.run(show())


if __name__ == "__main__":
    app()
