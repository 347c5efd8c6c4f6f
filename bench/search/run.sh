#!/usr/bin/env bash
# bench/search/run.sh - query latency and index size: strongroom beside notmuch and mu.
#
# Uses the Maildirs bench/ingest/run.sh builds (real corpora; a scaled copy of BENCH_COUNT
# messages), indexes each with notmuch, mu and strongroom, times the query set in
# bench/search/queries.tsv as whole commands (hyperfine, via ../shared/tools/bench_peers.sh),
# measures strongroom's in-process latency (bench/search/inprocess.py), and rewrites the
# "Search" section of docs/benchmarks.md.
#
# Settings: BENCH_WORK (default /tmp), STRONGROOM_SHARED, BENCH_COUNT (100000),
#           BENCH_SETS (real,scaled), BENCH_QRUNS (10 timed runs per query)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${STRONGROOM_SHARED:-$ROOT/../shared}
INGEST_WORK=${BENCH_WORK:-/tmp}/strongroom-bench-ingest
WORK=${BENCH_WORK:-/tmp}/strongroom-bench-search
COUNT=${BENCH_COUNT:-100000}
SETS=${BENCH_SETS:-real,scaled}
QRUNS=${BENCH_QRUNS:-10}
PY=$ROOT/.venv/bin/python
SR=$ROOT/.venv/bin/strongroom
mkdir -p "$WORK"

maildir() {  # maildir NAME [--count N]: reuse bench/ingest's, else build it
  local name=$1; shift
  if [ -f "$INGEST_WORK/$name.manifest.json" ]; then echo "$INGEST_WORK/$name"; return; fi
  if [ ! -f "$WORK/$name.manifest.json" ]; then
    python3 "$SHARED/tools/make_maildir.py" "$WORK/$name" "$@" >&2
  fi
  echo "$WORK/$name"
}

for set in ${SETS//,/ }; do
  case $set in
    real) mdir=$(maildir real) ;;
    scaled) mdir=$(maildir "scaled-$COUNT" --count "$COUNT") ;;
    *) echo "unknown set $set" >&2; exit 2 ;;
  esac
  out=$WORK/results/$set
  rm -rf -- "$out"; mkdir -p "$out"
  # Whole commands, side by side (one indexing run each; bench/ingest measures indexing).
  OWN_NAME=strongroom \
  OWN_INDEX="$SR --case \"\$OWN_HOME/case\" ingest --json \"\$MAILDIR\" > /dev/null || [ \$? -eq 3 ]" \
  OWN_QUERY="$SR --case \"\$OWN_HOME/case\" search --count \$Q" \
    bash "$SHARED/tools/bench_peers.sh" -r 1 -n "$QRUNS" -q "$HERE/queries.tsv" "$mdir" "$out/peers"
  # In process, on a case of the same Maildir.
  rm -rf -- "$WORK/case-$set"
  "$SR" --case "$WORK/case-$set" ingest --json "$mdir" > /dev/null || [ $? -eq 3 ]
  du -sb "$WORK/case-$set/index" | cut -f1 > "$out/index_bytes.txt"
  "$PY" "$HERE/inprocess.py" "$WORK/case-$set" --runs 50 --json "$out/inprocess.json"
done
"$PY" "$HERE/summarize.py" "$WORK/results" "$ROOT/docs/benchmarks.md"
