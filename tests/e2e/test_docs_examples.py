"""The documentation's examples work: every code block of the README and the getting-started page is run, in
order, against running ingest, enrich and publish workers (``devtools/docs_examples.py`` says how a page marks
a block that another test covers, that needs a program, or that is output).

The page's defaults (``127.0.0.1:9092``, ``news.raw``, the ``my-app`` group, ...) are replaced by this test's
broker address, topic names and group before a block runs; the CLI gets this test's settings from the
environment, as a reader's shell would from theirs."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import orjson
import pytest

from devtools.docs_examples import Example, examples, localise
from devtools.embedded import free_port
from shared.settings import Settings

from ..apikey_util import make_key
from ..conftest import settings_env
from ..kafkautil import collect
from ..webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
#: the pages whose every block is run or covered: the README's, the getting-started and the delivery examples
PAGES = (ROOT / "README.md", DOCS / "getting-started.md", DOCS / "delivery.md")


def _replacements(settings: Settings) -> dict[str, str]:
    t = settings.topics
    return {
        "127.0.0.1:9092": settings.bootstrap_servers,
        "news.raw": t.raw,
        "news.ingested": t.ingested,
        "news.enriched": t.enriched,
        "news.duplicates": t.duplicates,
        "news.dlq": t.dlq,
        "my-app": f"{settings.group_prefix}-docs-reader",
    }


def _run(
    example: Example,
    settings: Settings,
    timeout: float = 120,
    extra: dict[str, str] | None = None,
    replacements: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    code = localise(example.code, {**_replacements(settings), **(replacements or {})})
    env = {
        **os.environ,
        **settings_env(settings),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "200",
        **(extra or {}),
    }
    if example.directive == "runs-for":
        cmd = ["bash", "-c", code]
        try:
            r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=float(example.argument), check=False)  # fmt: skip
        except subprocess.TimeoutExpired as exc:  # still running when stopped: what the page says it does
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            return subprocess.CompletedProcess(cmd, 0, out, "")
        return subprocess.CompletedProcess(cmd, r.returncode or 1, r.stdout, f"ended by itself: {r.stderr}")
    if example.language in ("bash", "sh", "console", "shell"):
        cmd = ["bash", "-euo", "pipefail", "-c", code]
    elif example.language == "python":
        cmd = [sys.executable, "-c", code]
    else:
        raise AssertionError(f"{example}: no way to run a {example.language!r} block; mark it as output")
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _recipe(target: str) -> str:
    """The first command of a Makefile target's recipe."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    return next(
        line.strip() for line in lines[start + 1 :] if line.startswith("\t") and not line.strip().startswith("@")
    )


def test_every_block_is_run_or_covered_by_a_test_that_runs_it() -> None:
    for page in PAGES:
        blocks = examples(page)
        assert blocks, f"{page} has no code blocks"
        for ex in blocks:
            if ex.directive != "covered-by":
                assert ex.runs or ex.directive == "output", f"{ex}: neither run nor covered"
                continue
            covering = [ROOT / name for name in ex.argument.split()]
            assert all(p.is_file() for p in covering), f"{ex}: covered by {ex.argument}, which does not exist"
            texts = "\n".join(p.read_text(encoding="utf-8") for p in covering)
            for line in ex.code.splitlines():
                target = line.split("#")[0].split()
                assert target[:1] == ["make"], f"{ex}: only make targets can be covered elsewhere: {line!r}"
                recipe = _recipe(target[1])
                args = recipe.split("newsflow", 1)[-1].split() if "newsflow" in recipe else []
                # make run -> `newsflow dev --demo`: the covering test runs that; make test -> CI runs it
                assert f"make {target[1]}" in texts or (args and all(f'"{a}"' in texts for a in args)), (
                    f"{ex}: {' '.join(target)} ({recipe}) is not run by {ex.argument}"
                )


async def test_getting_started_runs_as_written(settings: Settings, workers) -> None:
    for service in ("ingest", "enrich", "publish"):
        workers.start(service)
    ran: list[str] = []
    for ex in [ex for page in PAGES[:2] for ex in examples(page)]:
        if not ex.runs:
            continue
        if ex.directive == "requires" and shutil.which(ex.argument) is None:
            continue  # kcat: the existing client test skips the same way; `make test` installs it when root
        r = _run(ex, settings)
        assert r.returncode == 0, f"{ex} failed ({r.returncode}):\n{ex.code}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
        ran.append(f"{ex}\n{r.stdout}")
    out = "\n".join(ran)
    # what the page promises the reader sees: the sample wire story enriched, its retyped copy as a duplicate
    assert "escalation as Israel war cabinet" in out, out[-4000:]
    dups = await collect(settings, [settings.topics.duplicates], count=1, timeout_s=30)
    assert any(orjson.loads(g.value).get("duplicate_of") for g in dups)


async def _wait_http(url: str, timeout_s: float = 90) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert asyncio.get_running_loop().time() < deadline, f"{url} did not answer"
            await asyncio.sleep(0.5)


async def test_delivery_runs_as_written(settings: Settings, workers) -> None:
    """The delivery page: a subscription made with a write key, the samples sent, the Japan story POSTed to the
    page's webhook URL (here a local receiver, which the publish worker may reach because the test sets the two
    allow flags) and verified with the page's own five lines; the live stream opened with the key."""
    receiver = Receiver()
    await receiver.start()
    port = free_port()
    try:
        for service in ("ingest", "enrich"):
            workers.start(service)
        workers.start("publish", NEWSFLOW_WEB_PORT=str(port), NEWSFLOW_WEBHOOK_ALLOW_INSECURE="true",
                      NEWSFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS="true")  # fmt: skip
        await _wait_http(f"http://127.0.0.1:{port}/livez")
        key = await make_key(settings, "japan-desk")
        hook = receiver.endpoint("news", "whsec_placeholder")  # the real secret comes back from the create call
        env = {"PORT": str(port), "NEWSFLOW_KEY": key}
        blocks = examples(DOCS / "delivery.md")
        outputs = []
        for ex in blocks:
            if ex.language != "bash":
                continue
            r = _run(ex, settings, extra=env, replacements={"https://desk.example.org/hooks/news": hook})
            assert r.returncode == 0, (
                f"{ex} failed ({r.returncode}):\n{ex.code}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
            )
            outputs.append(r.stdout)
        created, _ = json.JSONDecoder().raw_decode(outputs[0])  # the create call's answer, then the list's
        assert created["id"] == "jp-desk" and created["owner"] == "japan-desk"
        got = await receiver.wait_for("news", 1, timeout_s=90)
        assert got, workers.logs()
        (verify,) = [ex for ex in blocks if ex.language == "python"]
        namespace: dict[str, object] = {}
        exec(compile(verify.code, str(verify), "exec"), namespace)  # the page's own example
        handle = namespace["handle"]
        assert callable(handle)
        data = handle(got[0].body, got[0].headers, created["target"]["secrets"][0])
        assert data["enrichment"]["countries"]["value"][0]["code"] == "JP"
    finally:
        await receiver.stop()
