#!/usr/bin/env bash
# Debian packages the tests need beyond run time — installed only when missing:
#   chromium    the real browser the reading-room tests drive (Playwright, no browser download)
#   postgresql  the server the catalog contract tests start and stop themselves (initdb, pg_ctl)
set -euo pipefail
need=()
for package in chromium postgresql; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
