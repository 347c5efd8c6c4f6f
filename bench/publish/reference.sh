#!/usr/bin/env bash
# The reference-scale release check of docs/pii.md: build the reference demo (19,252 emails,
# 8,034 attachments, planted card numbers and SSNs), ingest it, scan for personal data, redact
# every card number and SSN case-wide, publish a static release, and scan every byte of it.
#   BENCH_DIR     where to work (default /tmp/strongroom-bench-publish)
#   BENCH_PRESET  the demo preset (default reference; small for a quick try)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/../../.venv/bin"
dir="${BENCH_DIR:-/tmp/strongroom-bench-publish}"
rm -rf "$dir" && mkdir -p "$dir"
sr() { "$bin/strongroom" --case "$dir/case" "$@"; }
timed() { local start=$SECONDS; "$@"; echo "  ($(( SECONDS - start )) s: $*)" >&2; }
timed "$bin/strongroom" demo --preset "${BENCH_PRESET:-reference}" "$dir/dump"
sr init
sr keys import "$dir"/dump/dns/*.zone
timed sr ingest --json "$dir/dump" > "$dir/ingest.json" || [ $? -eq 3 ]
timed sr pii scan --workers 2 --json > "$dir/scan.json"
sr pii decide --type card generalise --json > "$dir/decide-card.json"
sr pii decide --type ssn generalise --json > "$dir/decide-ssn.json"
timed sr publish "$dir/release" --allow-undecided --json > "$dir/publish.json"
timed "$bin/python" "$here/scan_release.py" "$dir/release" "$dir/dump/MANIFEST.json" "$dir/dump"
