"""Enrich's memory, step by step, next to the naive composition of the same libraries, in one run.

    python -m bench.memory [--batches 12] [--repeat 2] [--env NAME=VALUE ...] [--no-naive] [--no-worker]

Each side runs in its own child process (a fresh interpreter, so each figure is that side's own),
reports its resident set size (VmRSS) after each step and, at the end, its peak (VmHWM, both read
from ``/proc/<pid>/status``):

- newsflow: the enrich service as ``services/enrich/app.py`` composes it: its imports (Faust,
  ``shared.kafka``, the bootstrap), then :func:`services.enrich.bootstrap.build_pipeline`'s steps one
  at a time (the spaCy models, the enrichers, the warm-up), then :func:`build_handler`'s handler (the
  Redis story index on the shared Redis under a namespace of its own, deleted at the end; no story
  index if Redis does not answer) over ``--batches`` batches of real articles: the labelled
  evaluation sets (evaluation/enrich, evaluation/stories) and CoNLL-2003 dev (what bench.quality
  reads, if present), ``--repeat`` times over with distinct ids, in batches of
  ``enrich_batch_size * 4`` records as the Faust agent hands them to the handler.
- naive: a bare interpreter importing spaCy and loading the same models' full pipelines, python
  ``yake``, VADER and py3langid's stock identifier, then running each article through them (what
  ``bench.enrich``'s naive side does): what gluing the libraries together costs in memory.

- worker: the real enrich worker (``python -m services.cli enrich``: Faust, aiokafka, the Redis story
  index) on an embedded Tansu broker, fed the same ``--batches * enrich_batch_size * 4`` articles
  once it holds its partitions; its VmHWM when the last one is enriched (what bench-e2e reports
  per worker). Skipped with ``--no-worker`` or when Tansu or Redis is not there.

``--env NAME=VALUE`` sets a variable in the newsflow and worker children only (``MALLOC_ARENA_MAX=2``,
``NEWSFLOW_SPACY_FAST_NER=false``, ...), to measure one setting against the other in two runs.
Figures only: nothing here is timed and nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent


def _status_mb(field: str) -> float:
    """``field`` (VmRSS, VmHWM) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _report(step: str, **extra: Any) -> None:
    """One step's figures as a JSON line on stdout (the parent reads them)."""
    print(json.dumps({"step": step, "rss": _status_mb("VmRSS"), "peak": _status_mb("VmHWM"), **extra}), flush=True)


def _articles(repeat: int) -> list[Any]:
    """The evaluation sets' articles and CoNLL dev's (if present), ``repeat`` times with distinct ids."""
    from evaluation.enrich_eval import load_eval_set
    from evaluation.story_eval import load_story_set

    base = [i.article for i in load_eval_set()] + [i.article for i in load_story_set()]
    try:
        from bench.quality import articles
        from evaluation.conll_eval import default_conll_path, read_conll

        base += [a for a in articles(read_conll(default_conll_path())) if a is not None]
    except OSError:
        pass
    return [a.model_copy(update={"id": f"{a.id}-r{r}"}) for r in range(repeat) for a in base]


# ------------------------------------------------------------------------------------------ the sides


