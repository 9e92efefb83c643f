"""Self-check of blind round 2: every fault of FAULTS.md is observable over HTTP.

For each fault it starts three fresh servers: the faulty copy (ORACLE_FAULT=name), the same copy
without ORACLE_FAULT, and the original oracle (oracle/serve.py). It sends the fault's probe to
each and checks: the faithful copy shows the contract's answer, the original oracle shows the same
answer, and the faulty one shows the deviation FAULTS.md names. One line per fault; exit 1 if any
check fails.

    target/oracle-venv/bin/python oracle/faults/round2/probe.py            # all faults
    target/oracle-venv/bin/python oracle/faults/round2/probe.py r2-03 r2-17 # some
"""

import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.dirname(os.path.dirname(HERE))
PYTHON = sys.executable
C = "/workflows/v1/simulations"
KEYS = {"A": "dev-key-team-a", "B": "dev-key-team-b"}
W1, W2, W3 = "a" * 24, "b" * 24, "c" * 24


class Server:
    def __init__(self, script: str, fault: str | None) -> None:
        env = {k: v for k, v in os.environ.items() if k != "ORACLE_FAULT"}
        if fault:
            env["ORACLE_FAULT"] = fault
        self.proc = subprocess.Popen(
            [PYTHON, script, "--port", "0", "--exit-on-stdin-eof"],
            cwd=os.path.dirname(script),
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        match = re.fullmatch(r"listening on http://([^:]+):(\d+)", line)
        if not match:
            raise RuntimeError(f"{script} ({fault}) printed {line!r}")
        self.host, self.port = match.group(1), int(match.group(2))

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def call(self, method, path, body=None, key="A", headers=None, raw=None):
        """(status, headers, parsed JSON or None)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        sent = {}
        if key is not None:
            sent["Authorization"] = f"Bearer {KEYS[key]}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode("latin-1")
        return resp.status, dict(resp.getheaders()), parsed

    def create(self, body=None, key="A"):
        status, _, data = self.call("POST", C, body if body is not None else {}, key=key)
        assert status == 200, (status, data)
        return data["simulation"]

    def list(self, key="A", **query):
        status, _, data = self.call("GET", C + "?" + urllib.parse.urlencode(query), key=key)
        assert status == 200, (status, data)
        return data


# Each probe returns a small observation; PROBES maps name -> (probe, contract, fault).


def p01(s):
    dv = {"a.b": 1, "$x": {"c.d": 2}}
    x = s.create({"selected_workflow": {"dynamic_variables": dv}})
    got = s.call("GET", f"{C}/{x['_id']}")[2]["simulation"]
    return got["simulation_config"]["selected_workflow"]["dynamic_variables"]


def p_past_end(s):
    for i in range(3):
        s.create({"logical_id": f"pe-{i}"})
    data = s.list(size=2, page=3)
    return (len(data["simulations"]), data["total"])


def p04(s):
    return s.call("HEAD", C)[0]


def p05(s):
    return s.call("OPTIONS", C)[0]


def p06(s):
    return s.call(
        "POST", C, raw=b"{}", headers={"Content-Type": "application/json; charset=utf-8"}
    )[0]


def p07(s):
    x = s.create()
    got = s.call("GET", f"{C}/{x['_id']}")[2]["simulation"]
    return datetime.fromisoformat(got["created_at"]).tzinfo is not None


def p08(s):
    for i in range(20):
        x = s.create({"logical_id": f"ms-{i}"})
        if datetime.fromisoformat(x["created_at"]).microsecond % 1000:
            return s.list(start=x["created_at"], logical_id=f"ms-{i}")["total"]
    raise AssertionError("no stamp with sub-millisecond digits in 20 creates")


def p09(s):
    x = s.create()
    return s.call("PATCH", f"{C}/{x['_id']}", {"status": "RUNNING"})[0]


def p10(s):
    return s.call("GET", C + "?status=bogus")[0]


def p11(s):
    for i in range(101):
        s.create({"logical_id": f"big-{i}"})
    return len(s.list(size=150)["simulations"])


def p12(s):
    return s.create({"stop_on_failure": "false"})["simulation_config"]["stop_on_failure"]


def p13(s):
    x = s.create()
    s.call("PATCH", f"{C}/{x['_id']}", {"description": "x", "max_events": 7})
    return s.call("GET", f"{C}/{x['_id']}")[2]["simulation"]["simulation_config"]["max_events"]


def p14(s):
    x = s.create({"description": "old"})
    status, _, data = s.call("PATCH", f"{C}/{x['_id']}", {"description": "new"})
    return (status, data["simulation"]["simulation_config"]["description"])


def p15(s):
    x = s.create({"description": "same"})
    return s.call("PATCH", f"{C}/{x['_id']}", {"description": "same"})[0]


def p16(s):
    s.create(key="B")
    s.create(key="A")
    s.create(key="A")
    return s.list(key="A")["total"]


def p17(s):
    s.create({"description": "Nightly Regression"})
    return s.list(search="ightly")["total"]


def p18(s):
    return s.call("GET", C, key=None, headers={"Authorization": "bearer dev-key-team-a"})[0]


def p19(s):
    status, _, data = s.call("DELETE", f"{C}/ffffffffffffffffffffffff")
    return (status, data)


def p20(s):
    raw = json.dumps({"description": "x" * 1_000_500}).encode()
    return s.call("POST", C, raw=raw, headers={"Content-Type": "application/json"})[0]


def p21(s):
    s.create({"logical_id": "epoch"})
    return s.list(start=str(int(time.time()) + 3600), logical_id="epoch")["total"]


def p22(s):
    for _ in range(5):
        x = s.create()
        if x["_id"].upper() != x["_id"]:
            return s.call("GET", f"{C}/{x['_id'].upper()}")[0]
    raise AssertionError("no id with a hex letter in 5 creates")


def p23(s):
    for lid in ("o1", "o2", "o3"):
        s.create({"logical_id": lid})
    return [r["simulation_config"]["logical_id"] for r in s.list(size=2)["simulations"]]


def p24(s):
    s.create({"logical_id": "w-a", "selected_workflow": {"workflow_id": W1},
              "counter_workflow": {"workflow_id": W2}})
    s.create({"logical_id": "w-b", "selected_workflow": {"workflow_id": W1},
              "counter_workflow": {"workflow_id": W3}})
    data = s.list(selected_workflow_id=W1, counter_workflow_id=W2)
    return sorted(r["simulation_config"]["logical_id"] for r in data["simulations"])


def p25(s):
    s.create()
    return s.list(status="pending")["total"]


NOT_FOUND = {"detail": "Simulation not found"}
PROBES = {
    "r2-01": (p01, {"a.b": 1, "$x": {"c.d": 2}}, {"a_b": 1, "_x": {"c_d": 2}}),
    "r2-02": (p_past_end, (0, 3), (1, 3)),
    "r2-03": (p_past_end, (0, 3), (0, 4)),
    "r2-04": (p04, 405, 200),
    "r2-05": (p05, 405, 204),
    "r2-06": (p06, 200, 415),
    "r2-07": (p07, True, False),
    "r2-08": (p08, 1, 0),
    "r2-09": (p09, 422, 200),
    "r2-10": (p10, 422, 200),
    "r2-11": (p11, 101, 100),
    "r2-12": (p12, False, True),
    "r2-13": (p13, 500, 7),
    "r2-14": (p14, (200, "new"), (200, "old")),
    "r2-15": (p15, 200, 404),
    "r2-16": (p16, 2, 3),
    "r2-17": (p17, 1, 0),
    "r2-18": (p18, 200, 401),
    "r2-19": (p19, (404, NOT_FOUND),
              (404, {"detail": {"message": "Simulation not found",
                                "simulation_id": "ffffffffffffffffffffffff"}})),
    "r2-20": (p20, 200, 413),
    "r2-21": (p21, 0, 1),
    "r2-22": (p22, 404, 200),
    "r2-23": (p23, ["o3", "o2"], ["o2", "o1"]),
    "r2-24": (p24, ["w-a"], ["w-a", "w-b"]),
    "r2-25": (p25, 1, 0),
}


def observe(script, fault, probe):
    server = Server(script, fault)
    try:
        return probe(server)
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        return f"error: {exc!r}"
    finally:
        server.stop()


def check(name):
    probe, contract, faulty = PROBES[name]
    round2 = os.path.join(HERE, "serve.py")
    original = os.path.join(ORACLE, "serve.py")
    with ThreadPoolExecutor(3) as pool:
        runs = [
            pool.submit(observe, round2, name, probe),
            pool.submit(observe, round2, None, probe),
            pool.submit(observe, original, None, probe),
        ]
        bad, good, orig = (run.result() for run in runs)
    problems = []
    if good != contract:
        problems.append(f"faithful copy {good!r} != contract {contract!r}")
    if orig != good:
        problems.append(f"original oracle {orig!r} != faithful copy {good!r}")
    if bad != faulty:
        problems.append(f"faulty {bad!r} != expected {faulty!r}")
    ok = not problems
    detail = "; ".join(problems) if problems else f"contract {contract!r} -> fault {bad!r}"
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)
    return ok


def main(names):
    names = names or list(PROBES)
    unknown = [n for n in names if n not in PROBES]
    if unknown:
        print(f"unknown fault(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    results = [check(name) for name in names]
    failed = results.count(False)
    print(f"{len(results) - failed}/{len(results)} faults observable, faithful copy = contract = oracle")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
