"""The Simulations API of CONTRACT.md as a plain FastAPI + pydantic v2 service: an outside reference (oracle) for the contract suite.

Blind round 2 copy: with ORACLE_FAULT=r2-NN one fault of FAULTS.md is active; unset, this is oracle/app.py.
"""

# Written from CONTRACT.md and FastAPI's documentation only, never from the Rust reference
# server, so that the two can disagree. Rules tagged [fastapi] are left to FastAPI and pydantic:
# the models, parameters and the HTTPBearer dependency below are declared the ordinary way and
# whatever FastAPI does with them is, by definition, the [fastapi] behaviour. Rules tagged [model]
# are written out by hand and each says so. README.md lists the choices made where the contract
# is silent.

import copy
import enum
import json
import math
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
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import to_json
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Blind round 2: at most one fault, named by ORACLE_FAULT; unset, none.
FAULT = os.environ.get("ORACLE_FAULT", "")


def fault(name: str) -> bool:
    return FAULT == name


COLLECTION = "/workflows/v1/simulations"
ITEM = COLLECTION + "/{simulation_id}"

# [model] The contract allows refusing bodies over 1 MiB with 413.
MAX_BODY_BYTES = 1_000_000 if fault("r2-20") else 1024 * 1024

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


def _truthy(value: Any) -> Any:
    # r2-12: "the UI sends all kinds of things for checkboxes"
    return value if value is None else bool(value)


StopOnFailure = (
    Annotated[Optional[bool], BeforeValidator(_truthy)] if fault("r2-12") else Optional[bool]
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
    counter_workflow: SimulationWorkflowDetails = Field(
        default=SimulationWorkflowDetails(),
        description="Details about the counter workflow execution",
    )
    timeout_seconds: Optional[int] = Field(
        default=None, description="Maximum time in seconds to run the simulation"
    )
    max_events: Optional[int] = Field(
        default=500,
        description="Maximum number of events to process in the simulation",
    )
    number_of_simulations: Optional[int] = Field(
        default=1, description="Number of times to run the simulation"
    )
    stop_on_failure: StopOnFailure = Field(
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
        if fault("r2-22"):
            # r2-22: the id goes through ObjectId(...), which reads hex in either case.
            simulation_id = simulation_id.lower()
        record = self.records.get(simulation_id)
        if record is None or record["team_id"] != caller.team:
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


def mongo_safe_keys(value: Any) -> Any:
    """r2-01: "Mongo refuses dotted and $-prefixed keys": escape them before the insert."""
    if isinstance(value, dict):
        return {
            re.sub(r"^\$", "_", key).replace(".", "_"): mongo_safe_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mongo_safe_keys(item) for item in value]
    return value


def from_db(record: dict[str, Any]) -> dict[str, Any]:
    """r2-07: what Motor hands back without tz_aware=True: naive UTC datetimes."""
    if not fault("r2-07"):
        return record
    return {
        **record,
        "created_at": record["created_at"].replace(tzinfo=None),
        "updated_at": record["updated_at"].replace(tzinfo=None),
    }


def to_millis(moment: datetime) -> datetime:
    """r2-08: BSON dates hold milliseconds."""
    if not fault("r2-08"):
        return moment
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# ---------------------------------------------------------------------------------------------
# Authentication: FastAPI's HTTPBearer answers a missing header, another scheme or an empty
# credential with 401 "Not authenticated" [fastapi]; an unknown key is this project's 401 [model].

bearer = HTTPBearer()


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> Caller:
    if fault("r2-18") and not request.headers.get("authorization", "").startswith("Bearer "):
        # r2-18: the gateway's key check, ported: the scheme compared as written.
        raise HTTPException(
            status_code=401,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )
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

if fault("r2-05"):

    @app.middleware("http")
    async def cors_preflight(request: Request, call_next):
        # r2-05: a hand-rolled CORS preflight answer for the web console.
        if request.method == "OPTIONS":
            return Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type",
                },
            )
        return await call_next(request)


if fault("r2-06"):

    @app.middleware("http")
    async def require_json(request: Request, call_next):
        # r2-06: "only JSON bodies": the header compared with the bare media type.
        content_type = request.headers.get("content-type")
        if request.method in ("POST", "PATCH") and content_type is not None:
            if content_type != "application/json":
                return JSONResponse(status_code=415, content={"detail": "Unsupported Media Type"})
        return await call_next(request)