def newsflow_child(batches: int, repeat: int) -> None:
    """The enrich service's composition, one step at a time (see the module doc)."""
    _report("python")
    import services.enrich.app  # noqa: F401  # faust, shared.kafka, the bootstrap: what the worker imports
    from devtools.embedded import port_open
    from services.enrich.analysis.nlp import SpacyPool, freeze_heap
    from services.enrich.bootstrap import build_handler, limit_malloc_arenas
    from services.enrich.enrichers.registry import default_enrichers
    from services.enrich.pipeline import EnrichmentPipeline
    from shared.records import InRecord
    from shared.settings import get_settings

    _report("imports (faust, shared.kafka, enrich)")
    settings = get_settings()
    settings = settings.model_copy(update={"redis_namespace": f"nfbench:mem{uuid.uuid4().hex[:8]}"})
    # build_pipeline(settings), step by step
    arenas = limit_malloc_arenas()
    pool = SpacyPool(settings)
    pool.warm()
    _report("spaCy models loaded", models=", ".join(sorted(pool.model_names.values())))
    pipeline = EnrichmentPipeline(default_enrichers(settings, pool=pool), budget_s=settings.enrich_budget_s)
    _report("enrichers built (py3langid, YAKE, VADER)")
    pipeline.warm()
    freeze_heap()
    _report("warm-up (gazetteers, lexicons)")

    articles = _articles(repeat)
    size = settings.enrich_batch_size * 4  # what app.py's batch agent hands the handler at most
    host, _, port = settings.redis_url.removeprefix("redis://").split("/")[0].rpartition(":")
    redis_up = port_open(host or "127.0.0.1", int(port or 6379))

    async def run() -> None:
        from shared.redis_client import make_redis

        redis = make_redis(settings) if redis_up else None
        handler = build_handler(settings, redis=redis, pipeline=pipeline) if redis is not None else None
        if handler is None:
            from services.enrich.handler import EnrichHandler

            handler = EnrichHandler(settings, pipeline, stories=None)
        done = 0
        try:
            for b in range(batches):
                chunk = [articles[(b * size + i) % len(articles)] for i in range(size)]
                recs = [InRecord("news.ingested", 0, done + i, None, a.model_dump_json().encode(), {}, 0)
                        for i, a in enumerate(chunk)]  # fmt: skip
                await handler.handle(recs)
                done += len(recs)
                if b in (0, batches // 2) or b == batches - 1:
                    _report(f"after {b + 1} batch(es) of {size} ({done} articles)")
        finally:
            if redis is not None:
                keys = [k async for k in redis.scan_iter(match=f"{settings.redis_namespace}:*", count=1000)]
                for i in range(0, len(keys), 500):
                    await redis.delete(*keys[i : i + 500])
                await redis.aclose()

    asyncio.run(run())
    env_arenas = os.environ.get("MALLOC_ARENA_MAX", "glibc's default")
    arenas_note = "2 (limit_malloc_arenas)" if arenas else f"MALLOC_ARENA_MAX {env_arenas}"
    _report("end", articles=len(articles), story_index="redis" if redis_up else "none", malloc_arenas=arenas_note)


def naive_child(batches: int, repeat: int) -> None:
    """spaCy's full pipelines, python yake, VADER and py3langid, article by article."""
    _report("python")
    import spacy  # noqa: F401
    import yake
    from py3langid.langid import MODEL_FILE, LanguageIdentifier
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from bench.enrich import _MODELS, _load_full, _text
    from shared.settings import get_settings

    _report("imports (spaCy, yake, VADER, py3langid)")
    nlps = {lang: _load_full(lang) for lang in _MODELS}
    names = sorted(f"{n.meta['lang']}_{n.meta['name']}" for n in nlps.values())
    _report("spaCy models loaded", models=", ".join(names))
    langid = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    extractors = {lang: yake.KeywordExtractor(lan=lang, n=3, top=10) for lang in ("en", "fr", "es")}
    vader = SentimentIntensityAnalyzer()
    _report("py3langid, yake, VADER built")
    articles = _articles(repeat)
    size = get_settings().enrich_batch_size * 4
    n = batches * size
    for i in range(n):
        a = articles[i % len(articles)]
        text = _text(a)
        lang = a.language if a.language in nlps else "en"
        langid.classify(text[:1000])
        [(e.text, e.label_) for e in nlps[lang](text).ents]
        extractors.get(lang, extractors["en"]).extract_keywords(text)
        vader.polarity_scores(text)
        if i + 1 in (size, n // 2, n):
            _report(f"after {i + 1} articles")
    _report("end", articles=len(articles))


# ---------------------------------------------------------------------------------------------- parent


def _run_side(side: str, args: argparse.Namespace, env: dict[str, str]) -> list[dict[str, Any]]:
    cmd = [sys.executable, "-m", "bench.memory", "--child", side, "--batches", str(args.batches),
           "--repeat", str(args.repeat)]  # fmt: skip
    full_env = {**os.environ, "NEWSFLOW_LOG_LEVEL": "WARNING", **env}
    out = subprocess.run(cmd, env=full_env, cwd=ROOT, capture_output=True, text=True, check=False)
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"the {side} child failed (exit {out.returncode})")
    return rows


def _worker_peak(args: argparse.Namespace, env: dict[str, str]) -> tuple[float, int] | None:
    """(peak RSS MB, articles enriched) of a real enrich worker on Tansu; None if it cannot run here."""
    from bench._common import child_env, peak_rss_mb, produce_all
    from bench.scaling import arrival_times, settings_for, wait_shared
    from devtools.embedded import find_tansu, free_port, port_open, start_tansu, stop
    from shared import codec
    from shared.kafka import ensure_topics
    from shared.settings import get_settings

    redis_url = get_settings().redis_url
    try:
        find_tansu()
    except FileNotFoundError:
        return None
    if not port_open("127.0.0.1", 6379):
        return None
    port = free_port()
    broker = start_tansu(port)
    try:
        s = settings_for(f"127.0.0.1:{port}", redis_url)
        asyncio.run(ensure_topics(s))
        web = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "enrich"], env=child_env(s, NEWSFLOW_WEB_PORT=str(web), **env),
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_shared([web])
            n = args.batches * s.enrich_batch_size * 4
            articles = _articles(args.repeat)
            values = [codec.dumps(articles[i % len(articles)].model_copy(update={"id": f"nf_mem{i:06d}"}))
                      for i in range(n)]  # fmt: skip
            asyncio.run(produce_all(s, s.topics.ingested, values))
            done = asyncio.run(arrival_times(s, [s.topics.enriched], n, timeout_s=600))
            return peak_rss_mb(proc.pid), len(done)
        finally:
            proc.terminate()
            proc.wait(60)
            _delete_namespace(redis_url, s.redis_namespace)
    finally:
        stop(broker)


