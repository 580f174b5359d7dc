#!/usr/bin/env bash
# Installs (Debian packages) what the test suite needs and a fresh machine lacks: the engines
# the tests start themselves (PostgreSQL 15, Ceph radosgw), the peers the quick benchmarks
# compare with, Chromium, nginx. Run by .ci/run and by `npm test` (scripts/test.mjs) before the
# suites; a no-op when everything is there. Needs root (apt-get) only when something is missing.
set -euo pipefail

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v nginx >/dev/null 2>&1 || need_apt+=(nginx)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
# test/binary/deploy.test.ts checks the systemd unit with systemd-analyze verify.
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
# The PostgreSQL catalog tests start a throwaway cluster (test/helpers/engines/pg-global.ts).
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15)
# bench/dirs.mjs (run quick by test/bench) compares with aws s3 sync and rclone on a real radosgw.
command -v radosgw >/dev/null 2>&1 || need_apt+=(radosgw ceph-mon ceph-osd bc)
[ -x /usr/bin/aws ] || need_apt+=(awscli)
command -v rclone >/dev/null 2>&1 || need_apt+=(rclone)
# The README installs the Python SDK into a venv (python3 -m venv needs ensurepip).
python3 -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "the tests need these Debian packages: ${need_apt[*]}; install them (apt-get install -y --no-install-recommends ${need_apt[*]}) or run npm test as root" >&2
    exit 1
  fi
  echo "installing what the tests need: ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