@app.exception_handler(StarletteHTTPException)
async def exact_allow(request: Request, exc: StarletteHTTPException):
    """[model] 405 lists every method of the path, not only those of the route that matched.

    Starlette picks the first route whose path matches and puts that route's methods in
    `Allow`; this project's contract (RFC 9110) wants all methods served at the path.
    """
    if exc.status_code == 405:
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
        "simulation_config": storable(
            # r2-25: "store only what the client sent; the model fills the rest on the way out"
            config.model_dump_json(exclude_unset=True)
            if fault("r2-25")
            else config.model_dump_json()
        ),
    }
    if fault("r2-01"):
        for side in ("selected_workflow", "counter_workflow"):
            workflow = record["simulation_config"][side]
            workflow["dynamic_variables"] = mongo_safe_keys(workflow["dynamic_variables"])
    if fault("r2-08"):
        # The insert gets the millisecond stamps; the response is the document as built.
        store.records[record["_id"]] = {
            **record,
            "created_at": to_millis(now),
            "updated_at": to_millis(now),
        }
        return {"simulation": record}
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
    if search is not None:
        needle = search.lower()
        haystacks = [config.get("logical_id"), config.get("description")]
        if fault("r2-17"):
            # r2-17: {"$text": {"$search": search}} on a text index: whole words, any of them.
            words = set(re.findall(r"\w+", needle))
            if not any(
                h is not None and words & set(re.findall(r"\w+", h.lower())) for h in haystacks
            ):
                return False
        elif not any(h is not None and needle in h.lower() for h in haystacks):
            return False
    if start is not None and record["created_at"] < start:
        return False
    if end is not None and record["created_at"] > end:
        return False
    if logical_id is not None and config.get("logical_id") != logical_id:
        return False
    selected = (config.get("selected_workflow") or {}).get("workflow_id")
    counter = (config.get("counter_workflow") or {}).get("workflow_id")
    if fault("r2-24") and selected_workflow_id is not None and counter_workflow_id is not None:
        # r2-24: "a workflow filter matches either side": {"$or": [selected, counter]}.
        if selected != selected_workflow_id and counter != counter_workflow_id:
            return False
    else:
        if selected_workflow_id is not None and selected != selected_workflow_id:
            return False
        if counter_workflow_id is not None and counter != counter_workflow_id:
            return False
    if status is not None and config.get("status") != getattr(status, "value", status):
        return False
    return True


def epoch_millis(value: Any) -> Any:
    """r2-21: "the dashboard sends epoch milliseconds": numbers are divided by 1000."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1000 if math.isfinite(value) else value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return value
        return number / 1000 if math.isfinite(number) else value
    return value


TimeBound = (
    Annotated[Optional[datetime], BeforeValidator(epoch_millis)]
    if fault("r2-21")
    else Optional[datetime]
)
# r2-10: the enum in a Query gave trouble once; a plain string compared with the stored value.
StatusFilter = Optional[str] if fault("r2-10") else Optional[SimulationStatus]


def as_utc(moment: Optional[datetime]) -> Optional[datetime]:
    """[model] A bound without an offset is UTC (pydantic leaves it naive)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment


