#!/bin/sh
# Makes compose/tokens/: one random token per role, a file each (compose/tokens/<role>, the token
# and nothing else), for docker-compose.yml's `secrets:` (tokens are never baked into the image nor
# put in the environment). The folder is git-ignored.
#
#   sh scripts/compose-tokens.sh [--force] [--out DIR] [--uid UID]
#
# Refuses to overwrite existing tokens unless --force: running services would no longer match.
# The folder is its owner's only (0700); the files are 0400, owned by --uid when given (root only:
# compose bind-mounts them as they are, so the containers' user, FFA_UID, must be able to read
# them; a swarm's secrets are readable inside the containers whoever owned the files).
# POSIX sh; needs /dev/urandom and base64 (coreutils) or od.
set -eu

ROLES="gic spmc spmd hypervisor guest orchestrator"

usage() {
  echo "usage: sh scripts/compose-tokens.sh [--force] [--out DIR] [--uid UID]" >&2
  exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/compose/tokens"
force=no
uid=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=yes ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift ;;
    --uid) [ $# -ge 2 ] || usage; uid=$2; shift ;;
    -h|--help) usage ;;
    *) echo "compose-tokens: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done
case "$uid" in
  *[!0-9]*) echo "compose-tokens: --uid '$uid' is not a number" >&2; exit 2 ;;
esac

if [ -e "$out" ] && [ "$force" != yes ]; then
  echo "compose-tokens: $out exists; not overwriting it (use --force to make new tokens)" >&2
  exit 1
fi

# 32 random bytes, as URL-safe base64 without padding (43 characters), or as hex (64) without base64.
token() {
  if command -v base64 >/dev/null 2>&1; then
    dd if=/dev/urandom bs=32 count=1 2>/dev/null | base64 | tr -d '\n=' | tr '+/' '-_'
  else
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
  fi
}

umask 077
# Made whole in a folder beside it, then put in place: never half a set of tokens.
tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$(dirname "$out")" "$tmp"
for role in $ROLES; do
  token >"$tmp/$role"
  chmod 0400 "$tmp/$role"
  [ -z "$uid" ] || chown "$uid" "$tmp/$role"
done
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "compose-tokens: wrote $out/{$(echo "$ROLES" | tr ' ' ',')}"
