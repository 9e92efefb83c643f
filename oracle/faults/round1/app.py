"""Blind round 1: a copy of oracle/app.py with realistic faults, each switched on by ORACLE_FAULT=<name>.

With ORACLE_FAULT unset (or empty) every code path below is the original oracle's. With it set to
one of FAULTS' names, exactly that fault is active; FAULTS.md beside this file tells each story.
The faults are written the way a team building this service on FastAPI + Motor would have
written them: where the original talks to the in-memory store, the faulty branch mimics what
the equivalent Mongo query or update would have done.
"""

# The original module docstring: "The Simulations API of CONTRACT.md as a plain FastAPI +
# pydantic v2 service: an outside reference (oracle) for the contract suite."

# Written from CONTRACT.md and FastAPI's documentation only, never from the Rust reference
# server, so that the two can disagree. Rules tagged [fastapi] are left to FastAPI and pydantic:
# the models, parameters and the HTTPBearer dependency below are declared the ordinary way and
# whatever FastAPI does with them is, by definition, the [fastapi] behaviour. Rules tagged [model]
# are written out by hand and each says so. README.md lists the choices made where the contract
# is silent.

import asyncio
import copy
import enum
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Optional

from fastapi import Body, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, TypeAdapter, ValidationError
from pydantic_core import to_json
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FAULTS = {f"r1-{n:02d}" for n in range(1, 38)}
FAULT = os.environ.get("ORACLE_FAULT") or None
if FAULT is not None and FAULT not in FAULTS:
    raise SystemExit(f"ORACLE_FAULT={FAULT!r} is not a fault of this round ({', '.join(sorted(FAULTS))})")

COLLECTION = "/workflows/v1/simulations"
ITEM = COLLECTION + "/{simulation_id}"

# [model] The contract allows refusing bodies over 1 MiB with 413.
MAX_BODY_BYTES = 1024 * 1024

WORKFLOW_ID_EXAMPLE = "5eb7cf5a86d9755df3a6c593"


# ---------------------------------------------------------------------------------------------
# Schemas [doc]. Optional types and defaults are exactly the contract's table; everything else
# (lax coercion, absent vs null, unknown keys ignored, error types and locs) is pydantic's.


class SimulationStatus(str, enum.Enum):
    """Current status of the simulation"""

    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class SimulationWorkflowDetails(BaseModel):
    """Details about one workflow execution taking part in a simulation. Every field may be absent (the default is stored) or null (null is stored)."""

    # r1-22: "the workflow service adds fields to these objects all the time; keep whatever the
    # client sends so we do not have to redeploy" -- extra="allow" on the nested model.
    model_config = ConfigDict(extra="allow") if FAULT == "r1-22" else ConfigDict()

    workflow_id: Optional[str] = Field(
        default=None,
        min_length=24,
        max_length=24,
        description="Identifier of the workflow (24 characters).",
        examples=[WORKFLOW_ID_EXAMPLE],
    )
    dynamic_variables: Optional[dict[str, Any]] = Field(
        default={}, description="Variables passed to the workflow: any JSON object."
    )
    name: Optional[str] = Field(default=None, description="Name of the workflow.")
    total_events: Optional[int] = Field(
        default=0, description="Number of events of the workflow execution."
    )
    total_nodes: Optional[int] = Field(
        default=0, description="Number of nodes of the workflow execution."
    )
    total_duration_seconds: Optional[int] = Field(
        default=0, description="Duration of the workflow execution in seconds."
    )
    run_id: Optional[str] = Field(
        default=None,
        min_length=24,
        max_length=24,
        description="Identifier of the workflow run (24 characters).",
        examples=[WORKFLOW_ID_EXAMPLE],
    )


# r1-24: counts must be real integers, "no silent coercion of "3" into 3" -- StrictInt.
CountInt = StrictInt if FAULT == "r1-24" else int


def whole_seconds(value: Any) -> Any:
    """r1-25: the UI form posts "30" or 30.5 for the timeout; truncate to whole seconds."""
    if isinstance(value, (float, str)):
        return int(float(value))
    return value


TimeoutInt = Annotated[int, BeforeValidator(whole_seconds)] if FAULT == "r1-25" else int

# r1-21: "counter workflow is optional" -- typed Optional with a None default.
CounterWorkflow = (
    Optional[SimulationWorkflowDetails] if FAULT == "r1-21" else SimulationWorkflowDetails
)