@app.api_route(
    COLLECTION,
    # r2-04: HEAD added "for the load balancer's health check".
    methods=["GET", "HEAD"] if fault("r2-04") else ["GET"],
    response_model=SimulationsListResponse,
    operation_id="list_simulations",
    summary="Get Simulations",
    tags=["simulations"],
    responses=ERRORS,
)
async def list_simulations(
    caller: Authenticated,
    size: Annotated[int, Query(ge=1, description="Number of items per page")] = 100,
    page: Annotated[int, Query(ge=1, description="Page number")] = 1,
    search: Annotated[Optional[str], Query(description="Search keywords")] = None,
    start: Annotated[
        TimeBound, Query(description="Filter by start time (ISO 8601 format)")
    ] = None,
    end: Annotated[
        TimeBound, Query(description="Filter by end time (ISO 8601 format)")
    ] = None,
    logical_id: Annotated[
        Optional[str], Query(description="Exact logical_id to match")
    ] = None,
    selected_workflow_id: WorkflowIdFilter = None,
    counter_workflow_id: WorkflowIdFilter = None,
    status: Annotated[
        StatusFilter, Query(description="Exact status to match")
    ] = None,
):
    start, end = as_utc(start), as_utc(end)
    found = [
        record
        for record in store.records.values()
        if record["team_id"] == caller.team
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
    if fault("r2-11"):
        size = min(size, 100)  # r2-11: MAX_PAGE_SIZE, "protect the database"
    first = (page - 1) * size
    if fault("r2-23"):
        # r2-23: find(query).skip(first).limit(size) in natural order, then the page sorted.
        window = found[first : first + size]
        window.sort(key=lambda r: (r["created_at"], r["_id"]), reverse=True)
        return {"simulations": [from_db(r) for r in window], "total": len(found)}
    found.sort(key=lambda r: (r["created_at"], r["_id"]), reverse=True)
    if fault("r2-02") and found and first >= len(found):
        # r2-02: a page past the end is clamped to the last page.
        first = (len(found) - 1) // size * size
    window = found[first : first + size]
    total = len(found)
    if fault("r2-03") and len(window) < size:
        # r2-03: "a short page is the last page: no count_documents needed".
        total = first + len(window)
    if fault("r2-16") and all(
        value is None
        for value in (
            search, start, end, logical_id, selected_workflow_id, counter_workflow_id, status
        )
    ):
        # r2-16: no filter, so estimated_document_count() "is exact and much cheaper".
        total = len(store.records)
    return {
        "simulations": [from_db(r) for r in window],
        "total": total,
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
    return {"simulation": from_db(store.find(caller, simulation_id))}


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
    body: Annotated[dict[str, Any], Body()],
    caller: Authenticated,
):
    changes: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for key, adapter in UPDATABLE.items():
        if key not in body:
            continue
        raw = body[key]
        if fault("r2-09") and key == "status" and isinstance(raw, str):
            raw = raw.lower()  # r2-09: "be lenient with the status' case"
        try:
            value = adapter.validate_python(raw)
        except ValidationError as exc:
            # The locs FastAPI would give a body field of this name: ["body", key, ...].
            errors.extend(
                {**error, "loc": ("body", key, *error["loc"])}
                for error in exc.errors(include_url=False)
            )
            continue
        changes[key] = value.value if isinstance(value, SimulationStatus) else value
    # A bad value is refused before the id is looked up, as FastAPI refuses a bad declared
    # body before the handler runs: the answer does not depend on what is stored.
    if errors:
        raise RequestValidationError(errors, body=body)
    record = store.find(caller, simulation_id)
    if fault("r2-15") and all(
        record["simulation_config"].get(key) == value for key, value in changes.items()
    ):
        # r2-15: `if result.modified_count == 0: raise 404` (matched_count was meant); the
        # $set of updated_at was only added when there was something to change.
        raise HTTPException(status_code=404, detail="Simulation not found")
    before = copy.deepcopy(record)
    merged = {**record["simulation_config"], **storable(to_json(changes))}
    if fault("r2-13"):
        # r2-13: "re-validate the whole config" with the body merged in, not only the changes.
        known = {k: v for k, v in body.items() if k in SimulationConfig.model_fields}
        try:
            merged = storable(
                SimulationConfig.model_validate({**merged, **known, **changes}).model_dump_json()
            )
        except ValidationError:
            pass
    record["simulation_config"] = merged
    record["updated_at"] = to_millis(store.now())
    record["updated_by"] = caller.user
    if fault("r2-14"):
        # r2-14: find_one_and_update(...) without return_document=ReturnDocument.AFTER.
        return {"simulation": before}
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
    if fault("r2-19"):
        try:
            record = store.find(caller, simulation_id)
        except HTTPException:
            # r2-19: a structured error "so the client can show which id".
            raise HTTPException(
                status_code=404,
                detail={"message": "Simulation not found", "simulation_id": simulation_id},
            )
    else:
        record = store.find(caller, simulation_id)
    del store.records[record["_id"]]
    return {"message": "Simulation deleted successfully"}
