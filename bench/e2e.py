"""The whole pipeline on one machine, fed on a schedule, next to the script a user would write instead.

    python -m bench.e2e [--quick] [--window 60] [--trials 4] [--latency-window 30]

One Tansu broker (on a free port) and one Redis server of its own (so its CPU is counted) run beside
the services. Both sides read the same kind of input: distinct articles built from the labelled
articles in evaluation/ (each a lead paragraph of one article and paragraphs of others in the same
language, as JSON fields or as a wire text), with about 5 % exact copies, 3 % near copies and 2 %
bad records (invalid UTF-8, empty, ``{}``, a JSON array, broken JSON, no text).

- newsflow: ingest, enrich and publish, each its own process (``newsflow ingest`` ...), one worker
  each; publish routes by language and by category to topics of the run.
- baseline: one process that, per raw record, parses the value, runs the full spaCy pipeline,
  python ``yake`` and VADER and produces the result to an output topic (bad input gives an error
  record there), committing per fetched batch: what gluing the libraries together gives.

The producer is open-loop: record i is sent at ``start + i / rate`` whatever the consumers do. Both
sides run from the start, and their runs take turns (newsflow's burst, the baseline's, newsflow's first
rate, ...), so a burst of load on a shared machine hits both sides; the machine's CPU used by other
processes during each side's max-rate run is printed too.

Max sustained rate. A run at rate R keeps pace when, over its window (``--window``, 60 s by
default), the backlog (records sent minus records with their final output, sampled every second)
does not grow: its least-squares slope over the window after the first 10 s is below 3 % of R per
second (plus 50 records over the window, for batching noise), the backlog when the producer stops is
at most 3 s of input plus one batch (150 records), and every record has its output within the drain
time after that. The search starts at 90 % of the rate
measured on a closed-loop burst, then steps up 15 % after a pass and bisects after a failure, for
``--trials`` runs; the max is the highest rate that passed.

Latency, at 25 %, 50 % and 80 % of each side's max: from the raw record's timestamp to the timestamp
of its record on ``news.enriched`` and on its language topic (newsflow), or on the output topic
(baseline): p50 / p95 / p99 / max, read from the records in the broker (CreateTime, set by each
producer on this machine's clock), not from the services' logs.

Also printed: peak RSS of each process (VmHWM), the CPU share of each process during the max-rate
run, enrich's ms per article per stage (bench/enrich.py's stage timing, one process, eval articles),
entity F1 of both sides on the labelled set, and the total runtime. ``--quick`` is a smoke run
(short windows, 2 trials; a few minutes); the full run takes about 15 minutes on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from bench._common import bench_settings, child_env, peak_rss_mb
from bench.scaling import start as start_service
from bench.scaling import wait_shared
from devtools.embedded import free_port, start_redis, start_tansu, stop
from shared.kafka import ensure_topics
from shared.settings import Settings, Topics

__all__ = ["keeps_pace", "main", "make_raw"]

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 8
BAD = [b"\xff\xfe\xfa not utf-8", b"", b"{}", b"[1, 2, 3]", b'{"title": "cut', b'{"text": ""}']


# ---------------------------------------------------------------------------------------------- input


@functools.cache
def _pool() -> list[tuple[str, str, list[str]]]:
    """(language, title, paragraphs) of every labelled article (enrichment + story sets)."""
    from evaluation.story_eval import load_story_set

    out = []
    for item in load_story_set():
        a = item.article
        paragraphs = [p.strip() for p in a.body.split("\n\n") if p.strip()]
        out.append((a.language or "en", a.title, paragraphs))
    return out


def make_raw(n: int, seed: int, tag: str) -> list[bytes]:
    """``n`` raw records: distinct articles, ~5 % exact copies, ~3 % near copies, ~2 % bad records."""
    rnd = random.Random(seed)
    pool = _pool()
    by_lang: dict[str, list[str]] = {}
    for lang, _, paragraphs in pool:
        by_lang.setdefault(lang, []).extend(paragraphs[1:])
    sent: list[dict[str, Any]] = []
    out: list[bytes] = []
    for i in range(n):
        r = rnd.random()
        if r < 0.02:
            out.append(BAD[i % len(BAD)])
            continue
        if sent and r < 0.07:  # exact copy: the same article again, the URL with tracking parameters
            copy = dict(rnd.choice(sent))
            copy["url"] = f"{copy['url']}?utm_source=feed{i}"
            out.append(orjson.dumps(copy))
            continue
        if sent and r < 0.10:  # near copy: a syndicated version with a word changed, at another outlet
            copy = dict(rnd.choice(sent))
            words = copy["body"].split(" ")
            words[rnd.randrange(len(words))] = "reportedly"
            copy.update(body=" ".join(words), url=f"https://mirror.example.net/{tag}/{i}", source="Mirror")
            out.append(orjson.dumps(copy))
            continue
        lang, title, paragraphs = pool[i % len(pool)]
        others = rnd.sample(by_lang[lang], min(len(by_lang[lang]), rnd.randint(5, 9)))
        body = "\n\n".join([paragraphs[0], *others])
        article = {"title": title, "body": body, "url": f"https://news.example.com/{tag}/{i}",
                   "source": "Bench Wire", "language": lang,
                   "published_at": datetime(2024, 6, 1 + i % 28, tzinfo=UTC).isoformat()}  # fmt: skip
        sent.append(article)
        if lang == "en" and rnd.random() < 0.2:  # a wire story as plain text: headline, dateline, body
            out.append(orjson.dumps({"text": f"{title}\nAFP , Saturday 1 Jun 2024\n{body}"}))
        else:
            out.append(orjson.dumps(article))
    return out


# ------------------------------------------------------------------------------------- the baseline


def _naive_parse(value: bytes) -> tuple[str, str]:
    """(text, language) of a raw value, as a hand-written consumer would read it; ValueError if none."""
    text = value.decode("utf-8")  # UnicodeDecodeError is a ValueError
    if text.lstrip().startswith(("{", "[")):
        data = orjson.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        text = "\n\n".join(str(data.get(k) or "") for k in ("title", "body", "text") if data.get(k))
        lang = str(data.get("language") or "en")
    else:
        lang = "en"
    if not text.strip():
        raise ValueError("no text")
    return text, lang


async def naive_worker() -> None:
    """The baseline consumer (``python -m bench.e2e --naive-worker``, settings from the environment)."""
    import yake
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from bench.enrich import _MODELS, _NAIVE_TYPES, _load_full
    from shared.settings import get_settings

    s = get_settings()
    nlps = {lang: _load_full(lang) for lang in _MODELS}
    extractors = {lang: yake.KeywordExtractor(lan=lang, n=3, top=10) for lang in ("en", "fr", "es")}
    vader = SentimentIntensityAnalyzer()
    out_topic = s.topics.enriched
    c = AIOKafkaConsumer(
        s.topics.raw, bootstrap_servers=s.bootstrap_servers, group_id=s.group_id("naive"), enable_auto_commit=False,
        auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=1000,
    )  # fmt: skip
    p = AIOKafkaProducer(bootstrap_servers=s.bootstrap_servers, linger_ms=5)
    await c.start()
    await p.start()
    try:
        while True:
            # a few records per fetch: spaCy blocks the loop, and the heartbeats run on it
            batch = await c.getmany(timeout_ms=500, max_records=16)
            futures = []
            for msgs in batch.values():
                for m in msgs:
                    result: dict[str, Any] = {"origin": {"partition": m.partition, "offset": m.offset}}
                    try:
                        text, lang = _naive_parse(m.value or b"")
                        doc = nlps.get(lang, nlps["en"])(text)
                        result["entities"] = [[e.text, _NAIVE_TYPES[e.label_]] for e in doc.ents
                                              if e.label_ in _NAIVE_TYPES]  # fmt: skip
                        keywords = extractors.get(lang, extractors["en"]).extract_keywords(text)
                        result["keywords"] = [[k, float(score)] for k, score in keywords]
                        result["sentiment"] = vader.polarity_scores(text)
                    except ValueError as exc:
                        result["error"] = str(exc)
                    futures.append(await p.send(out_topic, orjson.dumps(result)))
            if futures:
                await asyncio.gather(*futures)
                await c.commit()
    finally:
        await p.stop()
        await c.stop()


# ----------------------------------------------------------------------------------- a side and a run


@dataclass
class Side:
    """One system under test: its settings, its processes, and the topics that end a raw record's way."""

    name: str
    settings: Settings
    done_topics: list[str]  # a raw record is done when its origin shows up on one of these
    enriched_topic: str
    routed_prefix: str | None = None  # newsflow: the language topics (found as publish creates them)
    procs: dict[str, psutil.Process] = field(default_factory=dict)
    popens: list[subprocess.Popen[bytes]] = field(default_factory=list)


