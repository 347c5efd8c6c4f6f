#!/usr/bin/env bash
# Debian packages strongroom needs at run time (libmagic) — installed only when missing.
set -euo pipefail
need=()
dpkg -s libmagic1 >/dev/null 2>&1 || need+=(libmagic1)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