def _delete_namespace(redis_url: str, namespace: str) -> None:
    import redis

    r = redis.Redis.from_url(redis_url)
    keys = list(r.scan_iter(match=f"{namespace}:*", count=1000))
    for i in range(0, len(keys), 500):
        r.delete(*keys[i : i + 500])
    r.close()


def _table(name: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{name}")
    print(f"  {'step':<44} {'RSS MB':>8} {'+MB':>7} {'peak MB':>8}")
    prev = 0.0
    for r in rows:
        print(f"  {r['step']:<44} {r['rss']:>8.1f} {r['rss'] - prev:>+7.1f} {r['peak']:>8.1f}")
        prev = r["rss"]
    notes = {k: v for r in rows for k, v in r.items() if k not in ("step", "rss", "peak")}
    if notes:
        print("  " + "; ".join(f"{k}: {v}" for k, v in notes.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=12, help="handler calls (of enrich_batch_size * 4 articles)")
    ap.add_argument("--repeat", type=int, default=2, help="times over the articles, with distinct ids")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="for the newsflow child")
    ap.add_argument("--naive", action=argparse.BooleanOptionalAction, default=True, help="measure the naive side")
    ap.add_argument("--worker", action=argparse.BooleanOptionalAction, default=True, help="measure the real worker")
    ap.add_argument("--child", choices=("newsflow", "naive"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "newsflow":
        return newsflow_child(args.batches, args.repeat)
    if args.child == "naive":
        return naive_child(args.batches, args.repeat)
    env = dict(e.split("=", 1) for e in args.env)
    print(f"enrich memory, step by step (VmRSS after each step, VmHWM = peak), {args.batches} batches")
    if env:
        print("newsflow child environment: " + " ".join(f"{k}={v}" for k, v in env.items()))
    ours = _run_side("newsflow", args, env)
    naive = _run_side("naive", args, {}) if args.naive else []
    _table("newsflow enrich (the service's composition)", ours)
    if naive:
        _table("naive composition (full spaCy pipelines, yake, VADER, py3langid)", naive)
    worker = _worker_peak(args, env) if args.worker else None
    if worker is not None:
        print(f"\nthe enrich worker on Tansu (services.cli enrich): peak {worker[0]:.1f} MB, {worker[1]} articles")
    elif args.worker:
        print("\nthe enrich worker on Tansu: not measured (no Tansu binary or no Redis at 127.0.0.1:6379)")
    print(f"\npeak RSS: newsflow {ours[-1]['peak']:.0f} MB" + (f", naive {naive[-1]['peak']:.0f} MB" if naive else "")
          + (f", the worker {worker[0]:.0f} MB" if worker else ""))  # fmt: skip


if __name__ == "__main__":
    main()