@dataclass
class Run:
    rate: float
    seconds: float
    sent: int = 0
    done: int = 0
    backlog: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, sent - done)
    backlog_at_stop: int = 0
    drained: bool = False
    enriched_ms: list[float] = field(default_factory=list)
    routed_ms: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # process -> share of one core over the window
    machine_busy: float = 0.0  # all processes of the machine, in cores, over the window
    verdict: str = ""


def keeps_pace(run: Run, warmup_s: float = 10.0) -> tuple[bool, str]:
    """Whether the output kept pace with the input (see the module's docstring), and why."""
    skip = min(warmup_s, run.seconds / 4)
    points = [(t, b) for t, b in run.backlog if t >= skip]
    slope = _slope(points)
    allowed = 3 * run.rate + 150
    reasons = []
    if slope > 0.03 * run.rate + 50 / max(run.seconds - skip, 1):  # 3 %, and 50 records of batching noise
        reasons.append(f"backlog grew {slope:.1f}/s")
    if run.backlog_at_stop > allowed:
        reasons.append(f"backlog {run.backlog_at_stop} at stop (> {allowed:.0f})")
    if not run.drained:
        reasons.append(f"{run.sent - run.done} never done")
    ok = not reasons
    return ok, (
        f"kept pace (backlog slope {slope:+.1f}/s, {run.backlog_at_stop} at stop)" if ok else "; ".join(reasons)
    )


