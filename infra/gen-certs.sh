#!/bin/sh
# Self-signed certificates for a first try: SIP over TLS/WSS (sip.crt/sip.key) and HTTPS (web.crt/web.key)
# in ./tls (or $TLS_DIR). Usage: ./gen-certs.sh sip.example.com [203.0.113.10]
# Softphones and browsers warn about them; for production put certificates from your CA under the same
# names (see docs/deploy.md). Existing files are kept.
set -eu
name=${1:?usage: gen-certs.sh <host name> [ip address]}
ip=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
dir=${TLS_DIR:-"$here/tls"}
days=${DAYS:-365}
mkdir -p "$dir"

san="DNS:$name"
[ -n "$ip" ] && san="$san,IP:$ip"

for which in sip web; do
  if [ -e "$dir/$which.crt" ] || [ -e "$dir/$which.key" ]; then
    echo "gen-certs: $dir/$which.crt or .key exists, kept"
    continue
  fi
  (umask 077; openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
    -keyout "$dir/$which.key" -out "$dir/$which.crt" \
    -subj "/CN=$name" -addext "subjectAltName=$san" 2>/dev/null)
  # The services run as unprivileged users; the key stays unreadable to everyone else.
  chmod 640 "$dir/$which.key"
  chmod 644 "$dir/$which.crt"
  echo "gen-certs: wrote $dir/$which.crt (CN=$name, $san, $days days)"
done
