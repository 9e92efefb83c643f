"""Self-check of blind round 4: every fault of FAULTS.md is observable over HTTP.

For each fault it starts three fresh servers: the faulty copy (ORACLE_FAULT=name), the same copy
without ORACLE_FAULT, and the original oracle (oracle/serve.py). It sends the fault's probe to
each and checks: the faithful copy shows the contract's answer, the original oracle shows the same
answer, and the faulty one shows the deviation FAULTS.md names. One line per fault; exit 1 if any
check fails.

    target/oracle-venv/bin/python oracle/faults/round4/probe.py            # all faults
    target/oracle-venv/bin/python oracle/faults/round4/probe.py r4-03 r4-17 # some
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
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.dirname(os.path.dirname(HERE))
PYTHON = sys.executable
C = "/workflows/v1/simulations"
KEYS = {"A": "dev-key-team-a", "B": "dev-key-team-b"}
UNKNOWN = "ffffffffffffffffffffffff"


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

    def call(self, method, path, body=None, key="A", headers=None, raw=None, chunked=False):
        """(status, headers, parsed JSON or text)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        sent = {}
        if key is not None:
            sent["Authorization"] = f"Bearer {KEYS[key]}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        if chunked:
            conn.request(method, path, body=iter([data]), headers=sent, encode_chunked=True)
        else:
            conn.request(method, path, body=data, headers=sent)
        resp = conn.getresponse()
        payload = resp.read()
        conn.close()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode("latin-1")
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed

    def create(self, body=None, key="A"):
        status, _, data = self.call("POST", C, body if body is not None else {}, key=key)
        assert status == 200, (status, data)
        return data["simulation"]

    def get(self, sid, key="A"):
        return self.call("GET", f"{C}/{sid}", key=key)

    def list(self, key="A", **query):
        status, _, data = self.call("GET", C + "?" + urllib.parse.urlencode(query), key=key)
        assert status == 200, (status, data)
        return data


def cfg(record):
    return record["simulation_config"]


def p01(s):
    s.create()
    return s.list(status="pending")["total"]


def p02(s):
    for _ in range(3):
        s.create()
    return len(s.list(size=2, page=2)["simulations"])


def p03(s):
    return s.call("GET", C, headers={"Authorization": "Bearer dev-key-team-a-old"}, key=None)[0]


def p04(s):
    return s.call("DELETE", f"{C}/{UNKNOWN}")[0]


def p05(s):
    s.create()
    return "max_events" in cfg(s.list()["simulations"][0])


def p06(s):
    s.create({"description": "ab"})
    return s.list(search=" b")["total"]


def p07(s):
    s.create({"logical_id": "x"})
    return s.list(logical_id="")["total"]


def p08(s):
    sid = s.create({"status": "running"})["_id"]
    status, _, data = s.call("PATCH", f"{C}/{sid}", {"status": None})
    return status, cfg(data["simulation"])["status"], cfg(s.get(sid)[2]["simulation"])["status"]


def p09(s):
    return cfg(s.create({"logical_id": " x "}))["logical_id"]


def p10(s):
    status, _, data = s.call("POST", C, {"selected_workflow": {"total_events": -1}})
    return status


def p11(s):
    sid = s.create()["_id"]
    status, _, data = s.call("PATCH", f"{C}/{sid}", raw=b"{", headers={"Content-Type": "application/json"})
    return status, data["detail"][0]["type"] if status == 422 else data


def p12(s):
    status, _, data = s.call("POST", C, {"max_events": "x"})
    return status, "input" in data["detail"][0]


def p13(s):
    sid = s.create()["_id"]
    return s.call("PATCH", f"{C}/{sid}", {"status": "paused"})[0]


def p14(s):
    sid = s.create(key="A")["_id"]
    status, _, data = s.get(sid, key="B")
    return status, data


def p15(s):
    for _ in range(3):
        s.create()
    status, _, data = s.call("GET", f"{C}?size=60")
    return status, (len(data["simulations"]) if status == 200 else None)


def p16(s):
    for _ in range(3):
        s.create()
    return s.list(size=2)["total"]


def p17(s):
    s.create({"logical_id": "alpha", "status": "running"})
    s.create({"logical_id": "alphabet", "status": "failed"})
    return s.list(search="alpha", status="failed")["total"]


NF = {"detail": "Simulation not found"}
PROBES = {
    "r4-01": (p01, 1, 0),
    "r4-02": (p02, 1, 0),
    "r4-03": (p03, 401, 200),
    "r4-04": (p04, 404, 200),
    "r4-05": (p05, True, False),
    "r4-06": (p06, 0, 1),
    "r4-07": (p07, 0, 1),
    "r4-08": (p08, (200, None, None), (200, "pending", "pending")),
    "r4-09": (p09, " x ", "x"),
    "r4-10": (p10, 200, 422),
    "r4-11": (p11, (422, "json_invalid"), (400, {"detail": "Invalid JSON body"})),
    "r4-12": (p12, (422, True), (422, False)),
    "r4-13": (p13, 422, 200),
    "r4-14": (p14, (404, NF), (403, {"detail": "Simulation belongs to another team"})),
    "r4-15": (p15, (200, 3), (422, None)),
    "r4-16": (p16, 3, 2),
    "r4-17": (p17, 1, 2),
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
    round4 = os.path.join(HERE, "serve.py")
    original = os.path.join(ORACLE, "serve.py")
    with ThreadPoolExecutor(3) as pool:
        runs = [
            pool.submit(observe, round4, name, probe),
            pool.submit(observe, round4, None, probe),
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