def _slope(points: Sequence[tuple[float, float]]) -> float:
    if len(points) < 3:
        return 0.0
    mx = statistics.fmean(t for t, _ in points)
    my = statistics.fmean(b for _, b in points)
    var = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (b - my) for t, b in points) / var if var else 0.0


class Observer:
    """Reads the raw topic and the topics that end a record's way, from the broker, as records arrive."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.raw_ts: dict[tuple[int, int], int] = {}
        self.done: set[tuple[int, int]] = set()
        self.enriched_ts: dict[tuple[int, int], int] = {}
        self.routed_ts: dict[tuple[int, int], int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._watched: set[str] = set()

    async def start(self) -> None:
        s = self.side.settings
        self._tasks.append(asyncio.create_task(self._read([s.topics.raw])))
        self._tasks.append(
            asyncio.create_task(self._read(list(dict.fromkeys([self.side.enriched_topic, *self.side.done_topics]))))
        )
        if self.side.routed_prefix:
            self._tasks.append(asyncio.create_task(self._discover()))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    async def _discover(self) -> None:
        """Watch the language topics publish creates (one per language seen)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.side.settings.bootstrap_servers)
        await admin.start()
        try:
            while True:
                new = [t for t in await admin.list_topics()
                       if t.startswith(self.side.routed_prefix or "") and t not in self._watched]  # fmt: skip
                if new:
                    self._watched.update(new)
                    self._tasks.append(asyncio.create_task(self._read(new)))
                await asyncio.sleep(1)
        finally:
            await admin.close()

    async def _read(self, topics: list[str]) -> None:
        s = self.side.settings
        c = AIOKafkaConsumer(bootstrap_servers=s.bootstrap_servers, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest")  # fmt: skip
        await c.start()
        try:
            tps = [tp for t in topics for tp in await _partitions(c, t)]
            c.assign(tps)
            await c.seek_to_beginning(*tps)
            raw, enriched = s.topics.raw, self.side.enriched_topic
            while True:
                batch = await c.getmany(timeout_ms=200, max_records=5000)
                for tp, msgs in batch.items():
                    for m in msgs:
                        if tp.topic == raw:
                            self.raw_ts[(m.partition, m.offset)] = m.timestamp
                            continue
                        key = _origin(tp.topic, m.value or b"", s.topics)
                        if key is None:
                            continue
                        if tp.topic == enriched:
                            self.enriched_ts.setdefault(key, m.timestamp)
                        if tp.topic in self.side.done_topics or not self.side.routed_prefix:
                            self.done.add(key)
                        if self.side.routed_prefix and tp.topic.startswith(self.side.routed_prefix):
                            self.routed_ts.setdefault(key, m.timestamp)
                            self.done.add(key)
        finally:
            await c.stop()


async def _partitions(c: AIOKafkaConsumer, topic: str) -> list[Any]:
    from services.clients import topic_partitions

    for _ in range(50):
        tps = await topic_partitions(c, topic)
        if tps:
            return list(tps)
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions")


def _origin(topic: str, value: bytes, topics: Topics) -> tuple[int, int] | None:
    """(raw partition, raw offset) that a done record came from."""
    try:
        d = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if topic == topics.dlq:
        if d.get("source_topic") == topics.raw:
            return int(d["source_partition"]), int(d["source_offset"])
        try:  # a dead letter of enrich or publish: the article it holds says which raw record it was
            d = orjson.loads(base64.b64decode(d["original_value_b64"]))
        except (ValueError, KeyError, TypeError):
            return None
    o = d.get("origin") or {}
    return (int(o["partition"]), int(o["offset"])) if "offset" in o else None


async def run_at(side: Side, obs: Observer, rate: float, seconds: float, drain_s: float, tag: str) -> Run:
    """Send ``rate * seconds`` new raw records on schedule; follow the backlog; wait for the outputs."""
    s = side.settings
    run = Run(rate=rate, seconds=seconds)
    n = max(1, int(rate * seconds))
    values = make_raw(n, seed=zlib.crc32(tag.encode()), tag=tag)
    p = AIOKafkaProducer(bootstrap_servers=s.bootstrap_servers, linger_ms=2, max_batch_size=1_048_576)
    await p.start()
    mine: list[tuple[int, int]] = []
    pending: list[asyncio.Future[Any]] = []
    cpu0, sys0 = _cpu(side), psutil.cpu_times()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    next_sample = 1.0
    done_before = len(obs.done)
    try:
        i = 0
        while i < n:
            now = loop.time() - t0
            due = min(n, int(now * rate) + 1)
            while i < due:
                pending.append(await p.send(s.topics.raw, values[i]))
                i += 1
            if now >= next_sample:
                run.backlog.append((now, i - (len(obs.done) - done_before)))
                next_sample += 1.0
            await asyncio.sleep(max(0.0, min((i / rate) - now, 0.02)))
        for md in await asyncio.gather(*pending):
            mine.append((md.partition, md.offset))
        elapsed = loop.time() - t0
        run.cpu = {k: v / elapsed for k, v in _cpu_delta(cpu0, _cpu(side)).items()}
        sys1 = psutil.cpu_times()
        run.machine_busy = (sum(sys1) - sys1.idle - sys1.iowait - sum(sys0) + sys0.idle + sys0.iowait) / elapsed
        mine_set = set(mine)
        run.sent = len(mine)
        run.backlog_at_stop = run.sent - len(mine_set & obs.done)
        deadline = loop.time() + drain_s
        while loop.time() < deadline and not mine_set <= obs.done:
            _check_alive(side)
            await asyncio.sleep(0.2)
        run.done = len(mine_set & obs.done)
        run.drained = run.done == run.sent
        await asyncio.sleep(1.0)  # the routed copies of the last records
        for key in mine:
            ts = obs.raw_ts.get(key)
            if ts is None:
                continue
            if key in obs.enriched_ts:
                run.enriched_ms.append(obs.enriched_ts[key] - ts)
            if key in obs.routed_ts:
                run.routed_ms.append(obs.routed_ts[key] - ts)
    finally:
        await p.stop()
    run.verdict = keeps_pace(run)[1]
    return run


def _check_alive(side: Side) -> None:
    for proc in side.popens:
        if proc.poll() is not None:
            args = proc.args if isinstance(proc.args, list | tuple) else [proc.args]
            raise RuntimeError(f"{side.name}: {' '.join(map(str, args))} exited with {proc.returncode}")


def _cpu(side: Side) -> dict[str, float]:
    out = {"bench (producer + observer)": sum(psutil.Process().cpu_times()[:2])}
    for name, proc in side.procs.items():
        with contextlib.suppress(psutil.Error):
            out[name] = sum(proc.cpu_times()[:2])
    return out


def _cpu_delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: b[k] - a[k] for k in b if k in a}


