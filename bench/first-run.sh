#!/usr/bin/env bash
# The numbers a new user meets first: a cold `cargo xtask contract` on a fresh clone, a warm rerun, a clean build of the workspace and its tests; writes bench/first-run.txt, which `cargo xtask bench` quotes.
#
# A fresh clone of this repository's HEAD goes to a temporary directory with an empty target/.
# `cargo fetch` runs first and is not timed: the registry cache is warm, as on a developer's
# machine, so the times are builds and runs, not downloads. The clean workspace build starts
# from an empty target/ again, and `cargo test --workspace` follows it (so the two add up to a
# clean test run). Nothing is optimised here; this only measures. Each figure is one run: rerun
# the script on a quiet machine (the load averages it prints say how quiet it was).
#
# Usage: bash bench/first-run.sh    (about 15 minutes on 2 cores, most of it the tests)
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/bench/first-run.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", b - a }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Runs "$@" in the clone, quietly; prints its wall time in seconds and the CPU seconds it and its
# children used (user + sys: on a loaded machine wall time grows with the load, CPU time much
# less), and its exit code when not 0. A failing command's log outlives the temporary clone in
# target/, so its cause can be read.
timed() {
    local name="$1" log="$work/$1.log" cpu="$work/$1.cpu" start end status=0 user sys
    shift
    start=$(now)
    { TIMEFORMAT='%U %S'; time { (cd "$work/repo" && "$@") >"$log" 2>&1; }; } 2>"$cpu" || status=$?
    end=$(now)
    read -r user sys <"$cpu" || true
    local wall="$(seconds "$start" "$end") s (CPU: user $(seconds 0 "${user:-0}") s + sys $(seconds 0 "${sys:-0}") s)"
    if [ "$status" -eq 0 ]; then
        echo "$wall"
    else
        mkdir -p "$here/target"
        cp "$log" "$here/target/first-run-$name.log"
        echo "$wall (failed with exit code $status: $(grep -m 1 'panicked at' "$log" || tail -n 1 "$log"); full log in target/first-run-$name.log)"
    fi
}

git clone --quiet "$here" "$work/repo"
# CI lays the team's shared/ (CONTRACT.md, which a test compares) beside the clone; so does this.
if [ -d "$here/../shared" ]; then
    ln -s "$(cd "$here/../shared" && pwd)" "$work/shared"
fi
commit="$(git -C "$work/repo" rev-parse --short HEAD)"
(cd "$work/repo" && cargo fetch --quiet)

started="$(date -u '+%Y-%m-%d %H:%M UTC')"
load_start="$(loadavg)"
cold="$(timed cold cargo xtask contract)"
warm="$(timed warm cargo xtask contract)"
rm -rf "$work/repo/target"
build="$(timed build cargo build --workspace)"
tests="$(timed tests cargo test --workspace)"
load_end="$(loadavg)"

report="bench/first-run.sh on $started: a fresh clone of commit $commit, $(nproc) cores, registry cache warm (cargo fetch first, not timed)
load average (1, 5, 15 min) at the start: $load_start; at the end: $load_end

cold first run, \`cargo xtask contract\` with an empty target/ (one build, the xtask profile, then the default 2000-case run): $cold (bound: 180 s)
warm rerun, \`cargo xtask contract\`: $warm (bound: 10 s)
clean build of the workspace, \`cargo build --workspace\` with target/ emptied first (dev profile): $build (goal: 90 s)
then \`cargo test --workspace\` (builds the test targets, runs every test): $tests"

printf '%s\n' "$report" | tee "$out"
