#!/usr/bin/env bash
# The numbers a new user meets first: a cold `cargo xtask contract` on a fresh clone, a warm rerun, and a clean `cargo test --workspace`; writes bench/first-run.txt, which `cargo xtask bench` quotes.
#
# A fresh clone of this repository's HEAD goes to a temporary directory with an empty target/.
# `cargo fetch` runs first and is not timed: the registry cache is warm, as on a developer's
# machine, so the times are builds and runs, not downloads. The clean test run starts from an
# empty target/ again. Nothing is optimised here; this only measures.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/bench/first-run.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Runs "$@" in the clone, quietly; prints its wall time in seconds, and its exit code when not 0.
# A failing command's log outlives the temporary clone in target/, so its cause can be read.
timed() {
    local name="$1" log="$work/$1.log" start end status=0
    shift
    start=$(now)
    (cd "$work/repo" && "$@") >"$log" 2>&1 || status=$?
    end=$(now)
    if [ "$status" -eq 0 ]; then
        seconds "$start" "$end"
    else
        mkdir -p "$here/target"
        cp "$log" "$here/target/first-run-$name.log"
        echo "$(seconds "$start" "$end") (failed with exit code $status: $(grep -m 1 'panicked at' "$log" || tail -n 1 "$log"); full log in target/first-run-$name.log)"
    fi
}

git clone --quiet "$here" "$work/repo"
commit="$(git -C "$work/repo" rev-parse --short HEAD)"
(cd "$work/repo" && cargo fetch --quiet)

started="$(date -u '+%Y-%m-%d %H:%M UTC')"
load_start="$(loadavg)"
cold="$(timed cold cargo xtask contract)"
warm="$(timed warm cargo xtask contract)"
rm -rf "$work/repo/target"
tests="$(timed tests cargo test --workspace)"
load_end="$(loadavg)"

report="bench/first-run.sh on $started: a fresh clone of commit $commit, $(nproc) cores, registry cache warm (cargo fetch first, not timed)
load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end

cold first run, \`cargo xtask contract\` with an empty target/ (builds xtask, then its release build, then runs): $cold s
warm rerun, \`cargo xtask contract\`: $warm s
clean \`cargo test --workspace\`, target/ emptied first: $tests s"

printf '%s\n' "$report" | tee "$out"