async def burst_rate(side: Side, obs: Observer, n: int) -> float:
    """Closed loop: everything at once; records done per second between 10 % and 90 % of them."""
    s = side.settings
    p = AIOKafkaProducer(bootstrap_servers=s.bootstrap_servers, linger_ms=5, max_batch_size=1_048_576)
    await p.start()
    base = len(obs.done)
    values = make_raw(n, seed=1, tag=f"{side.name}-burst")
    try:
        mds = await asyncio.gather(*[await p.send(s.topics.raw, v) for v in values])
    finally:
        await p.stop()
    mine = {(md.partition, md.offset) for md in mds}
    loop = asyncio.get_running_loop()
    marks: dict[float, float] = {}
    deadline = loop.time() + 900
    while loop.time() < deadline:
        got = len(obs.done) - base
        for q in (0.1, 0.9):
            if got >= q * len(mine) and q not in marks:
                marks[q] = loop.time()
        if mine <= obs.done:
            break
        _check_alive(side)
        await asyncio.sleep(0.1)
    if 0.9 not in marks:
        raise TimeoutError("the burst was never done")
    return 0.8 * len(mine) / max(marks[0.9] - marks[0.1], 1e-3)


async def search(side: Side, obs: Observer, res: Result, start: float, args: argparse.Namespace,
                 log: Any) -> AsyncIterator[None]:  # fmt: skip
    """Rates tried in turn (up 15 % after a pass, bisect after a failure), a step per rate; the highest
    that kept pace becomes ``res.max_rate``."""
    lo: tuple[float, Run] | None = None
    hi: float | None = None
    rate = start
    k = 0
    while k < args.trials or (lo is None and k < args.trials + 4):  # a few more if none passed yet
        k += 1
        run = await run_at(side, obs, rate, args.window, args.drain, tag=f"{side.name}-trial{k}")
        res.runs.append(run)
        ok, why = keeps_pace(run)
        log(f"    {side.name}: {rate:7.1f} articles/s for {args.window:.0f} s: {why}")
        if ok:
            lo = (rate, run) if lo is None or rate > lo[0] else lo
            res.max_rate, res.at_max = lo
        else:
            hi = rate if hi is None or rate < hi else hi
        yield
        if lo is None:
            rate = rate * 0.75
        elif hi is None:
            rate = rate * 1.15
        elif hi / lo[0] < 1.06:
            break
        else:
            rate = (lo[0] + hi) / 2


