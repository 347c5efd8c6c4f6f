#!/usr/bin/env bash
# bench/ingest/run.sh - strongroom's ingest side by side with `notmuch new` and `mu index`.
#
# Builds two Maildirs from the real corpora with ../shared/tools/make_maildir.py (the real
# messages as they are, and a scaled copy of BENCH_COUNT messages), indexes each with notmuch,
# mu and strongroom through ../shared/tools/bench_peers.sh (which times every run with
# /usr/bin/time -v), checks that the case kept every byte, profiles strongroom's ingest of the
# real Maildir (timers and cProfile with --workers 1, timers in the main process of a pooled
# run), and rewrites the "Ingest" section of docs/benchmarks.md (bench/ingest/summarize.py).
#
# Everything is written under ${BENCH_WORK:-/tmp}/strongroom-bench-ingest; the Maildirs are
# reused by later runs (make_maildir.py is deterministic), everything else is redone.
#
# Settings (environment):
#   BENCH_WORK          scratch parent directory (default /tmp); put it on the disk to measure
#   STRONGROOM_SHARED   the shared folder (default <repo>/../shared)
#   BENCH_COUNT         messages in the scaled Maildir (default 100000)
#   BENCH_RUNS_REAL     indexing runs per tool on the real Maildir (default 3)
#   BENCH_RUNS_SCALED   indexing runs per tool on the scaled Maildir (default 1)
#   BENCH_SETS          which steps, comma separated: real,workers1,scaled,profile (default all)
#   BENCH_TOOLS         which indexers to run, comma separated: notmuch,mu,strongroom (default
#                       all); a peer left out keeps its rows from the previous results of that
#                       step (their code does not change between runs; peers-kept.txt says so)
#   BENCH_KEEP_CASE     a directory to move the scaled step's last strongroom case to (for
#                       the search benchmark); default: deleted with the scratch directory
#   BENCH_IDLE_WAIT     seconds to wait, before each step, for the 1-minute load to fall below
#                       BENCH_IDLE_LOAD (default 60 and 1.0); the load is recorded either way
#   BENCH_DOC           the file to rewrite (default <repo>/docs/benchmarks.md)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${STRONGROOM_SHARED:-$ROOT/../shared}
WORK=${BENCH_WORK:-/tmp}/strongroom-bench-ingest
COUNT=${BENCH_COUNT:-100000}
RUNS_REAL=${BENCH_RUNS_REAL:-3}
RUNS_SCALED=${BENCH_RUNS_SCALED:-1}
SETS=${BENCH_SETS:-real,workers1,scaled,profile}
IDLE_WAIT=${BENCH_IDLE_WAIT:-60}
IDLE_LOAD=${BENCH_IDLE_LOAD:-1.0}
DOC=${BENCH_DOC:-$ROOT/docs/benchmarks.md}
BENCH_TOOLS=${BENCH_TOOLS:-notmuch,mu,strongroom}
KEEP_CASE=${BENCH_KEEP_CASE:-}
PY=$ROOT/.venv/bin/python
SR=$ROOT/.venv/bin/strongroom
HARNESS=$SHARED/tools/bench_peers.sh
MAKE_MAILDIR=$SHARED/tools/make_maildir.py

die() { echo "bench/ingest: $*" >&2; exit 2; }
for f in "$HARNESS" "$MAKE_MAILDIR"; do [ -f "$f" ] || die "missing $f (set STRONGROOM_SHARED)"; done
[ -x "$SR" ] || die "missing $SR (run: make setup)"
for c in notmuch mu /usr/bin/time python3; do
  command -v "$c" >/dev/null || die "missing $c (apt-get install notmuch maildir-utils time)"
done
"$PY" -c 'import psutil' 2>/dev/null || die "psutil missing in .venv (pip install -e '.[test]')"

