"""Scores a blind round: the contract suite against the round's faultless copy of the oracle and
against each of its faults, on the same seeds.

Kill rule: a fault is caught on a seed when the suite exits 1 and reports a failure signature
(check, operation, JSON pointer) that its run against the faultless copy on the same seed does
not. (Issue 22 adds a second condition, that the failing check asserts one of the fault's rules;
this script does not read rules, so it reports the check that caught each fault for a person to
compare with FAULTS.md.)

    target/oracle-venv/bin/python oracle/mutants/score.py oracle/faults/round1 \
        --xtask target/xtask/xtask --seeds 7 [--cases 2000] [--faults r1-01,r1-02]

Needs the oracle's virtualenv (`cargo xtask oracle` builds it) and a built xtask
(`cargo build --profile xtask -p xtask`). Prints one line per fault and seed, then the count.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEYS = {"CONTRACT_TOKEN": "dev-key-team-a", "CONTRACT_OTHER_TEAM_TOKEN": "dev-key-team-b"}


def fault_names(round_dir: str) -> list[str]:
    """The first cell of every table row of FAULTS.md that names a fault."""
    names = []
    with open(os.path.join(round_dir, "FAULTS.md"), encoding="utf-8") as table:
        for line in table:
            cells = [c.strip().strip("`") for c in line.split("|")]
            if len(cells) > 2 and re.fullmatch(r"r\d+-\d+", cells[1]):
                names.append(cells[1])
    return names


class DidNotStart(SystemExit):
    """The server exited (or closed its stdout) before printing its `listening on` line."""


def start(
    round_dir: str, fault: str | None, python: str = sys.executable
) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTRACT_")}
    env.pop("ORACLE_FAULT", None)
    if fault:
        env["ORACLE_FAULT"] = fault
    server = subprocess.Popen(
        [python, os.path.join(round_dir, "serve.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        cwd=ROOT,
    )
    for line in server.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return server, found.group(1)
    server.wait()
    raise DidNotStart(f"{fault or 'the faultless copy'} did not start")


def run(args: argparse.Namespace, fault: str | None, seed: int) -> tuple[int, dict]:
    # oracle/mutants/run.py runs under another venv and names the oracle's interpreter.
    server, url = start(args.round, fault, getattr(args, "python", sys.executable))
    try:
        out = subprocess.run(
            [args.xtask, "contract", "--base-url", url, "--seed", str(seed), "--cases",
             str(args.cases), "--no-regressions", "--message-format", "json", "--max-time",
             str(args.max_time)],
            capture_output=True, text=True, env=dict(os.environ, **KEYS),
            timeout=args.max_time + 120, check=False,
        )
    finally:
        server.kill()
        server.wait()
    signatures = {}
    for line in out.stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("reason") == "finding":
            signatures[(record["check"], record["operation"], record["pointer"])] = record
    return out.returncode, signatures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("round", help="the round's directory, e.g. oracle/faults/round1")
    parser.add_argument("--xtask", default=os.path.join(ROOT, "target/xtask/xtask"))
    parser.add_argument("--seeds", default="7")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--max-time", type=int, default=300)
    parser.add_argument("--faults", default="", help="comma-separated names; default all")
    args = parser.parse_args()
    names = args.faults.split(",") if args.faults else fault_names(args.round)
    caught: dict[str, list[bool]] = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        code, faithful = run(args, None, seed)
        print(f"faultless copy, seed {seed}: exit {code}, {len(faithful)} finding(s)", flush=True)
        if code != 0:
            print("  a false alarm (or a fault in the copy): the round cannot be scored", flush=True)
            return 1
        for name in names:
            began = time.monotonic()
            code, found = run(args, name, seed)
            new = [key for key in found if key not in faithful]
            hit = code == 1 and bool(new)
            caught.setdefault(name, []).append(hit)
            first = "" if not new else "{} on {} at {!r}".format(*new[0])
            print(f"{name:8} seed {seed}: {'caught' if hit else 'MISSED'} (exit {code}, "
                  f"{len(new)} new signature(s)) {first} [{time.monotonic() - began:.0f} s]",
                  flush=True)
    killed = sum(all(v) for v in caught.values())
    print(f"caught on every seed: {killed} of {len(caught)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
