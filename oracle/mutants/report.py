"""Prints RESULTS.md's counts and survivor table from results.tsv, results-2000.tsv and triage.tsv, and fails when a survivor has no triage.

    python3 oracle/mutants/report.py            # stdlib only; any Python 3.10+

results.tsv is run.py's output for every mutant; results-2000.tsv its rerun of the survivors
at 2000 cases; triage.tsv holds one verdict per survivor (`equivalent` or `blind spot`) with
its reason. A survivor of the 600-case run that the 2000-case run kills is still a survivor of
the measured score; the table says it falls at 2000.
"""

import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def table(name: str) -> dict[int, dict[str, str]]:
    path = os.path.join(HERE, name)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8", newline="") as rows:
        return {int(row["n"]): row for row in csv.DictReader(rows, delimiter="\t")}


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> int:
    results, rerun, triage = table("results.tsv"), table("results-2000.tsv"), table("triage.tsv")
    counts: dict[str, int] = {}
    for row in results.values():
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    killed, survived = counts.get("killed", 0), counts.get("survived", 0)
    print(f"mutants run: {len(results)}; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"mutation score: {killed} of {killed + survived} viable = "
          f"{100 * killed / max(1, killed + survived):.1f} %")
    later = [n for n, row in rerun.items() if row["outcome"] == "killed"]
    print(f"survivors rerun at 2000 cases: {len(rerun)}, killed there: {len(later)}")
    verdicts: dict[str, int] = {}
    missing = []
    print()
    print("| # | line | mutation | 2000 cases | verdict | why / the request that shows it |")
    print("|---:|---:|---|---|---|---|")
    for n, row in sorted(results.items()):
        if row["outcome"] != "survived":
            continue
        judged = triage.get(n)
        if judged is None:
            missing.append(n)
            continue
        verdicts[judged["verdict"]] = verdicts.get(judged["verdict"], 0) + 1
        again = rerun.get(n, {}).get("outcome", "not rerun")
        if again == "killed":
            again = f"killed: {rerun[n]['first']}"
        print(f"| {n} | {row['line']} | `{cell(row['diff'][:160])}` | {cell(again)} | "
              f"{judged['verdict']} | {cell(judged['reason'])} |")
    print()
    print("verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    # Equivalent mutants are no service a client could tell apart: the score a suite can reach.
    blind = sum(v for k, v in verdicts.items() if k.startswith("blind spot"))
    print(f"score over non-equivalent mutants: {killed} of {killed + blind} = "
          f"{100 * killed / max(1, killed + blind):.1f} %")
    if missing:
        print(f"survivors without triage: {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