def _found(runs: list[Run], max_rate: float) -> bool:
    """Whether a faster rate than the max was tried and failed (else the max is only a lower bound)."""
    return any(r.rate > max_rate and not keeps_pace(r)[0] for r in runs)


# --------------------------------------------------------------------------------------- the sides


def _routing_file(run: str, directory: Path) -> Path:
    path = directory / f"{run}-routing.yaml"
    path.write_text(
        "routes:\n"
        f"  - {{name: by-language, topic: '{run}.published.lang.{{language}}'}}\n"
        f"  - {{name: by-category, topic: '{run}.published.category.{{category}}'}}\n"
    )
    return path


def newsflow_side(bootstrap: str, redis_url: str, tmp: Path) -> Side:
    s = bench_settings(bootstrap, redis_url, "e", partitions=PARTITIONS, commit_interval_s=0.5)
    run = s.group_prefix
    s = s.model_copy(update={"routing_file": _routing_file(run, tmp)})
    t = s.topics
    return Side("newsflow", s, [t.duplicates, t.dlq], t.enriched, routed_prefix=f"{run}.published.lang.")


def baseline_side(bootstrap: str, redis_url: str) -> Side:
    s = bench_settings(bootstrap, redis_url, "n", partitions=PARTITIONS)
    return Side("baseline", s, [s.topics.enriched], s.topics.enriched)


