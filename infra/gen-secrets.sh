#!/bin/sh
# Writes .env (or the file given as $1) from .env.example with strong random secrets: the PostgreSQL
# password (also inside DATABASE_URL), the engine secret (also inside DRACHTIO_URL), the operator's
# password, the digest nonce secret and the push credentials key. An existing file is never overwritten, so re-running cannot lock anyone out.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/.env"}
template=${TEMPLATE:-"$here/.env.example"}

if [ -e "$out" ]; then
  echo "gen-secrets: $out exists; remove it first to generate new secrets" >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "gen-secrets: openssl is needed" >&2; exit 1; }

# URL-safe alphabet only: the secrets go into URLs and command lines unquoted.
secret() { openssl rand -base64 48 | tr -d '\n=+/' | cut -c1-"$1"; }
pg=$(secret 32)
engine=$(secret 32)
admin=$(secret 24)
nonce=$(secret 32)
push=$(openssl rand -hex 32)

umask 077
sed -e "s|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=$pg|" \
    -e "s|^DATABASE_URL=postgresql://switchboard:[^@]*@|DATABASE_URL=postgresql://switchboard:$pg@|" \
    -e "s|^ENGINE_SECRET=.*|ENGINE_SECRET=$engine|" \
    -e "s|^DRACHTIO_URL=drachtio://[^@]*@|DRACHTIO_URL=drachtio://$engine@|" \
    -e "s|^ADMIN_PASSWORD=.*|ADMIN_PASSWORD=$admin|" \
    -e "s|^SIP_NONCE_SECRET=.*|SIP_NONCE_SECRET=$nonce|" \
    -e "s|^PUSH_CREDENTIALS_KEY=.*|PUSH_CREDENTIALS_KEY=$push|" \
    "$template" > "$out"
echo "gen-secrets: wrote $out (mode 600). The operator password is ADMIN_PASSWORD in that file."
