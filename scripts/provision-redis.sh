#!/usr/bin/env bash
# Makes a `redis-server` binary available for the tests of the distributed mode, and prints its path on stdout.
# When one is on PATH (or HEFTY_REDIS_SERVER names one, e.g. a valkey-server) nothing is installed. Otherwise,
# as root on Debian/Ubuntu (CI runs on a clean root machine), Debian's `redis-server` package is installed with
# apt-get, non-interactively; the package's own service is not started (the tests start private servers on
# random loopback ports). Idempotent; concurrent runs install once. Exits non-zero, saying why, when it cannot.
#
# Usage: scripts/provision-redis.sh          # prints e.g. /usr/bin/redis-server
set -euo pipefail

found() {
  if [[ -n "${HEFTY_REDIS_SERVER:-}" ]]; then
    command -v "$HEFTY_REDIS_SERVER" 2>/dev/null || return 1
  else
    command -v redis-server 2>/dev/null || { [[ -x /usr/bin/redis-server ]] && echo /usr/bin/redis-server; }
  fi
}

if found; then exit 0; fi
if [[ -n "${HEFTY_REDIS_SERVER:-}" ]]; then
  echo "provision-redis: HEFTY_REDIS_SERVER=$HEFTY_REDIS_SERVER is not an executable" >&2
  exit 1
fi
command -v apt-get >/dev/null || { echo "provision-redis: redis-server missing and no apt-get (Debian/Ubuntu) to install it" >&2; exit 1; }
if [[ "$(id -u)" != 0 ]]; then
  echo "provision-redis: redis-server missing; installing it needs root (sudo apt-get install -y redis-server)" >&2
  exit 1
fi

# Concurrent test processes provision once: the others wait here, then find it installed.
exec 9>"${TMPDIR:-/tmp}/hefty-provision-redis.lock"
flock 9
if found; then exit 0; fi

# Keep the package's init script from starting a system-wide server on port 6379 (policy-rc.d exit 101 = deny),
# unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "provision-redis: installing redis-server (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -qq update >&2
apt-get -y -qq --no-install-recommends install redis-server >&2
found || { echo "provision-redis: apt-get installed redis-server but no redis-server binary is on PATH" >&2; exit 1; }
