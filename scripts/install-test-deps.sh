#!/usr/bin/env bash
# Installs and starts what the test suite talks to: real PostgreSQL, rtpengine, sipp, baresip, linphonec,
# dig, chromium and Redis, all from Debian's packages. Safe to run again.
set -euo pipefail
SUDO=""
AS_POSTGRES="runuser -u postgres --"
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; AS_POSTGRES="sudo -u postgres"; fi
export DEBIAN_FRONTEND=noninteractive

packages=(sip-tester rtpengine-daemon rtpengine-utils baresip-core linphone-cli dnsutils chromium openssl postgresql
  docker-compose redis-server espeak-ng sox kamailio kamailio-tls-modules poppler-utils)
need=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The Debian rtpengine package starts a system daemon with its own config; tests run their own instances.
# Stop only that daemon: other rtpengines on the machine belong to running tests.
$SUDO systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true
$SUDO service rtpengine-daemon stop >/dev/null 2>&1 || true

# The engine asks for a 4 MB UDP receive buffer (SIP_UDP_RECEIVE_BUFFER_BYTES); the kernel grants at most
# net.core.rmem_max, as docs/deploy.md tells operators. Raised here only when lower, never lowered.
rmem_max=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo 0)
if [ "$rmem_max" -lt 4194304 ]; then
  echo 4194304 | $SUDO tee /proc/sys/net/core/rmem_max >/dev/null 2>&1 \
    || echo "net.core.rmem_max stays $rmem_max (not permitted here)"
fi

# PostgreSQL: start the cluster if it is not running, then make sure the test role exists.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  cluster=$(ls /etc/postgresql | sort -V | tail -n 1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
$AS_POSTGRES psql -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchboard') THEN
    CREATE ROLE switchboard LOGIN CREATEDB PASSWORD 'switchboard';
  END IF;
END $$;
SQL
$AS_POSTGRES psql -q -tc "SELECT 1 FROM pg_database WHERE datname = 'switchboard_test'" | grep -q 1 \
  || $AS_POSTGRES createdb -O switchboard switchboard_test
# Redis (the cluster tests share call counters through it): start a throwaway one if none answers.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
echo "test dependencies ready"
