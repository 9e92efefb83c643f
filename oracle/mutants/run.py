"""Runs mutmut's mutants of oracle/app.py, one at a time, with the contract suite as the test and score.py's kill rule.

Each mutant is mutmut's own mutation of `oracle/app.py` (its operators: numbers, strings,
keywords, comparison/arithmetic/boolean operators, arguments, assignments, decorators, lambdas),
written into a fresh directory beside a copy of `oracle/serve.py` and served on port 0 by the
oracle's interpreter, exactly as `score.py` (beside this file) serves a blind round's fault; the
worktree's `app.py` is never touched. The suite runs against it with a fixed seed and case count.

Outcomes (as cargo-mutants counts them, with score.py's honest kill rule):
  killed     the suite exits 1 with a failure signature (check, operation, pointer) that the
             unmutated oracle's run of the same seed and cases does not show
  survived   the suite exits 0, or exits 1 with only signatures the unmutated run shows too
  unviable   the server does not start (the mutant breaks import or app construction)
  refused    the suite exits 2: it could not run (unreachable target, refused key, ...)
  untested   the suite exits 3 (cases not judged), or does not finish in --max-time + 120 s
The score is killed / (killed + survived); the rest are counted apart.

    target/mutmut-venv/bin/python oracle/mutants/run.py --cases 600 --seed 7 \
        --out oracle/mutants/results.tsv [--every 1] [--only 12,40] [--list]

Needs target/mutmut-venv (oracle/mutants/requirements.txt), target/oracle-venv (`cargo xtask
oracle` builds it) and target/xtask/xtask (`cargo build --profile xtask -p xtask`). An existing
--out file is resumed: mutants already in it are skipped.
"""

import argparse
import csv
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.dirname(HERE)
ROOT = os.path.dirname(ORACLE)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import score  # noqa: E402  (score.py beside this file: a round copy's server start and the signature kill rule)
from mutmut import ALL, Context, list_mutations, mutate  # noqa: E402

APP = os.path.join(ORACLE, "app.py")
FIELDS = ["n", "line", "index", "outcome", "exit", "new", "first", "seconds", "diff"]


def mutants(source: str) -> list:
    """mutmut's list for app.py: (n, mutation id, mutated source, one-line diff), in file order."""
    found = []
    for n, mutation in enumerate(list_mutations(Context(source=source, mutation_id=ALL,
                                                        filename="oracle/app.py"))):
        mutated, count = mutate(Context(source=source, mutation_id=mutation,
                                        filename="oracle/app.py"))
        assert count == 1, f"mutant {n} applied {count} mutations"
        changed = [
            line for line in difflib.unified_diff(source.splitlines(), mutated.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
        diff = " ⏎ ".join(" ".join(line.split()) for line in changed)
        found.append((n, mutation, mutated, diff))
    return found


def serve_dir(parent: str, source: str) -> str:
    """A fresh directory holding serve.py and this source as app.py (no stale bytecode)."""
    where = tempfile.mkdtemp(dir=parent)
    shutil.copy(os.path.join(ORACLE, "serve.py"), where)
    with open(os.path.join(where, "app.py"), "w", encoding="utf-8") as app:
        app.write(source)
    return where


def judge(args: argparse.Namespace, where: str, baseline: dict) -> tuple[str, str, int, str]:
    """(outcome, exit code, new signatures, first new signature) for the copy in `where`."""
    args.round = where
    try:
        code, found = score.run(args, None, args.seed)
    except score.DidNotStart:
        return "unviable", "-", 0, ""
    except subprocess.TimeoutExpired:
        return "untested", "timeout", 0, ""
    new = [key for key in found if key not in baseline]
    first = "" if not new else "{} on {} at {}".format(*new[0])
    if code == 1 and new:
        return "killed", str(code), len(new), first
    if code in (0, 1):
        return "survived", str(code), len(new), first
    return {2: "refused", 3: "untested"}.get(code, "untested"), str(code), len(new), first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-time", type=int, default=90, help="the suite's --max-time")
    parser.add_argument("--every", type=int, default=1, help="run every K-th mutant")
    parser.add_argument("--offset", type=int, default=0, help="starting at this one")
    parser.add_argument("--only", default="", help="comma-separated mutant numbers")
    parser.add_argument("--out", default=os.path.join(HERE, "results.tsv"))
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--xtask", default=os.path.join(ROOT, "target/xtask/xtask"))
    parser.add_argument("--python", default=os.path.join(ROOT, "target/oracle-venv/bin/python"))
    args = parser.parse_args()

    with open(APP, encoding="utf-8") as app:
        source = app.read()
    every = mutants(source)
    chosen = every[args.offset :: args.every]
    if args.only:
        wanted = {int(n) for n in args.only.split(",")}
        chosen = [m for m in every if m[0] in wanted]
    if args.list:
        for n, mutation, _, diff in every:
            print(f"{n}\tline {mutation.line_number + 1}\t{diff}")
        print(f"{len(every)} mutants", file=sys.stderr)
        return 0
    for tool in (args.xtask, args.python):
        if not os.access(tool, os.X_OK):
            print(f"{tool} is missing: see this script's docstring", file=sys.stderr)
            return 2

    done = set()
    if os.path.exists(args.out):
        with open(args.out, encoding="utf-8", newline="") as table:
            done = {int(row["n"]) for row in csv.DictReader(table, delimiter="\t")}
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="mutants-", dir=os.path.join(ROOT, "target"))
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.chdir(ROOT)  # the suite's default baseline file is relative to the repository
    try:
        args.round = serve_dir(scratch, source)
        began = time.monotonic()
        code, baseline = score.run(args, None, args.seed)
        print(f"unmutated oracle, seed {args.seed}, {args.cases} cases: exit {code}, "
              f"{len(baseline)} finding(s) [{time.monotonic() - began:.0f} s]", flush=True)
        if code != 0:
            print("the unmutated oracle fails the suite: nothing can be scored", file=sys.stderr)
            return 1
        fresh = not os.path.exists(args.out)
        with open(args.out, "a", encoding="utf-8", newline="") as table:
            writer = csv.DictWriter(table, FIELDS, delimiter="\t", lineterminator="\n")
            if fresh:
                writer.writeheader()
            for n, mutation, mutated, diff in chosen:
                if n in done:
                    continue
                began = time.monotonic()
                where = serve_dir(scratch, mutated)
                outcome, code, new, first = judge(args, where, baseline)
                shutil.rmtree(where, ignore_errors=True)
                seconds = time.monotonic() - began
                writer.writerow({
                    "n": n, "line": mutation.line_number + 1, "index": mutation.index,
                    "outcome": outcome, "exit": code, "new": new, "first": first,
                    "seconds": f"{seconds:.1f}", "diff": diff,
                })
                table.flush()
                print(f"{n:4} line {mutation.line_number + 1:4}: {outcome:9} (exit {code}, {new} "
                      f"new) {first} [{seconds:.0f} s] {diff[:100]}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    counts: dict[str, int] = {}
    with open(args.out, encoding="utf-8", newline="") as table:
        for row in csv.DictReader(table, delimiter="\t"):
            counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    viable = counts.get("killed", 0) + counts.get("survived", 0)
    print(" ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if viable:
        print(f"mutation score: {counts.get('killed', 0)} of {viable} viable "
              f"({100 * counts.get('killed', 0) / viable:.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
