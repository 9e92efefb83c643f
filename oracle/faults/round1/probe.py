"""Self-check of round 1: every fault is observable over HTTP, and the copy without a fault answers as the oracle.

For each fault of app.py this starts three servers on fresh stores: the original oracle
(oracle/serve.py), this round's copy without ORACLE_FAULT, and the copy with ORACLE_FAULT set.
It sends the fault's probe (the request sequence FAULTS.md gives) to each and reduces the
answers to an observation. It checks that the original and the faultless copy both observe
exactly what CONTRACT.md demands (`good`), and that the faulty copy observes what FAULTS.md says
it does (`bad`, which differs from `good`). One line per fault; the exit status is 1 if any
check fails.

    target/oracle-venv/bin/python oracle/faults/round1/probe.py [r1-07 ...]

Standard library only; run it with the oracle's venv (serve.py needs FastAPI and uvicorn).
"""

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORACLE_SERVE = HERE.parents[1] / "serve.py"
ROUND_SERVE = HERE / "serve.py"
COLLECTION = "/workflows/v1/simulations"
KEY_A = "dev-key-team-a"
KEY_B = "dev-key-team-b"
UNKNOWN_ID = "0123456789abcdef01234567"


class Server:
    """One server process on a free loopback port; stopped by stop()."""

    def __init__(self, script: Path, fault: str | None) -> None:
        env = {k: v for k, v in os.environ.items() if k != "ORACLE_FAULT"}
        if fault is not None:
            env["ORACLE_FAULT"] = fault
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--port", "0", "--exit-on-stdin-eof"],
            cwd=script.parent,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"{script} (ORACLE_FAULT={fault}) printed {line!r}")
        self.base = line[len("listening on ") :]

    def stop(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Response:
    def __init__(self, status: int, raw: bytes, headers) -> None:
        self.status = status
        self.raw = raw
        self.headers = headers
        try:
            self.json = json.loads(raw)
        except ValueError:
            self.json = None

    def detail(self):
        return self.json.get("detail") if isinstance(self.json, dict) else None

    def sim(self) -> dict:
        return self.json["simulation"]


ID_RE = re.compile(r"[0-9a-f]{24}")
TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


class Client:
    """Sends requests and keeps a transcript of them for comparing two servers' answers."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.transcript: list[str] = []
        self.recording = True

    def normalised_transcript(self) -> list[str]:
        """The transcript with ids and time stamps replaced by placeholders (ids numbered by
        first appearance), which differ between any two servers."""
        ids: dict[str, str] = {}

        def name_id(m):
            return ids.setdefault(m.group(0), f"<id{len(ids) + 1}>")

        return [ID_RE.sub(name_id, TIME_RE.sub("<time>", line)) for line in self.transcript]

    def request(self, method, path, body=None, *, raw=None, key=KEY_A, auth=None, ctype=None,
                query=None):
        headers = {}
        if auth is not None:
            headers["Authorization"] = auth
        elif key is not None:
            headers["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if raw is not None:
            data = raw
            if ctype is not None:
                headers["Content-Type"] = ctype
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                answer = Response(resp.status, resp.read(), resp.headers)
        except urllib.error.HTTPError as err:
            answer = Response(err.code, err.read(), err.headers)
        if self.recording:
            shown = {h: answer.headers.get(h) for h in ("Allow", "WWW-Authenticate", "Content-Type")}
            self.transcript.append(
                f"{method} {urllib.parse.unquote(url[len(self.base):])} {headers.get('Authorization')!r}"
                f" -> {answer.status} {shown} {answer.raw.decode('utf-8', 'replace')}"
            )
        return answer

    # Shorthands.
    def create(self, key=KEY_A, **config) -> dict:
        resp = self.request("POST", COLLECTION, config, key=key)
        assert resp.status == 200, (resp.status, resp.raw)
        return resp.sim()

    def get(self, sim_id, key=KEY_A) -> Response:
        return self.request("GET", f"{COLLECTION}/{sim_id}", key=key)

    def patch(self, sim_id, body, key=KEY_A) -> Response:
        return self.request("PATCH", f"{COLLECTION}/{sim_id}", body, key=key)

    def delete(self, sim_id, key=KEY_A) -> Response:
        return self.request("DELETE", f"{COLLECTION}/{sim_id}", key=key)

    def list(self, key=KEY_A, **query) -> Response:
        return self.request("GET", COLLECTION, key=key, query=query)

    def lids(self, key=KEY_A, **query) -> list:
        resp = self.list(key=key, **query)
        assert resp.status == 200, (resp.status, resp.raw)
        return [s["simulation_config"]["logical_id"] for s in resp.json["simulations"]]

    def total(self, key=KEY_A, **query) -> int:
        resp = self.list(key=key, **query)
        assert resp.status == 200, (resp.status, resp.raw)
        return resp.json["total"]


def first_loc(resp: Response):
    detail = resp.detail()
    if resp.status == 422 and isinstance(detail, list) and detail:
        return detail[0]["loc"]
    return None


def first_type(resp: Response):
    detail = resp.detail()
    if resp.status == 422 and isinstance(detail, list) and detail:
        return detail[0]["type"]
    return None


# ---------------------------------------------------------------------------------------------
# The probes: fault name -> (rule ids, probe, good, bad). `good` is what CONTRACT.md demands,
# `bad` what the fault produces (a value, or a predicate for a nondeterministic outcome).

PROBES = {}


def probe(name, rules, good, bad):
    def register(fn):
        PROBES[name] = (rules, fn, good, bad)
        return fn

    return register


@probe("r1-01", "list.search never.5xx", ["a.c-1"], ["a.c-1", "abc-1"])
def _(c):
    c.create(logical_id="abc-1")
    c.create(logical_id="a.c-1")
    return sorted(c.lids(search="a.c"))


@probe("r1-02", "list.search", 1, 0)
def _(c):
    c.create(logical_id="n-1", description="Nightly Regression")
    return c.total(search="nightly")


@probe("r1-03", "list.exact-filters", ["sim-1"], ["sim-1", "sim-10"])
def _(c):
    c.create(logical_id="sim-1")
    c.create(logical_id="sim-10")
    return sorted(c.lids(logical_id="sim-1"))


@probe("r1-04", "list.time-bounds", 1, 0)
def _(c):
    sim = c.create(logical_id="edge")
    return c.total(end=sim["created_at"])


@probe("r1-05", "list.time-bounds list.and", ["c", "b"], ["c", "b", "a"])
def _(c):
    c.create(logical_id="a")
    b = c.create(logical_id="b")
    cc = c.create(logical_id="c")
    return c.lids(start=b["created_at"], end=cc["created_at"])


@probe("r1-06", "list.time-bounds", 1, 0)
def _(c):
    sim = c.create(logical_id="zoned")
    created = datetime.fromisoformat(sim["created_at"].replace("Z", "+00:00"))
    same_instant = created.astimezone(timezone(timedelta(hours=1))).isoformat()
    return c.total(start=same_instant)


@probe("r1-07", "list.total", 1, 2)
def _(c):
    c.create(logical_id="t-a")
    c.create(logical_id="t-b")
    return c.total(logical_id="t-a")


@probe("r1-08", "list.order", ["b", "a"], ["a", "b"])
def _(c):
    a = c.create(logical_id="a")
    c.create(logical_id="b")
    assert c.patch(a["_id"], {"description": "touched"}).status == 200
    return c.lids()


@probe("r1-09", "list.param-invalid list.window", [422, ["query", "size"]], [200, None])
def _(c):
    c.create(logical_id="one")
    resp = c.list(size=0)
    return [resp.status, first_loc(resp)]


@probe("r1-10", "list.defaults", 11, 10)
def _(c):
    for i in range(11):
        c.create(logical_id=f"n{i}")
    return len(c.list().json["simulations"])


@probe("r1-11", "list.window never.5xx", [200, 0, 1], [500, None, None])
def _(c):
    c.create(logical_id="one")
    resp = c.list(page=10**17)
    if resp.status != 200:
        return [resp.status, None, None]
    return [resp.status, len(resp.json["simulations"]), resp.json["total"]]


@probe("r1-12", "schema.response", [True, False], [False, True])
def _(c):
    c.create(logical_id="one")
    item = c.list().json["simulations"][0]
    return ["_id" in item, "id" in item]


@probe("r1-13", "tenancy.item", [404, 200], [200, 404])
def _(c):
    sim = c.create(logical_id="mine")
    other = c.delete(sim["_id"], key=KEY_B).status
    return [other, c.get(sim["_id"]).status]


@probe("r1-14", "tenancy.list", 0, 1)
def _(c):
    c.create(logical_id="shared-lid")
    return c.total(key=KEY_B, logical_id="shared-lid")


@probe("r1-15", "delete.gone", [200, 404, 0], [200, 404, 1])
def _(c):
    sim = c.create(logical_id="gone")
    deleted = c.delete(sim["_id"]).status
    return [deleted, c.get(sim["_id"]).status, c.total(logical_id="gone")]


@probe("r1-16", "item.not-found", [404, "Simulation not found"],
       lambda obs: obs[0] == 400)
def _(c):
    resp = c.get("z" * 24)
    return [resp.status, resp.detail()]


@probe("r1-17", "auth.missing", 200, 401)
def _(c):
    return c.request("GET", COLLECTION, auth=f"Bearer  {KEY_A} ").status


@probe("r1-18", "auth.missing auth.required", [401, "Not authenticated"], [200, None])
def _(c):
    resp = c.request("GET", COLLECTION, auth=f"Basic {KEY_A}")
    return [resp.status, resp.detail()]


@probe("r1-19", "auth.unknown", [401, "Invalid API key", "Bearer"], [401, "Invalid API key", None])
def _(c):
    resp = c.request("GET", COLLECTION, auth="Bearer not-a-key")
    return [resp.status, resp.detail(), resp.headers.get("WWW-Authenticate")]


@probe("r1-20", "create.null-kept", [None, None], [500, 500])
def _(c):
    sim = c.create(max_events=None)
    got = c.get(sim["_id"]).sim()
    return [sim["simulation_config"]["max_events"], got["simulation_config"]["max_events"]]


@probe("r1-21", "create.defaults create.workflow-not-null schema.response", [True, 422],
       [False, 200])
def _(c):
    sim = c.create()
    nulled = c.request("POST", COLLECTION, {"counter_workflow": None})
    return [isinstance(sim["simulation_config"]["counter_workflow"], dict), nulled.status]


@probe("r1-22", "create.echo", [False, False], [True, False])
def _(c):
    sim = c.create(selected_workflow={"name": "w", "colour": "red"}, colour="blue")
    got = c.get(sim["_id"]).sim()["simulation_config"]
    return ["colour" in got["selected_workflow"], "colour" in got]


@probe("r1-23", "length.24 list.param-invalid", [422, ["query", "counter_workflow_id"]],
       [200, None])
def _(c):
    resp = c.list(counter_workflow_id="abc")
    return [resp.status, first_loc(resp)]


@probe("r1-24", "coerce.accepted", [200, 3], [422, None])
def _(c):
    resp = c.request("POST", COLLECTION, {"number_of_simulations": "3"})
    value = resp.sim()["simulation_config"]["number_of_simulations"] if resp.status == 200 else None
    return [resp.status, value]


@probe("r1-25", "coerce.rejected", [422, ["body", "timeout_seconds"]], [200, 5])
def _(c):
    resp = c.request("POST", COLLECTION, {"timeout_seconds": 5.5})
    if resp.status == 200:
        return [200, resp.sim()["simulation_config"]["timeout_seconds"]]
    return [resp.status, first_loc(resp)]


@probe("r1-26", "body.missing body.not-object", [[422, "missing"], [422, "dict_type"]],
       [[200, None], [200, None]])
def _(c):
    sim = c.create(logical_id="p")
    path = f"{COLLECTION}/{sim['_id']}"
    none = c.request("PATCH", path)
    null = c.request("PATCH", path, raw=b"null", ctype="application/json")
    return [[none.status, first_type(none)], [null.status, first_type(null)]]


@probe("r1-27", "update.null-and-empty", ["", None], ["d", "d"])
def _(c):
    sim = c.create(description="d")
    seen = []
    for value in ["", None]:
        assert c.patch(sim["_id"], {"description": value}).status == 200
        seen.append(c.get(sim["_id"]).sim()["simulation_config"]["description"])
        assert c.patch(sim["_id"], {"description": "d"}).status == 200
    return seen


@probe("r1-28", "update.fields never.lost", ["keep", "running"], [None, "running"])
def _(c):
    sim = c.create(description="keep")
    assert c.patch(sim["_id"], {"status": "running"}).status == 200
    got = c.get(sim["_id"]).sim()["simulation_config"]
    return [got["description"], got["status"]]


@probe("r1-29", "update.invalid", [422, "orig"], [422, "new"])
def _(c):
    sim = c.create(description="orig")
    status = c.patch(sim["_id"], {"description": "new", "status": "bogus"}).status
    return [status, c.get(sim["_id"]).sim()["simulation_config"]["description"]]


@probe("r1-30", "update.timestamps", True, False)
def _(c):
    sim = c.create(logical_id="t")
    after = c.patch(sim["_id"], {"description": "x"}).sim()
    return after["created_at"] == sim["created_at"]


@probe("r1-31", "update.persisted", ["d1", "running"],
       lambda obs: obs in (["d1", "pending"], [None, "running"]))
def _(c):
    sim = c.create()
    c.recording = False  # which of the two answers first is up to the scheduler
    barrier = threading.Barrier(2)
    statuses = []

    def send(body):
        barrier.wait()
        statuses.append(c.patch(sim["_id"], body).status)

    threads = [
        threading.Thread(target=send, args=(body,))
        for body in ({"description": "d1"}, {"status": "running"})
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200], statuses
    c.recording = True
    got = c.get(sim["_id"]).sim()["simulation_config"]
    return [got["description"], got["status"]]


@probe("r1-32", "update.persisted get.found", "v2", "v1")
def _(c):
    sim = c.create(description="v1")
    assert c.get(sim["_id"]).status == 200
    assert c.patch(sim["_id"], {"description": "v2"}).status == 200
    return c.get(sim["_id"]).sim()["simulation_config"]["description"]


@probe("r1-33", "schema.errors", [422, 2], [422, 1])
def _(c):
    resp = c.request("POST", COLLECTION, {"max_events": "x", "timeout_seconds": "y"})
    return [resp.status, len(resp.detail())]


@probe("r1-34", "method.not-allowed", [405, "DELETE, GET, PATCH"], [405, "GET"])
def _(c):
    resp = c.request("PUT", f"{COLLECTION}/{UNKNOWN_ID}", {})
    return [resp.status, resp.headers.get("Allow")]


@probe("r1-35", "create.status", 200, 201)
def _(c):
    return c.request("POST", COLLECTION, {}).status


@probe("r1-36", "create.server-fields", True, False)
def _(c):
    sim = c.create()
    return sim["created_at"] == sim["updated_at"]


@probe("r1-37", "body.not-utf8 never.5xx", [400, 200], [500, 500])
def _(c):
    broken = c.request("POST", COLLECTION, raw=b'{"logical_id": "\xff"}', ctype="application/json")
    utf16 = c.request("POST", COLLECTION, raw='{"logical_id": "u16"}'.encode("utf-16"),
                      ctype="application/json")
    return [broken.status, utf16.status]


# ---------------------------------------------------------------------------------------------


def observe(script: Path, fault, fn):
    """The probe's observation on a fresh server, and the normalised transcript of its answers."""
    server = Server(script, fault)
    client = Client(server.base)
    try:
        return fn(client), client.normalised_transcript()
    except Exception as exc:  # noqa: BLE001 - reported as the observation
        return f"probe error: {type(exc).__name__}: {exc}", client.normalised_transcript()
    finally:
        server.stop()


def check(name):
    rules, fn, good, bad = PROBES[name]
    original, original_answers = observe(ORACLE_SERVE, None, fn)
    faithful, faithful_answers = observe(ROUND_SERVE, None, fn)
    faulty, _ = observe(ROUND_SERVE, name, fn)
    problems = []
    if original != good:
        problems.append(f"original oracle observes {original!r}, contract wants {good!r}")
    if faithful != original:
        problems.append(f"copy without fault observes {faithful!r}, original {original!r}")
    for ours, theirs in zip(faithful_answers, original_answers):
        if ours != theirs:
            problems.append(f"copy without fault answers\n       {ours}\n     the original\n       {theirs}")
            break
    if len(faithful_answers) != len(original_answers):
        problems.append("copy without fault and original: transcripts of different lengths")
    bad_ok = bad(faulty) if callable(bad) else faulty == bad
    if faulty == good or not bad_ok:
        expected = "(predicate)" if callable(bad) else repr(bad)
        problems.append(f"faulty observes {faulty!r}, FAULTS.md says {expected}")
    verdict = "ok  " if not problems else "FAIL"
    line = (
        f"{verdict} {name}  [{rules}]  contract={good!r} faulty={faulty!r}"
        f"  ({len(faithful_answers)} answers identical to the oracle's)"
    )
    return line + "".join(f"\n     - {p}" for p in problems), not problems


def main() -> int:
    names = sys.argv[1:] or list(PROBES)
    unknown = [n for n in names if n not in PROBES]
    if unknown:
        print(f"unknown faults: {unknown}", file=sys.stderr)
        return 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(check, names))
    for line, _ok in results:
        print(line, flush=True)
    failed = sum(1 for _line, ok in results if not ok)
    print(
        f"{len(results) - failed}/{len(results)} faults observable; copy without fault answers as the"
        " oracle, and both observe what the contract demands"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