class SimulationConfig(BaseModel):
    """Configuration of a simulation. No field is required: an absent field is stored as its default, an explicit null (where the type allows it) is stored as null, and unknown keys at any depth are ignored and not stored."""

    logical_id: Optional[str] = Field(
        default=None, description="Unique identifier for the simulation"
    )
    # The reference's wording, typo included.
    description: Optional[str] = Field(
        default=None, description="Description of the node library"
    )
    # Not Optional: an explicit null is a 422, an absent one the model's own defaults.
    selected_workflow: SimulationWorkflowDetails = Field(
        default=SimulationWorkflowDetails(),
        description="Details about the selected workflow execution",
    )
    counter_workflow: CounterWorkflow = Field(
        default=None if FAULT == "r1-21" else SimulationWorkflowDetails(),
        description="Details about the counter workflow execution",
    )
    timeout_seconds: Optional[TimeoutInt] = Field(
        default=None, description="Maximum time in seconds to run the simulation"
    )
    max_events: Optional[int] = Field(
        default=500,
        description="Maximum number of events to process in the simulation",
    )
    number_of_simulations: Optional[CountInt] = Field(
        default=1, description="Number of times to run the simulation"
    )
    stop_on_failure: Optional[bool] = Field(
        default=False, description="Whether to stop the simulation on failure"
    )
    status: Optional[SimulationStatus] = Field(
        default=SimulationStatus.pending,
        description="Current status of the simulation",
    )


class SimulationsModel(BaseModel):
    """Single simulation object"""

    team_id: str = Field(description="Team that owns the simulation (the caller's team).")
    created_by: str = Field(description="User who created the simulation.")
    updated_by: str = Field(description="User who last updated the simulation.")
    created_at: datetime = Field(
        description="When the simulation was created (RFC 3339, with a UTC offset)."
    )
    updated_at: datetime = Field(
        description="When the simulation was last updated (RFC 3339, with a UTC offset); equal to created_at until the first update."
    )
    # pydantic keeps names with a leading underscore private, so the wire name is an alias.
    id: str = Field(
        alias="_id",
        min_length=24,
        max_length=24,
        pattern="^[0-9a-f]{24}$",
        description="Identifier of the simulation: 24 lowercase hexadecimal characters (an ObjectId).",
        examples=[WORKFLOW_ID_EXAMPLE],
    )
    simulation_config: SimulationConfig = Field(
        description="The stored configuration, with every field present: defaults materialised for what was absent."
    )


class SimulationResponse(BaseModel):
    """Response model for a single simulation. Contains a SimulationsModel object."""

    simulation: SimulationsModel = Field(description="Single simulation object")


class SimulationsListResponse(BaseModel):
    """One page of the caller's team's simulations, newest first, and the number of all matches."""

    simulations: list[SimulationsModel] = Field(
        description="The simulations of the requested page."
    )
    total: int = Field(
        ge=0, description="Number of simulations matching the filters, across all pages."
    )


class DeleteSimulationResponse(BaseModel):
    """Confirmation that the simulation was deleted."""

    message: str


class HTTPError(BaseModel):
    """An error that is not about validation: a message in `detail`."""

    detail: str


# The update body is a plain object [doc: "Body · object"]; only these two keys take effect
# [sdk], and each is validated the way a pydantic field of that type would be, so a bad value
# gives pydantic's own error type and message.
UPDATABLE: dict[str, TypeAdapter] = {
    "description": TypeAdapter(Optional[str]),
    "status": TypeAdapter(Optional[SimulationStatus]),
}


# ---------------------------------------------------------------------------------------------
# Keys and the store [model].


@dataclass(frozen=True)
class Caller:
    team: str
    user: str


# The Rust reference server's development keys, so that one set of environment variables
# drives the suite against either server.
KEYS = {
    "dev-key-team-a": Caller(team="team-a", user="user-a"),
    "dev-key-team-b": Caller(team="team-b", user="user-b"),
}


