#!/usr/bin/env bash
# bench/search/run.sh - query latency and index size: strongroom beside notmuch and mu.
#
# Uses the Maildirs bench/ingest/run.sh builds (real corpora; a scaled copy of BENCH_COUNT
# messages), indexes each with notmuch, mu and strongroom, times the query set in
# bench/search/queries.tsv as whole commands (hyperfine, via ../shared/tools/bench_peers.sh),
# measures strongroom's in-process latency (bench/search/inprocess.py), and rewrites the
# "Search" section of docs/benchmarks.md. Besides `search --count`, strongroom's first page of
# results (default output: 20 hits with snippets) is timed as a whole command too.
#
# Settings: BENCH_WORK (default /tmp), STRONGROOM_SHARED, BENCH_COUNT (100000),
#           BENCH_SETS (real,scaled), BENCH_QRUNS (10 timed runs per query),
#           BENCH_REAL_CASE, BENCH_SCALED_CASE: an existing strongroom case of that set's
#           Maildir (e.g. the one bench/ingest/run.sh made) to search instead of ingesting the
#           Maildir again; its index is brought up to date first. notmuch and mu still index.
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
# An installed strongroom runs from compiled bytecode. A checkout run with
# PYTHONDONTWRITEBYTECODE (the Makefile sets it) compiles every module at every start, ~40 ms of
# each command: keep bytecode under $WORK instead, outside the source tree.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX=$WORK/pycache
"$PY" -m compileall -q "$ROOT/src/strongroom" > /dev/null

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
    real) mdir=$(maildir real); reuse=${BENCH_REAL_CASE:-} ;;
    scaled) mdir=$(maildir "scaled-$COUNT" --count "$COUNT"); reuse=${BENCH_SCALED_CASE:-} ;;
    *) echo "unknown set $set" >&2; exit 2 ;;
  esac
  out=$WORK/results/$set
  rm -rf -- "$out"; mkdir -p "$out"
  if [ -n "$reuse" ]; then
    [ -f "$reuse/strongroom-case" ] || { echo "not a strongroom case: $reuse" >&2; exit 2; }
    cdir=$(realpath "$reuse")
    "$SR" --case "$cdir" search --count '' > /dev/null  # repairs or rebuilds a stale index
    own_index="ln -sfn \"$cdir\" \"\$OWN_HOME/case\""
    du -sb "$cdir" | cut -f1 > "$out/case_bytes.txt"
  else
    cdir=$WORK/case-$set
    own_index="$SR --case \"\$OWN_HOME/case\" ingest --json \"\$MAILDIR\" > /dev/null || [ \$? -eq 3 ]"
  fi
  # Whole commands, side by side (one indexing run each; bench/ingest measures indexing).
  # $Q holds shell words ('"mailing list"'): `eval set --` unquotes them as a shell would.
  OWN_NAME=strongroom OWN_INDEX=$own_index \
  OWN_QUERY="eval \"set -- \$Q\"; $SR --case \"\$OWN_HOME/case\" search --count \"\$@\"" \
    bash "$SHARED/tools/bench_peers.sh" -r 1 -n "$QRUNS" -q "$HERE/queries.tsv" "$mdir" "$out/peers"
  # In process, on a case of the same Maildir.
  if [ -z "$reuse" ]; then
    rm -rf -- "$cdir"
    "$SR" --case "$cdir" ingest --json "$mdir" > /dev/null || [ $? -eq 3 ]
  fi
  du -sb "$cdir/index" | cut -f1 > "$out/index_bytes.txt"
  "$PY" "$HERE/inprocess.py" "$cdir" --runs 50 --json "$out/inprocess.json"
  # The first page of results as a whole command: hits, snippets, default output.
  command -v hyperfine > /dev/null || { echo "no hyperfine: first-page timing skipped" >&2; continue; }
  mkdir -p "$out/page"
  grep -v '^#' "$HERE/queries.tsv" | while IFS=$'\t' read -r name _notmuch _mu q; do
    [ -n "$name" ] || continue
    hyperfine --shell=bash --warmup 2 --runs "$QRUNS" -i --style basic \
      --export-json "$out/page/q-$name.json" -n strongroom-page \
      "$SR --case \"$cdir\" search $q > /dev/null" >> "$out/page/hyperfine.log" 2>&1
  done
done
"$PY" "$HERE/summarize.py" "$WORK/results" "$ROOT/docs/benchmarks.md"
