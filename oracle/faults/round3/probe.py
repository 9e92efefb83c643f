"""Self-check of blind round 3: every fault of FAULTS.md is observable over HTTP.

For each fault it starts three fresh servers: the faulty copy (ORACLE_FAULT=name), the same copy
without ORACLE_FAULT, and the original oracle (oracle/serve.py). It sends the fault's probe to
each and checks: the faithful copy shows the contract's answer, the original oracle shows the same
answer, and the faulty one shows the deviation FAULTS.md names. One line per fault; exit 1 if any
check fails.

    target/oracle-venv/bin/python oracle/faults/round3/probe.py            # all faults
    target/oracle-venv/bin/python oracle/faults/round3/probe.py r3-03 r3-17 # some
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


# Each probe returns a small observation; PROBES maps name -> (probe, contract, fault).


def p01(s):
    return s.call("POST", C, {"selected_workflow": {"name": "w", "colour": "red"}})[0]


def p02(s):
    return cfg(s.create({"maxEvents": 7}))["max_events"]


def p03(s):
    s.create()
    return s.list(search="none")["total"]


def p04(s):
    s.create()
    midnight = datetime.now(timezone.utc).strftime("%Y-%m-%dT00:00:00Z")
    return s.list(end=midnight)["total"]


def p05(s):
    x = s.create()
    time.sleep(0.01)
    updated = s.call("PATCH", f"{C}/{x['_id']}", {"description": "touched"})[2]["simulation"]
    return s.list(start=updated["updated_at"])["total"]


def p06(s):
    s.create()
    status, _, data = s.call("GET", C + "?start=0")
    return (status, data["total"] if status == 200 else None)


def p07(s):
    return s.call("GET", C, key=None, headers={"X-API-Key": KEYS["A"]})[0]


def p08(s):
    status, _, data = s.call("GET", C, key=None, headers={"Authorization": "Bearer DEV-KEY-TEAM-A"})
    return (status, data.get("detail") if isinstance(data, dict) else data)


def p09(s):
    status, headers, _ = s.call("GET", C, key=None, headers={"Authorization": "Bearer nope"})
    return (status, headers.get("www-authenticate"))


def p10(s):
    s.create({"logical_id": "shared"}, key="A")
    s.list(key="A", logical_id="shared")
    return s.list(key="B", logical_id="shared")["total"]


def p11(s):
    x = s.create({"logical_id": "cached"})
    s.list(logical_id="cached")
    assert s.call("DELETE", f"{C}/{x['_id']}")[0] == 200
    return s.list(logical_id="cached")["total"]


def p12(s):
    s.create(key="A")
    return s.create(key="B")["team_id"]


def p13(s):
    s.create({"logical_id": "foo-by-id"})
    s.create({"description": "foo-by-description"})
    return [cfg(r)["logical_id"] or cfg(r)["description"] for r in s.list(search="foo")["simulations"]]


def p14(s):
    for i in range(3):
        s.create({"logical_id": f"w-{i}"})
    data = s.list(size=2, page=2)
    return (len(data["simulations"]), data["total"])


def p15(s):
    s.create({"logical_id": "lid-a"})
    s.create({"logical_id": "lid-b"})
    return s.list(logical_id="lid-a")["total"]


def p16(s):
    x = s.create()
    first = s.call("DELETE", f"{C}/{x['_id']}")[0]
    second = s.call("DELETE", f"{C}/{x['_id']}")[0]
    return (first, second)


def p17(s):
    s.create()
    x = s.create()
    s.call("DELETE", f"{C}/{x['_id']}")
    data = s.list()
    return (len(data["simulations"]), data["total"])


def p18(s):
    patched = s.call("PATCH", f"{C}/{UNKNOWN}", {"description": "x"})[0]
    return (patched, s.get(UNKNOWN)[0])


def p19(s):
    x = s.create({"logical_id": "keep", "max_events": 7})
    s.call("PATCH", f"{C}/{x['_id']}", {"description": "d"})
    got = cfg(s.get(x["_id"])[2]["simulation"])
    return (got["logical_id"], got["max_events"], got["description"])


def p20(s):
    x = s.create()
    time.sleep(0.01)
    updated = s.call("PATCH", f"{C}/{x['_id']}", {"description": "d"})[2]["simulation"]
    return updated["updated_at"] != updated["created_at"]


def p21(s):
    x = s.create()
    shown = cfg(s.call("PATCH", f"{C}/{x['_id']}", {"status": "running"})[2]["simulation"])
    return (shown["status"], cfg(s.get(x["_id"])[2]["simulation"])["status"])


def p22(s):
    x = s.create()
    return s.call("PATCH", f"{C}/{x['_id']}", {"status": "bogus"})[0]


def p23(s):
    status, _, data = s.call("POST", C, {"max_events": "x"})
    return (status, sorted(data["detail"][0]))


def p24(s):
    status, _, data = s.get("abc")
    return status


def p25(s):
    return s.call("POST", C, {"selected_workflow": {"workflow_id": "x" * 24}})[0]


def p26(s):
    status, _, data = s.call("POST", C, {"max_events": 99999999999999999999})
    return (status, cfg(data["simulation"])["max_events"] if status == 200 else None)


def p27(s):
    x = s.create()
    return "logical_id" in cfg(s.get(x["_id"])[2]["simulation"])


def p28(s):
    return s.call("POST", C, {}, chunked=True)[0]


PROBES = {
    "r3-01": (p01, 200, 422),
    "r3-02": (p02, 500, 7),
    "r3-03": (p03, 0, 1),
    "r3-04": (p04, 0, 1),
    "r3-05": (p05, 0, 1),
    "r3-06": (p06, (200, 1), (422, None)),
    "r3-07": (p07, 401, 200),
    "r3-08": (p08, (401, "Invalid API key"), (200, None)),
    "r3-09": (p09, (401, "Bearer"), (401, 'Bearer error="invalid_token"')),
    "r3-10": (p10, 0, 1),
    "r3-11": (p11, 0, 1),
    "r3-12": (p12, "team-b", "team-a"),
    "r3-13": (p13, ["foo-by-description", "foo-by-id"], ["foo-by-id", "foo-by-description"]),
    "r3-14": (p14, (1, 3), (0, 3)),
    "r3-15": (p15, 1, 2),
    "r3-16": (p16, (200, 404), (200, 200)),
    "r3-17": (p17, (1, 1), (1, 2)),
    "r3-18": (p18, (404, 404), (200, 200)),
    "r3-19": (p19, ("keep", 7, "d"), (None, 500, "d")),
    "r3-20": (p20, True, False),
    "r3-21": (p21, ("running", "running"), ("running", "pending")),
    "r3-22": (p22, 422, 400),
    "r3-23": (p23, (422, ["input", "loc", "msg", "type"]), (422, ["loc", "msg", "type"])),
    "r3-24": (p24, 422, 404),
    "r3-25": (p25, 200, 422),
    "r3-26": (p26, (200, 99999999999999999999), (500, None)),
    "r3-27": (p27, True, False),
    "r3-28": (p28, 200, 411),
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
    round3 = os.path.join(HERE, "serve.py")
    original = os.path.join(ORACLE, "serve.py")
    with ThreadPoolExecutor(3) as pool:
        runs = [
            pool.submit(observe, round3, name, probe),
            pool.submit(observe, round3, None, probe),
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