def start_newsflow(side: Side, enrich_workers: int) -> None:
    asyncio.run(ensure_topics(side.settings))
    groups: list[list[int]] = []
    for service in ("ingest", "enrich", "publish"):
        copies = enrich_workers if service == "enrich" else 1
        groups.append([])
        for k in range(copies):
            proc, port = start_service(service, side.settings)
            side.popens.append(proc)
            side.procs[service if copies == 1 else f"{service} {k + 1}"] = psutil.Process(proc.pid)
            groups[-1].append(port)
    for ports in groups:
        wait_shared(ports)


def start_baseline(side: Side) -> None:
    asyncio.run(ensure_topics(side.settings))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.e2e", "--naive-worker"], env=child_env(side.settings), cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    side.popens.append(proc)
    side.procs["baseline worker"] = psutil.Process(proc.pid)


def stop_side(side: Side) -> dict[str, float]:
    """Stop the side's processes; their peak RSS in MB."""
    peaks = {name: peak_rss_mb(p.pid) for name, p in side.procs.items() if p.is_running()}
    for proc in side.popens:
        proc.terminate()
    for proc in side.popens:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    side.popens.clear()
    return peaks


@dataclass
class Result:
    max_rate: float = 0.0
    at_max: Run | None = None
    runs: list[Run] = field(default_factory=list)
    latency: dict[float, Run] = field(default_factory=dict)
    rss: dict[str, float] = field(default_factory=dict)
    burst: float = 0.0


async def measure(side: Side, res: Result, args: argparse.Namespace, log: Any) -> AsyncIterator[None]:
    """The burst, the rate search and the latency points of one side, a step (one run) at a time."""
    obs = Observer(side)
    await obs.start()
    try:
        await asyncio.sleep(1)
        burst = args.burst if side.name == "newsflow" else args.burst // 4
        res.burst = await burst_rate(side, obs, burst)
        log(f"    {side.name}: closed-loop burst of {burst}: {res.burst:.1f} articles/s")
        yield
        async for _ in search(side, obs, res, 0.9 * res.burst, args, log):
            yield
        for share in (0.25, 0.5, 0.8):
            rate = share * res.max_rate
            if rate <= 0:
                continue
            run = await run_at(side, obs, rate, args.latency_window, args.drain, tag=f"{side.name}-lat{share}")
            res.latency[share] = run
            log(f"    {side.name}: {share:.0%} of max, {rate:.1f} articles/s: {run.verdict}")
            yield
    finally:
        await obs.stop()


async def in_turns(*steps: AsyncIterator[None]) -> None:
    """Run the sides' steps in turns (one side's run, then the other's), so a burst of load on a
    shared machine hits both sides rather than one."""
    active = list(steps)
    while active:
        for it in list(active):
            try:
                await anext(it)
            except StopAsyncIteration:
                active.remove(it)
            await asyncio.sleep(2)  # the other side's last outputs settle


# ---------------------------------------------------------------------------------------- the report


