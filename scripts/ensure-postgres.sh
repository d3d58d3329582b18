#!/usr/bin/env bash
# Start a PostgreSQL (trust auth, user postgres, fsync off: a test server) at 127.0.0.1:5432 when none
# answers there, with its data in ${NEWSFLOW_TEST_PGDATA:-/tmp/newsflow-test-pg}. Without one the archive
# tests skip (the outage test starts a server of its own either way).
set -euo pipefail
port="${NEWSFLOW_TEST_PGPORT:-5432}"
if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then
  exit 0
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
py="${PYTHON:-$here/.venv/bin/python}"
data="${NEWSFLOW_TEST_PGDATA:-/tmp/newsflow-test-pg}"
if ! "$py" -c "import devtools.embedded as e; e.find_postgres_bin()" 2>/dev/null; then
  echo "no PostgreSQL binaries (apt-get install postgresql, or pip install pgserver): the archive tests will skip"
  exit 0
fi
cd "$here"
nohup "$py" -c "
import signal, sys, time
from pathlib import Path
from devtools.embedded import start_postgres
proc = start_postgres($port, Path('$data'), durable=False, log=Path('$data.log'))
signal.signal(signal.SIGTERM, lambda *_: (proc.terminate(), sys.exit(0)))
proc.wait()
" >/dev/null 2>&1 &
for _ in $(seq 1 120); do
  if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then
    echo "started PostgreSQL on 127.0.0.1:${port} (data in $data)"
    exit 0
  fi
  sleep 0.5
done
echo "PostgreSQL did not start (see $data.log)" >&2
exit 1