class Store:
    """Simulations in memory, keyed by `_id`.

    The handlers are `async def` with no `await` between reading and writing the store, so each
    request's store work runs to completion on the event loop's one thread: no lock is needed,
    and two concurrent updates of different fields both survive.
    """

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.last_time = datetime.fromtimestamp(0, timezone.utc)
        # ObjectId layout: 4 bytes of seconds, 5 random bytes per process, a 3-byte counter.
        self.process_bytes = os.urandom(5).hex()
        self.counter = int.from_bytes(os.urandom(3), "big")

    def now(self) -> datetime:
        """The current UTC time, at least one microsecond after the previous one handed out.

        Strictly increasing stamps make newest-first a total order without relying on the
        `_id` tie-break, and make every update move `updated_at` forward.
        """
        stamp = max(datetime.now(timezone.utc), self.last_time + timedelta(microseconds=1))
        self.last_time = stamp
        return stamp

    def new_id(self) -> str:
        while True:
            self.counter = (self.counter + 1) % (1 << 24)
            candidate = f"{int(time.time()) & 0xFFFFFFFF:08x}{self.process_bytes}{self.counter:06x}"
            if candidate not in self.records:
                return candidate

    def find(self, caller: Caller, simulation_id: str) -> dict[str, Any]:
        """The caller's simulation, or 404: another team's is indistinguishable from none [model]."""
        if FAULT == "r1-16" and not re.fullmatch(r"[0-9a-fA-F]{24}", simulation_id):
            # r1-16: `ObjectId(simulation_id)` raises bson's InvalidId for anything that is not
            # 24 hex digits; the handler turned it into a 400 rather than a 500.
            raise HTTPException(
                status_code=400, detail=f"'{simulation_id}' is not a valid ObjectId"
            )
        record = self.records.get(simulation_id)
        if record is None or record["team_id"] != caller.team:
            raise HTTPException(status_code=404, detail="Simulation not found")
        if FAULT == "r1-15" and record.get("deleted"):
            # r1-15: soft delete; find_one({"_id": ..., "team_id": ..., "deleted": {"$ne": True}}).
            raise HTTPException(status_code=404, detail="Simulation not found")
        return record


store = Store()


def storable(data_json: bytes) -> Any:
    """What a JSON document store would hold, read back from pydantic's JSON for it.

    Callers write the value with pydantic before anything is stored, so a value pydantic cannot
    write (a lone surrogate from a `"\\ud800"` escape, which Python's JSON reader lets through)
    fails there: the request is FastAPI's 500 either way, but it leaves no record behind that
    would turn every later list into a 500 too. NaN and infinities (`1e400`) become null, as
    they would read back anyway.
    """
    return json.loads(data_json)


# ---------------------------------------------------------------------------------------------
# Authentication: FastAPI's HTTPBearer answers a missing header, another scheme or an empty
# credential with 401 "Not authenticated" [fastapi]; an unknown key is this project's 401 [model].

bearer = HTTPBearer()