has() { case ",$SETS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
wanted() { case ",$BENCH_TOOLS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
mkdir -p "$WORK/results" "$WORK/scratch"

# maildir NAME [--count N]: build once; the manifest is written last, so it marks a whole one.
maildir() {
  local name=$1; shift
  if [ -f "$WORK/$name.manifest.json" ] && [ -d "$WORK/$name/cur" ]; then
    echo "reusing Maildir $WORK/$name" >&2
  else
    rm -rf -- "${WORK:?}/$name" "$WORK/$name.manifest.json"
    echo "building Maildir $WORK/$name $*" >&2
    python3 "$MAKE_MAILDIR" "$WORK/$name" "$@" >&2
  fi
}

wait_idle() {
  local waited=0
  while awk -v l="$IDLE_LOAD" '{exit !($1 >= l)}' /proc/loadavg && [ "$waited" -lt "$IDLE_WAIT" ]; do
    [ "$waited" -eq 0 ] && echo "waiting up to ${IDLE_WAIT}s for load < $IDLE_LOAD: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    sleep 5; waited=$((waited + 5))
  done
}

# bench NAME MAILDIR RUNS TOOLS INGEST_ARGS: one bench_peers.sh run into results/NAME
bench() {
  local name=$1 mdir=$2 runs=$3 tools=$4 ingest_args=$5
  local out=$WORK/results/$name
  # peers asked for but left out of BENCH_TOOLS: their earlier rows and timings are kept
  local run_tools="" kept_tools="" tool
  for tool in ${tools//,/ }; do
    if wanted "$tool"; then run_tools=${run_tools:+$run_tools,}$tool
    else kept_tools=${kept_tools:+$kept_tools,}$tool; fi
  done
  local kept_rows=""
  if [ -n "$kept_tools" ] && [ -f "$out/index.tsv" ]; then
    kept_rows=$(mktemp -d)
    awk -F'\t' -v keep=",$kept_tools," 'NR > 1 { t = $1; sub(/-noop$/, "", t); if (index(keep, "," t ",")) print }' \
      "$out/index.tsv" > "$kept_rows/rows.tsv"
    for tool in ${kept_tools//,/ }; do cp -p "$out"/time."$tool".* "$out"/time."$tool"-noop.* "$kept_rows"/ 2>/dev/null || true; done
    cp -p "$out/git.txt" "$kept_rows/peers-git.txt" 2>/dev/null || true
  fi
  rm -rf -- "$out" "$WORK/scratch"; mkdir -p "$out" "$WORK/scratch"
  wait_idle
  echo "load before: $(cat /proc/loadavg)" > "$out/load.txt"
  git_facts > "$out/git.txt"   # others may commit while this runs: the code each step ran
  # The harness runs OWN_INDEX with bash -c, with OWN_HOME (an empty directory) and MAILDIR
  # set; peak_rss.py samples the whole process tree; exit 3 (some item failed) is a success.
  # strongroom runs under profile_ingest.py --timers (wall-clock timers around each step, a
  # few microseconds per call): where the time of this very run went.
  export BENCH_PY=$PY BENCH_HERE=$HERE BENCH_SR=$SR BENCH_OUT=$out BENCH_INGEST_ARGS=$ingest_args
  # shellcheck disable=SC2016  # expanded later, by the harness's bash -c
  local own='label=$(basename "$OWN_HOME"); [ -e "$OWN_HOME/case" ] && label=$label-noop
"$BENCH_PY" "$BENCH_HERE/peak_rss.py" --tsv "$BENCH_OUT/strongroom-rss.tsv" --label "$label" -- "$BENCH_PY" "$BENCH_HERE/profile_ingest.py" --timers "$BENCH_OUT/timers.$label.json" -- --case "$OWN_HOME/case" ingest $BENCH_INGEST_ARGS --json "$MAILDIR" >> "$BENCH_OUT/strongroom-ingest.json" || [ $? -eq 3 ]'
  OWN_NAME=strongroom OWN_INDEX=$own bash "$HARNESS" -Q -k -r "$runs" -t "$run_tools" \
    -w "$WORK/scratch" "$mdir" "$out"
  echo "load after: $(cat /proc/loadavg)" >> "$out/load.txt"
  if [ -n "$kept_rows" ]; then   # the table's usual order: cat, the peers, strongroom
    { head -n 1 "$out/index.tsv"; awk -F'\t' 'NR > 1 && $1 == "cat"' "$out/index.tsv"
      cat "$kept_rows/rows.tsv"; awk -F'\t' 'NR > 1 && $1 != "cat"' "$out/index.tsv"
    } > "$out/index.tsv.new" && mv -- "$out/index.tsv.new" "$out/index.tsv"
    cp -p "$kept_rows"/time.* "$out"/ 2>/dev/null || true
    { echo "tools: $kept_tools"; sed 's/^/earlier run /' "$kept_rows/peers-git.txt" 2>/dev/null; } > "$out/peers-kept.txt"
    rm -rf -- "$kept_rows"
  fi
  local scratch case
  scratch=$(find "$WORK/scratch" -mindepth 1 -maxdepth 1 -name 'bench_peers.*' | head -1)
  case=$scratch/own-$runs/case   # the harness names the directory after "own", not OWN_NAME
  if [ -d "$case" ]; then   # the last run's case: what it holds, its size, whether it kept all
    "$SR" --case "$case" report --json > "$out/strongroom-report.json" || [ $? -eq 3 ]
    local parts=() p
    for p in "$case/blobs" "$case/index" "$case"/catalog.sqlite*; do [ -e "$p" ] && parts+=("$p"); done
    { du -sb "$case"; du -sb "${parts[@]}"; } > "$out/case-sizes.tsv"
    "$PY" "$HERE/kept.py" "$mdir" "$case" > "$out/kept.json" || echo "NOT ALL BYTES KEPT" >&2
    if [ -n "$KEEP_CASE" ] && [ "$name" != "real" ] && [ "$name" != "real-workers1" ]; then
      rm -rf -- "$KEEP_CASE"; mkdir -p "$(dirname "$KEEP_CASE")"
      mv -- "$case" "$KEEP_CASE" && echo "case kept: $KEEP_CASE" | tee "$out/case-kept.txt" >&2
    fi
  fi
  rm -rf -- "$WORK/scratch"
}

git_facts() {   # read-only: --no-optional-locks keeps status from touching .git/index
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo -)"
  echo "uncommitted: $(git -C "$ROOT" --no-optional-locks status --porcelain 2>/dev/null | wc -l)"
  echo "strongroom: $("$SR" --version 2>/dev/null || echo -)"
  echo "python: $("$PY" --version 2>&1)"
}

git_facts > "$WORK/results/git.txt"
if has real || has workers1 || has profile; then maildir real; fi
if has real; then
  bench real "$WORK/real" "$RUNS_REAL" notmuch,mu ""
fi
if has workers1; then   # the same ingest in one process: how much the worker pool buys
  bench real-workers1 "$WORK/real" "$RUNS_REAL" "" "--workers 1"
fi
if has scaled; then
  maildir "scaled-$COUNT" --count "$COUNT"
  bench "scaled-$COUNT" "$WORK/scaled-$COUNT" "$RUNS_SCALED" notmuch,mu ""
fi
if has profile; then   # where the time goes
  prof=$WORK/results/profile
  rm -rf -- "$prof"; mkdir -p "$prof"
  wait_idle
  echo "load before: $(cat /proc/loadavg)" > "$prof/load.txt"
  git_facts > "$prof/git.txt"
  # timers and cProfile with one process; timers again with the default pool (main process only)
  for step in "timers timers.json 1" "cprofile ingest.prof 1" "timers timers-pool.json $(nproc)"; do
    read -r mode out workers <<< "$step"
    rm -rf -- "$WORK/profile-case"
    "$PY" "$HERE/profile_ingest.py" "--$mode" "$prof/$out" -- --case "$WORK/profile-case" \
      ingest --workers "$workers" --json "$WORK/real" > "$prof/${out%.*}.ingest.json" ||
      [ $? -eq 3 ]
  done
  echo "load after: $(cat /proc/loadavg)" >> "$prof/load.txt"
  rm -rf -- "$WORK/profile-case"
fi

"$PY" "$HERE/summarize.py" --work "$WORK" --doc "$DOC"
