#!/bin/sh
# Makes compose/tokens.env: one random token per role, FFA_TOKEN_<ROLE>=..., for docker-compose.yml
# (every service reads it through env_file; tokens are never baked into the image). The file is
# git-ignored; compose/tokens.env.example shows its format.
#
#   sh scripts/compose-tokens.sh [--force] [--out FILE]
#
# Refuses to overwrite an existing file unless --force: running services would no longer match.
# POSIX sh; needs /dev/urandom and base64 (coreutils) or od.
set -eu

usage() {
  echo "usage: sh scripts/compose-tokens.sh [--force] [--out FILE]" >&2
  exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/compose/tokens.env"
force=no
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=yes ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift ;;
    -h|--help) usage ;;
    *) echo "compose-tokens: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done

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

mkdir -p "$(dirname "$out")"
umask 077
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
{
  echo "# ffa-world role tokens for docker-compose.yml, made by scripts/compose-tokens.sh. Keep secret."
  for role in GIC SPMD SPMC HYPERVISOR GUEST ORCHESTRATOR; do
    echo "FFA_TOKEN_$role=$(token)"
  done
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "compose-tokens: wrote $out"