if FAULT == "r1-18":
    # r1-18: "the gateway sometimes forwards `Token <key>`": the scheme check is done by hand,
    # so HTTPBearer only supplies the docs' security scheme, and the key is the last word.
    lenient_bearer = HTTPBearer(auto_error=False)

    def authenticate(
        request: Request,
        credentials: Annotated[
            Optional[HTTPAuthorizationCredentials], Depends(lenient_bearer)
        ],
    ) -> Caller:
        words = request.headers.get("authorization", "").split()
        if not words:
            raise HTTPException(
                status_code=401,
                detail="Not authenticated",
                headers={"WWW-Authenticate": "Bearer"},
            )
        caller = KEYS.get(words[-1])
        if caller is None:
            raise HTTPException(
                status_code=401,
                detail="Invalid API key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return caller

elif FAULT == "r1-17":
    # r1-17: the key is taken from the raw header (the same code also hashes it for the audit
    # log), after HTTPBearer has checked that one is there: everything after "Bearer ".
    def authenticate(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> Caller:
        token = request.headers["authorization"][len("Bearer ") :]
        caller = KEYS.get(token)
        if caller is None:
            raise HTTPException(
                status_code=401,
                detail="Invalid API key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return caller

elif FAULT == "r1-19":
    # r1-19: the unknown-key 401 raised like any other HTTPException, without its header.
    def authenticate(
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> Caller:
        caller = KEYS.get(credentials.credentials)
        if caller is None:
            raise HTTPException(status_code=401, detail="Invalid API key")
        return caller

else:

    def authenticate(
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> Caller:
        caller = KEYS.get(credentials.credentials)
        if caller is None:
            raise HTTPException(
                status_code=401,
                detail="Invalid API key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return caller


Authenticated = Annotated[Caller, Depends(authenticate)]
SimulationId = Annotated[
    str,
    Path(min_length=24, max_length=24, examples=[WORKFLOW_ID_EXAMPLE]),
]
WorkflowIdFilter = Annotated[
    Optional[str],
    Query(min_length=24, max_length=24, examples=[WORKFLOW_ID_EXAMPLE]),
]
# r1-23: the counter workflow filter was added later, by copying the `logical_id` one.
CounterWorkflowIdFilter = (
    Annotated[Optional[str], Query(examples=[WORKFLOW_ID_EXAMPLE])]
    if FAULT == "r1-23"
    else WorkflowIdFilter
)

ERRORS = {
    401: {"model": HTTPError, "description": "Missing, malformed or unknown API key"},
}
NOT_FOUND = {
    404: {"model": HTTPError, "description": "No simulation with this id in the caller's team"},
}
NOT_UTF8 = {400: {"model": HTTPError, "description": "The body is not valid UTF-8"}}


class BodyLimit:
    """[model] A body over MAX_BODY_BYTES is 413 {"detail": "Content Too Large"}.

    FastAPI's own `max_body_size` answers 413 in text/plain, which breaks the contract's
    `{"detail": string}` for every non-422 error; raising FastAPI's HTTPException from the body
    read instead lets FastAPI's handler write the JSON. Only requests whose handler reads a
    body are refused, after routing and before authentication, as FastAPI reads the body first.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        too_large = HTTPException(status_code=413, detail="Content Too Large")
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            # Refuse on the declared length before reading a byte; count chunked bodies as they come.
            if declared.isdigit() and int(declared) > self.limit:
                raise too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise too_large
            return message

        await self.app(scope, limited, send)


# Served where the real service publishes its document [doc], so `cargo xtask spec pull --url`
# can compare what FastAPI generates from these declarations with spec/openapi.json.
app = FastAPI(
    title="Interactly Workflows API (oracle)",
    version="1.0.0",
    openapi_url="/api-docs/workflows/api.json",
)
app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)

if FAULT == "r1-37":
    audit_log = logging.getLogger("simulations.audit")

    @app.middleware("http")
    async def audit_writes(request: Request, call_next):
        """r1-37: every write is logged with its body, as text, for the audit trail."""
        if request.method in ("POST", "PATCH"):
            body = await request.body()
            audit_log.info("%s %s %s", request.method, request.url.path, body.decode("utf-8"))
        return await call_next(request)


if FAULT == "r1-33":
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse

    @app.exception_handler(RequestValidationError)
    async def first_validation_error(request: Request, exc: RequestValidationError):
        """r1-33: "the web client only shows one message" -- send the first error only."""
        return JSONResponse(
            status_code=422, content={"detail": jsonable_encoder(exc.errors()[:1])}
        )


@app.exception_handler(StarletteHTTPException)
async def exact_allow(request: Request, exc: StarletteHTTPException):
    """[model] 405 lists every method of the path, not only those of the route that matched.

    Starlette picks the first route whose path matches and puts that route's methods in
    `Allow`; this project's contract (RFC 9110) wants all methods served at the path.
    """
    if exc.status_code == 405 and FAULT == "r1-34":
        # r1-34: the methods of every route declared at this path; when none is found, keep
        # what Starlette said.
        path = request.url.path
        methods = sorted(
            {
                method
                for route in request.app.routes
                if isinstance(route, APIRoute) and route.path == path
                for method in route.methods
            }
        )
        if methods:
            exc = StarletteHTTPException(
                status_code=405,
                detail=exc.detail,
                headers={**(exc.headers or {}), "Allow": ", ".join(methods)},
            )
    elif exc.status_code == 405:
        path = request.scope["path"]
        methods = sorted(
            {
                method
                for route in request.app.routes
                if isinstance(route, APIRoute) and route.path_regex.match(path)
                for method in route.methods
            }
        )
        exc = StarletteHTTPException(
            status_code=405,
            detail=exc.detail,
            headers={**(exc.headers or {}), "Allow": ", ".join(methods)},
        )
    return await http_exception_handler(request, exc)


@app.post(
    COLLECTION,
    response_model=SimulationResponse,
    operation_id="create_simulation",
    summary="Create Simulation",
    tags=["simulations"],
    responses={**NOT_UTF8, **ERRORS},
    # r1-35: "a create is a 201", as the REST style guide says.
    status_code=201 if FAULT == "r1-35" else None,
)
async def create_simulation(config: SimulationConfig, caller: Authenticated):
    now = store.now()
    record = {
        "_id": store.new_id(),
        "team_id": caller.team,
        "created_by": caller.user,
        "updated_by": caller.user,
        "created_at": now,
        "updated_at": now,
        "simulation_config": storable(config.model_dump_json()),
    }
    if FAULT == "r1-36":
        # r1-36: the document built with a timestamp per field, each `datetime.now(timezone.utc)`.
        record["created_at"] = store.now()
        record["updated_at"] = store.now()
    if FAULT == "r1-20":
        # r1-20: "don't write nulls into Mongo" -- exclude_none; the response model fills
        # absent fields back in on the way out.
        record["simulation_config"] = storable(config.model_dump_json(exclude_none=True))
    store.records[record["_id"]] = record
    return {"simulation": record}


def matches(
    record: dict[str, Any],
    search: Optional[str],
    start: Optional[datetime],
    end: Optional[datetime],
    logical_id: Optional[str],
    selected_workflow_id: Optional[str],
    counter_workflow_id: Optional[str],
    status: Optional[SimulationStatus],
) -> bool:
    """[model] Whether a record passes every filter given; filters combine with AND."""
    config = record["simulation_config"]
    if search is not None and FAULT == "r1-01":
        # r1-01: {"$or": [{"simulation_config.logical_id": {"$regex": search, "$options": "i"}},
        # {"simulation_config.description": {"$regex": search, "$options": "i"}}]}, search
        # not passed through re.escape.
        pattern = re.compile(search, re.IGNORECASE)
        haystacks = [config["logical_id"], config["description"]]
        if not any(h is not None and pattern.search(h) for h in haystacks):
            return False
    elif search is not None and FAULT == "r1-02":
        # r1-02: the same $or with re.escape, but "$options": "i" only on the logical_id branch.
        needle = search.lower()
        in_logical_id = config["logical_id"] is not None and needle in config["logical_id"].lower()
        in_description = config["description"] is not None and search in config["description"]
        if not (in_logical_id or in_description):
            return False
    elif search is not None:
        needle = search.lower()
        haystacks = [config["logical_id"], config["description"]]
        if not any(h is not None and needle in h.lower() for h in haystacks):
            return False
    if FAULT == "r1-05" and start is not None and end is not None:
        # r1-05: query["created_at"] = {"$gte": start}; then, for end,
        # query["created_at"] = {"$lte": end}: the second assignment replaces the first.
        start = None
    if start is not None and record["created_at"] < start:
        return False
    if FAULT == "r1-04" and end is not None and record["created_at"] >= end:
        # r1-04: {"created_at": {"$gte": start, "$lt": end}}, the usual half-open range.
        return False
    if end is not None and record["created_at"] > end:
        return False
    if FAULT == "r1-03" and logical_id is not None:
        # r1-03: {"simulation_config.logical_id": {"$regex": "^" + re.escape(logical_id)}},
        # "anchored, so it is exact" (and it can use the index).
        if config["logical_id"] is None or not config["logical_id"].startswith(logical_id):
            return False
    elif logical_id is not None and config["logical_id"] != logical_id:
        return False
    if (
        selected_workflow_id is not None
        and config["selected_workflow"]["workflow_id"] != selected_workflow_id
    ):
        return False
    if FAULT == "r1-21" and counter_workflow_id is not None:
        # A dotted path into a null document matches nothing in Mongo.
        if (config["counter_workflow"] or {}).get("workflow_id") != counter_workflow_id:
            return False
    elif (
        counter_workflow_id is not None
        and config["counter_workflow"]["workflow_id"] != counter_workflow_id
    ):
        return False
    if status is not None and config["status"] != status.value:
        return False
    return True


# r1-09: `size` declared like `page` was, once, but the ge=1 got lost in a refactor.
SizeParam = (
    Annotated[int, Query(description="Number of items per page")]
    if FAULT == "r1-09"
    else Annotated[int, Query(ge=1, description="Number of items per page")]
)
# r1-10: the page size from the framework tutorial.
DEFAULT_SIZE = 10 if FAULT == "r1-10" else 100
INT64_MAX = (1 << 63) - 1


def as_utc(moment: Optional[datetime]) -> Optional[datetime]:
    """[model] A bound without an offset is UTC (pydantic leaves it naive)."""
    if FAULT == "r1-06" and moment is not None:
        # r1-06: "Mongo stores UTC; make every bound UTC" -- by replacing the tzinfo rather
        # than converting: a bound with an offset keeps its wall-clock time.
        return moment.replace(tzinfo=timezone.utc)
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


@app.get(
    COLLECTION,
    response_model=SimulationsListResponse,
    operation_id="list_simulations",
    summary="Get Simulations",
    tags=["simulations"],
    responses=ERRORS,
    # r1-12: set on the list route "so the frontend gets `id`", as in its TypeScript types.
    response_model_by_alias=FAULT != "r1-12",
)
async def list_simulations(
    caller: Authenticated,
    size: SizeParam = DEFAULT_SIZE,
    page: Annotated[int, Query(ge=1, description="Page number")] = 1,
    search: Annotated[Optional[str], Query(description="Search keywords")] = None,
    start: Annotated[
        Optional[datetime], Query(description="Filter by start time (ISO 8601 format)")
    ] = None,
    end: Annotated[
        Optional[datetime], Query(description="Filter by end time (ISO 8601 format)")
    ] = None,
    logical_id: Annotated[
        Optional[str], Query(description="Exact logical_id to match")
    ] = None,
    selected_workflow_id: WorkflowIdFilter = None,
    counter_workflow_id: CounterWorkflowIdFilter = None,
    status: Annotated[
        Optional[SimulationStatus], Query(description="Exact status to match")
    ] = None,
):
    start, end = as_utc(start), as_utc(end)
    found = [
        record
        for record in store.records.values()
        # r1-14: query = {"team_id": caller.team}; if logical_id: query = {"simulation_config.
        # logical_id": logical_id} -- an assignment where `query[...] =` was meant.
        if (record["team_id"] == caller.team or (FAULT == "r1-14" and logical_id is not None))
        and matches(
            record,
            search,
            start,
            end,
            logical_id,
            selected_workflow_id,
            counter_workflow_id,
            status,
        )
    ]
    # [model] Newest first; the `_id` tie-break only matters for equal stamps, which this
    # store never hands out, but it keeps the order total by construction.
    if FAULT == "r1-08":
        # r1-08: sort([("updated_at", -1), ("_id", -1)]) -- "newest" meaning last touched.
        found.sort(key=lambda r: (r["updated_at"], r["_id"]), reverse=True)
    else:
        found.sort(key=lambda r: (r["created_at"], r["_id"]), reverse=True)
    first = (page - 1) * size
    if FAULT == "r1-07":
        # r1-07: total from count_documents({"team_id": caller.team}), the base filter, built
        # before the optional filters were added to the query.
        return {
            "simulations": found[first : first + size],
            "total": sum(1 for r in store.records.values() if r["team_id"] == caller.team),
        }
    if FAULT == "r1-09":
        # r1-09: cursor.skip(first).limit(size): Mongo reads limit(0) as "no limit" and a
        # negative limit as its absolute value; pymongo refuses a negative skip.
        if first < 0:
            raise ValueError("skip must be >= 0")
        limit = abs(size)
        return {
            "simulations": found[first : first + limit] if limit else found[first:],
            "total": len(found),
        }
    if FAULT == "r1-11" and (first > INT64_MAX or size > INT64_MAX):
        # r1-11: cursor.skip(first).limit(size): BSON holds 8-byte integers only, and the
        # driver's OverflowError is not caught.
        raise OverflowError("MongoDB can only handle up to 8-byte ints")
    return {
        "simulations": found[first : first + size],
        "total": len(found),
    }


@app.get(
    ITEM,
    response_model=SimulationResponse,
    operation_id="get_simulation",
    summary="Get Simulation",
    tags=["simulations"],
    responses={**ERRORS, **NOT_FOUND},
)
async def get_simulation(simulation_id: SimulationId, caller: Authenticated):
    if FAULT == "r1-32":
        # r1-32: gets are cached per team and id (the dashboard polls); delete evicts the
        # entry, update was supposed to "just write through".
        key = (caller.team, simulation_id)
        if key not in GET_CACHE:
            GET_CACHE[key] = copy.deepcopy(store.find(caller, simulation_id))
        return {"simulation": GET_CACHE[key]}
    return {"simulation": store.find(caller, simulation_id)}


GET_CACHE: dict[tuple[str, str], dict[str, Any]] = {}
# r1-31: how long one awaited Motor call takes here; long enough for a second request to run.
MOTOR_ROUND_TRIP = 0.1
# r1-26: "a PATCH with nothing to change is fine": the body may be absent or null.
UpdateBody = (
    Annotated[Optional[dict[str, Any]], Body(default_factory=dict)]
    if FAULT == "r1-26"
    else Annotated[dict[str, Any], Body()]
)


@app.patch(
    ITEM,
    response_model=SimulationResponse,
    operation_id="update_simulation",
    summary="Update Simulation",
    tags=["simulations"],
    responses={**NOT_UTF8, **ERRORS, **NOT_FOUND},
)
async def update_simulation(
    simulation_id: SimulationId,
    body: UpdateBody,
    caller: Authenticated,
):
    if FAULT == "r1-26":
        body = body or {}
    if FAULT == "r1-29":
        # r1-29: the record is loaded first and each field set on it as soon as it validates;
        # the errors are raised at the end, after the good fields were written.
        record = store.find(caller, simulation_id)
    changes: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for key, adapter in UPDATABLE.items():
        if FAULT == "r1-28" and key not in body:
            # r1-28: SimulationUpdate(**body).model_dump() -- without exclude_unset, a field
            # that was not sent comes out as None and is $set like the others.
            changes[key] = None
            continue
        if FAULT == "r1-27" and not body.get(key):
            # r1-27: `if body.get("description"):` -- nothing to change when there is no value.
            continue
        if key not in body:
            continue
        try:
            value = adapter.validate_python(body[key])
        except ValidationError as exc:
            # The locs FastAPI would give a body field of this name: ["body", key, ...].
            errors.extend(
                {**error, "loc": ("body", key, *error["loc"])}
                for error in exc.errors(include_url=False)
            )
            continue
        changes[key] = value.value if isinstance(value, SimulationStatus) else value
        if FAULT == "r1-29":
            record["simulation_config"][key] = changes[key]
            record["updated_at"] = store.now()
    # A bad value is refused before the id is looked up, as FastAPI refuses a bad declared
    # body before the handler runs: the answer does not depend on what is stored.
    if errors:
        raise RequestValidationError(errors, body=body)
    if FAULT == "r1-31":
        # r1-31: find_one, change the document in Python, replace_one: another update that
        # runs between the two awaits is overwritten by this one's stale copy.
        current = copy.deepcopy(store.find(caller, simulation_id))
        await asyncio.sleep(MOTOR_ROUND_TRIP)
        current["simulation_config"] = {
            **current["simulation_config"],
            **storable(to_json(changes)),
        }
        current["updated_at"] = store.now()
        current["updated_by"] = caller.user
        await asyncio.sleep(MOTOR_ROUND_TRIP)
        if simulation_id in store.records:
            store.records[simulation_id] = current
        return {"simulation": current}
    record = store.find(caller, simulation_id)
    record["simulation_config"] = {**record["simulation_config"], **storable(to_json(changes))}
    record["updated_at"] = store.now()
    record["updated_by"] = caller.user
    if FAULT == "r1-30":
        # r1-30: one `touch()` helper for create and update, which sets both stamps.
        record["created_at"] = record["updated_at"]
    return {"simulation": record}


@app.delete(
    ITEM,
    response_model=DeleteSimulationResponse,
    operation_id="delete_simulation",
    summary="Delete Simulation",
    tags=["simulations"],
    responses={**ERRORS, **NOT_FOUND},
)
async def delete_simulation(simulation_id: SimulationId, caller: Authenticated):
    if FAULT == "r1-13":
        # r1-13: delete_one({"_id": ObjectId(simulation_id)}) -- the team filter that find_one
        # has was not repeated here.
        if store.records.pop(simulation_id, None) is None:
            raise HTTPException(status_code=404, detail="Simulation not found")
        return {"message": "Simulation deleted successfully"}
    record = store.find(caller, simulation_id)
    if FAULT == "r1-15":
        # r1-15: soft delete, update_one({"_id": ...}, {"$set": {"deleted": True}}); get and
        # update filter deleted documents out, the list query was not changed.
        record["deleted"] = True
        return {"message": "Simulation deleted successfully"}
    if FAULT == "r1-32":
        GET_CACHE.pop((caller.team, simulation_id), None)
    del store.records[record["_id"]]
    return {"message": "Simulation deleted successfully"}