def _pcts(ms: list[float]) -> str:
    if not ms:
        return f"{'-':>31}"
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return f"{q[49]:>7.0f}{q[94]:>8.0f}{q[98]:>8.0f}{max(ms):>8.0f}"


def report(ours: Result, base: Result, quality: dict[str, Any], meta: dict[str, Any]) -> None:
    p = print
    p(f"\nbench-e2e, {meta['date']}, {meta['cpu']} ({os.cpu_count()} cores), Tansu + own Redis, "
      f"{PARTITIONS} partitions, window {meta['window']:.0f} s{' (--quick)' if meta['quick'] else ''}")  # fmt: skip
    ratio = ours.max_rate / base.max_rate if base.max_rate else float("nan")
    p(f"\n{'':<44}{'newsflow':>12}{'baseline':>12}{'ratio':>8}")
    p(f"{'max sustained articles/s (kept pace)':<44}{ours.max_rate:>12.1f}{base.max_rate:>12.1f}{ratio:>7.1f}x")
    for label, res in (("newsflow", ours), ("baseline", base)):
        if not _found(res.runs, res.max_rate):
            p(f"  {label}'s max is a lower bound: no faster rate was tried and failed (more --trials)")
    p(f"{'closed-loop burst articles/s':<44}{ours.burst:>12.1f}{base.burst:>12.1f}"
      f"{ours.burst / max(base.burst, 1e-9):>7.1f}x")  # fmt: skip
    f_o, f_b = quality["newsflow"], quality["baseline"]
    for kind in ("people", "organizations", "places"):
        p(f"{'entity F1 ' + kind + ' (labelled set)':<44}{f_o[kind]:>12.3f}{f_b[kind]:>12.3f}"
          f"{f_o[kind] / max(f_b[kind], 1e-9):>7.2f}x")  # fmt: skip
    p(f"\nlatency, ms from the raw record's timestamp{'p50':>10}{'p95':>8}{'p99':>8}{'max':>8}")
    for share in (0.25, 0.5, 0.8):
        o, b = ours.latency.get(share), base.latency.get(share)
        if o:
            p(f"  newsflow {share:.0%} ({o.rate:.1f}/s) -> news.enriched{'':<6}{_pcts(o.enriched_ms)}")
            p(f"  newsflow {share:.0%} ({o.rate:.1f}/s) -> language topic{'':<5}{_pcts(o.routed_ms)}")
        if b:
            p(f"  baseline {share:.0%} ({b.rate:.1f}/s) -> output topic{'':<7}{_pcts(b.enriched_ms)}")
        if o and b and o.enriched_ms and b.enriched_ms:
            p(f"  p99 ratio baseline / newsflow (enriched){'':<3}"
              f"{_q99(b.enriched_ms) / max(_q99(o.enriched_ms), 1e-9):>7.1f}x")  # fmt: skip
    p("\npeak RSS, MB")
    for name, mb in {**ours.rss, **base.rss}.items():
        over = mb > 400 and name not in ("Tansu broker", "Redis")
        p(f"  {name:<40}{mb:>8.0f}{'  (> 400)' if over else ''}")
    for label, res in (("newsflow", ours), ("baseline", base)):
        if res.at_max:
            p(f"\nCPU at the max rate, {label} ({res.at_max.rate:.1f}/s), share of one core")
            for name, share in sorted(res.at_max.cpu.items(), key=lambda kv: -kv[1]):
                per = share * 1000 / res.at_max.rate
                p(f"  {name:<40}{share:>7.0%}{per:>9.1f} ms CPU per article")
            ours_busy = sum(res.at_max.cpu.values())
            p(f"  {'all of these':<40}{ours_busy:>7.0%} of {os.cpu_count()} cores")
            others = max(0.0, res.at_max.machine_busy - ours_busy)
            p(f"  {'other processes of the machine':<40}{others:>7.0%}"
              f"{'  (a busy machine: these figures are low)' if others > 0.2 else ''}")  # fmt: skip
    if quality.get("stages"):
        p(f"\nenrich, ms per article by stage (bench/enrich.py timing, one process, {quality['articles']} eval "
          f"articles; total {quality['total_ms']:.1f})")  # fmt: skip
        for stage, ms in sorted(quality["stages"].items(), key=lambda kv: -kv[1]):
            p(f"  {stage:<40}{ms:>8.2f}")
    half = _q99(ours.latency[0.5].enriched_ms) if 0.5 in ours.latency else float("nan")
    p(f"\ntargets: pipeline / baseline {ratio:.1f}x (>= 5x at equal or better entity F1); "
      f"p99 raw->enriched at 50 % of max {half:.0f} ms (<= 1000); peak RSS <= 400 MB per service")  # fmt: skip


