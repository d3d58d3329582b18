"""``newsflow dev --demo`` (what ``make run`` runs): starts everything, shows results, stops cleanly."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devtools.embedded import free_port, port_open

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent
# faust's service start/stop lines and its tables' borders, left out of a failure's log tails
_FAUST_NOISE = re.compile(r"\]: (Starting|Stopping)\.\.\. $|^[+|]")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def dev_env(tmp_path: Path, archive_url: str) -> tuple[dict[str, str], int, int]:
    """The environment of a ``newsflow dev`` of its own: free broker and Redis ports, data under ``tmp_path``,
    the archive in the test's own database (``pg_url``)."""
    kafka_port, redis_port = free_port(), free_port()
    env = {
        **os.environ,
        "NEWSFLOW_BOOTSTRAP_SERVERS": f"127.0.0.1:{kafka_port}",
        "NEWSFLOW_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "NEWSFLOW_PARTITIONS": "4",
        "NEWSFLOW_DATA_DIR": str(tmp_path / "data"),
        "NEWSFLOW_ARCHIVE_URL": archive_url,
        "COLUMNS": "200",
    }
    return env, kafka_port, redis_port


def start_dev(
    args: list[str], env: dict[str, str], out_path: Path, timeout_s: float
) -> tuple[subprocess.Popen[bytes], str]:
    """``newsflow dev ARGS`` as a process writing to ``out_path``; returns it and its output once the demo's
    results are shown (or at the timeout), failing at once if it exits before."""
    out = out_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "dev", *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    out.close()  # the child has its own descriptor
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline and "results shown" not in text:
        time.sleep(0.5)
        text = out_path.read_text(errors="replace")
        if proc.poll() is not None:
            raise AssertionError(text + log_tails(args))
    shown = re.search(r"demo: (\d+) of (\d+) results shown", text)
    if not shown or shown.group(1) != shown.group(2):  # results missing: say what each service was doing
        tails = log_tails(args)  # before stopping: what they were doing, not their shutdown
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(60)
        raise AssertionError(out_path.read_text(errors="replace") + tails)
    return proc, text


def log_tails(args: list[str], lines: int = 40) -> str:
    """The last ``lines`` lines of each child's log in the ``--log-dir`` of ``args`` (for a failure's message)."""
    if "--log-dir" not in args:
        return ""
    out = []
    for log in sorted(Path(args[args.index("--log-dir") + 1]).glob("*.log")):
        said = [x for x in log.read_text(errors="replace").splitlines() if not _FAUST_NOISE.search(x)]
        tail = said[-lines:]
        out.append(f"\n--- {log.name} (last {len(tail)} lines) ---\n" + "\n".join(tail))
    return "".join(out)


def test_dev_demo_starts_broker_and_redis_shows_the_enriched_sample_and_stops_everything(
    tmp_path: Path, pg_url: str
) -> None:
    env, kafka_port, redis_port = dev_env(tmp_path, pg_url)
    out_path = tmp_path / "dev.out"
    # the demo waits up to 180 s for its results; a busy machine (CI) may need more than a quiet one's 20 s
    proc, text = start_dev(["--demo", "--log-dir", str(tmp_path / "logs")], env, out_path, timeout_s=240)
    try:
        assert "started Tansu" in text and "started a server" in text, text
        assert "US says doesn't want escalation" in text, text
        assert "py3langid" in text, text  # enrichment fields say what produced them
        assert "duplicate" in text, text  # the retyped copy of the wire story
        assert "demo: 7 of 7 results shown" in text, text  # the 5 samples and the demo feed's 2 entries
        assert "Northport ferry crews end strike after pay deal" in text, text  # polled by intake
        page = re.search(r"Live story page and HTTP API: (http://127\.0\.0\.1:\d+/)", text)
        assert page, text
        with urllib.request.urlopen(page.group(1), timeout=5) as r:  # publish serves the live page
            assert b"live stories" in r.read()
        with urllib.request.urlopen(page.group(1) + "v1/stories", timeout=5) as r:  # reading needs no key in dev
            assert r.status == 200
        key = re.search(r"Admin API key for this session.*\n\s+(nfk_[A-Za-z0-9_-]{43})\n", text)
        assert key, text
        with pytest.raises(urllib.error.HTTPError) as refused:  # writing does
            urllib.request.urlopen(page.group(1) + "v1/subscriptions", timeout=5)
        assert refused.value.code == 401
        listing = urllib.request.Request(
            page.group(1) + "v1/subscriptions", headers={"Authorization": f"Bearer {key.group(1)}"}
        )
        with urllib.request.urlopen(listing, timeout=5) as r:  # the printed key is an admin key
            assert r.status == 200
        assert port_open("127.0.0.1", kafka_port) and port_open("127.0.0.1", redis_port)
        pids = [int(line.split("pid ")[1].split(",")[0]) for line in text.splitlines() if "pid " in line]
        assert len(pids) == 7, text  # broker, redis, five services (the archive's PostgreSQL answered: pg_url)
        assert "postgres: using the one at" in text, text
        # the Japan sample is in the archive, found by a word and its country
        search = page.group(1) + "v1/search?q=earthquake&country=JP"
        found: list[str] = []
        until = time.monotonic() + 30
        while not found and time.monotonic() < until:
            with urllib.request.urlopen(search, timeout=5) as r:
                found = [h["title"] for h in json.loads(r.read())["results"]]
            time.sleep(0.2)
        assert found and "earthquake" in found[0].lower(), found
        # each service's /metrics answers while it runs, with what it did
        (line,) = [x for x in text.splitlines() if x.startswith("metrics: ")]
        urls = dict(part.split(" ") for part in line.removeprefix("metrics: ").split(", "))
        for service, url in urls.items():
            wanted = (
                f'newsflow_records_in_total{{service="{service}"',
                f'newsflow_end_to_end_seconds_count{{service="{service}"}}'
                if service != "archive"
                else "newsflow_archived_total",  # the archive produces nothing: what it wrote
            )
            body, until = "", time.monotonic() + 30  # publish may still be on its first batch
            while time.monotonic() < until:
                with urllib.request.urlopen(url, timeout=5) as r:
                    body = r.read().decode()
                if all(w in body for w in wanted):
                    break
                time.sleep(0.5)
            for w in wanted:
                assert w in body, (service, w, body[:2000])
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    text = out_path.read_text(errors="replace")
    assert code == 0, text
    assert "stopped." in text
    assert not any(_alive(p) for p in pids), text
    assert not port_open("127.0.0.1", kafka_port) and not port_open("127.0.0.1", redis_port)