def _q99(ms: list[float]) -> float:
    return statistics.quantiles(ms, n=100, method="inclusive")[98] if len(ms) > 1 else (ms[0] if ms else float("nan"))


def _quality(articles: int) -> dict[str, Any]:
    """Entity F1 of both sides on the labelled set and newsflow's stage timing (bench/enrich.py)."""
    from bench.enrich import _in_child, run_naive, run_newsflow

    ours = _in_child(run_newsflow, articles)
    naive = _in_child(run_naive, 24)
    return {"newsflow": ours["f1"], "baseline": naive["f1"], "stages": ours["stages"],
            "total_ms": 1000 / ours["rate"], "articles": articles}  # fmt: skip


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smoke run: 15 s windows, 2 trials (a few minutes)")
    ap.add_argument("--window", type=float, default=60.0, help="seconds each rate is held in the search")
    ap.add_argument("--trials", type=int, default=4, help="rates tried per side")
    ap.add_argument("--latency-window", type=float, default=30.0, help="seconds at each latency point")
    ap.add_argument("--enrich-workers", type=int, default=1, help="enrich processes of newsflow (one group)")
    ap.add_argument("--naive-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.naive_worker:
        asyncio.run(naive_worker())
        return
    if args.quick:
        args.window, args.trials, args.latency_window = 15.0, 2, 8.0
    args.drain = max(10.0, args.window / 4)
    args.burst = 1200 if not args.quick else 400
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop what was started

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - started:6.0f} s] {msg}", flush=True)

    meta = {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "cpu": _cpu_name(), "window": args.window,
            "quick": args.quick}  # fmt: skip
    port, rport = free_port(), free_port()
    broker, redis = start_tansu(port), start_redis(rport)
    bootstrap, redis_url = f"127.0.0.1:{port}", f"redis://127.0.0.1:{rport}/0"
    log(f"Tansu {bootstrap} (pid {broker.pid}), Redis {redis_url} (pid {redis.pid})")
    infra = {"Tansu broker": psutil.Process(broker.pid), "Redis": psutil.Process(redis.pid)}
    sides: list[Side] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ours_side = newsflow_side(bootstrap, redis_url, Path(tmp))
            sides.append(ours_side)
            start_newsflow(ours_side, args.enrich_workers)
            ours_side.procs.update(infra)
            base_side = baseline_side(bootstrap, redis_url)
            sides.append(base_side)
            start_baseline(base_side)
            base_side.procs.update(infra)
            log("newsflow (ingest, enrich, publish) and the baseline worker running; their runs take turns")
            ours, base = Result(), Result()
            asyncio.run(in_turns(measure(ours_side, ours, args, log), measure(base_side, base, args, log)))
            ours.rss = {f"newsflow {k}": v for k, v in stop_side(ours_side).items() if k not in infra}
            base.rss = {k: v for k, v in stop_side(base_side).items() if k not in infra}
            base.rss.update({k: peak_rss_mb(p.pid) for k, p in infra.items()})
        log("entity quality and enrich stage timing (bench/enrich.py)")
        quality = _quality(200 if not args.quick else 64)
    finally:
        for side in sides:
            stop_side(side)
        stop(broker)
        stop(redis)
    report(ours, base, quality, meta)
    print(f"\ntotal runtime {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
