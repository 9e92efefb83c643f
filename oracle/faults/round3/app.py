"""The Simulations API of CONTRACT.md as a plain FastAPI + pydantic v2 service: an outside reference (oracle) for the contract suite."""

# BLIND ROUND 3: a copy of oracle/app.py with faults, each active only when ORACLE_FAULT names it
# (see FAULTS.md beside this file). With ORACLE_FAULT unset it answers as the oracle.

# Written from CONTRACT.md and FastAPI's documentation only, never from the Rust reference
# server, so that the two can disagree. Rules tagged [fastapi] are left to FastAPI and pydantic:
# the models, parameters and the HTTPBearer dependency below are declared the ordinary way and
# whatever FastAPI does with them is, by definition, the [fastapi] behaviour. Rules tagged [model]
# are written out by hand and each says so. README.md lists the choices made where the contract
# is silent.

import enum
import json
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
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import AliasGenerator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import to_json
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FAULT = os.environ.get("ORACLE_FAULT") or None

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

    if FAULT == "r3-01":
        # "Catch typos in workflow payloads early."
        model_config = ConfigDict(extra="forbid")

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

    if FAULT == "r3-25":
        # "A workflow id is an ObjectId of the workflows collection": bson's ObjectId.is_valid.
        @field_validator("workflow_id")
        @classmethod
        def workflow_id_is_object_id(cls, value: Optional[str]) -> Optional[str]:
            if value is not None and not re.fullmatch(r"[0-9a-fA-F]{24}", value):
                raise ValueError(f"'{value}' is not a valid ObjectId")
            return value


class SimulationConfig(BaseModel):
    """Configuration of a simulation. No field is required: an absent field is stored as its default, an explicit null (where the type allows it) is stored as null, and unknown keys at any depth are ignored and not stored."""

    if FAULT == "r3-02":
        # "The web console sends camelCase; accept both spellings."
        model_config = ConfigDict(
            alias_generator=AliasGenerator(validation_alias=to_camel),
            validate_by_name=True,
            validate_by_alias=True,
        )

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
        # r3-16 / r3-17: soft delete, `{"$set": {"deleted": True}}`, "so support can undo".
        self.deleted: set[str] = set()

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
        record = self.records.get(simulation_id)
        if record is None or record["team_id"] != caller.team:
            raise HTTPException(status_code=404, detail="Simulation not found")
        if simulation_id in self.deleted:
            raise HTTPException(status_code=404, detail="Simulation not found")
        return record


# r3-10 / r3-11: a short-lived per-process cache of list pages "for the dashboard's polling".
LIST_CACHE: dict[Any, tuple[float, dict[str, Any]]] = {}
LIST_CACHE_TTL = 30.0


def invalidate_list_cache() -> None:
    LIST_CACHE.clear()


# r3-12: team settings (quota, region, ...) as loaded from the teams collection on create.
_team_settings: Optional[dict[str, Any]] = None


def team_settings(caller: "Caller") -> dict[str, Any]:
    """The caller's team document. Cached after a profiling session: "settings never change"."""
    global _team_settings
    if FAULT == "r3-12":
        if _team_settings is None:
            _team_settings = {"team_id": caller.team, "quota": 1000}
        return _team_settings
    return {"team_id": caller.team, "quota": 1000}


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

# r3-08: keys normalised before the lookup, "keys are case-insensitive tokens".
KEYS_NORMALISED = {key.strip().lower(): caller for key, caller in KEYS.items()}
# r3-09: the RFC 6750 challenge for a rejected token.
UNKNOWN_KEY_CHALLENGE = 'Bearer error="invalid_token"' if FAULT == "r3-09" else "Bearer"


def lookup(key: str) -> Caller:
    if FAULT == "r3-08":
        caller = KEYS_NORMALISED.get(key.strip().lower())
    else:
        caller = KEYS.get(key)
    if caller is None:
        raise HTTPException(
            status_code=401,
            detail="Invalid API key",
            headers={"WWW-Authenticate": UNKNOWN_KEY_CHALLENGE},
        )
    return caller


if FAULT == "r3-07":
    # "The CLI sends X-API-Key": HTTPBearer without auto_error, the CLI header as a fallback.
    from fastapi.security import APIKeyHeader

    optional_bearer = HTTPBearer(auto_error=False)
    api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)

    def authenticate(
        credentials: Annotated[Optional[HTTPAuthorizationCredentials], Depends(optional_bearer)],
        api_key: Annotated[Optional[str], Depends(api_key_header)],
    ) -> Caller:
        if credentials is not None:
            return lookup(credentials.credentials)
        if api_key:
            return lookup(api_key)
        raise HTTPException(
            status_code=401,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )

else:

    def authenticate(
        credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> Caller:
        return lookup(credentials.credentials)


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
        if FAULT == "r3-28" and scope["method"] in ("POST", "PATCH", "PUT") and not declared:
            # "We cannot enforce the limit without a length": 411 for chunked bodies.
            response = JSONResponse({"detail": "Length Required"}, status_code=411)
            await response(scope, receive, send)
            return
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


if FAULT in ("r3-23", "r3-24"):

    @app.exception_handler(RequestValidationError)
    async def validation_errors(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if FAULT == "r3-24" and any(error["loc"][:1] == ("path",) for error in errors):
            # "An id that is not 24 characters cannot exist: it is simply not found."
            return JSONResponse({"detail": "Simulation not found"}, status_code=404)
        if FAULT == "r3-23":
            # "Never echo user input back (PII in logs and error trackers)."
            errors = [
                {k: v for k, v in error.items() if k not in ("input", "ctx", "url")}
                for error in errors
            ]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


INT64 = (-(1 << 63), (1 << 63) - 1)


def bson_check(value: Any) -> None:
    """r3-26: what bson's encoder does with a Python int outside 8 bytes."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        raise OverflowError("MongoDB can only handle up to 8-byte ints")
    if isinstance(value, dict):
        for item in value.values():
            bson_check(item)
    if isinstance(value, list):
        for item in value:
            bson_check(item)


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
    settings = team_settings(caller)
    record = {
        "_id": store.new_id(),
        "team_id": settings["team_id"],
        "created_by": caller.user,
        "updated_by": caller.user,
        "created_at": now,
        "updated_at": now,
        "simulation_config": storable(config.model_dump_json()),
    }
    if FAULT == "r3-26":
        bson_check(record["simulation_config"])
    store.records[record["_id"]] = record
    if FAULT in ("r3-10", "r3-11"):
        invalidate_list_cache()
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
        if FAULT == "r3-03":
            # "One searchable text per simulation", as the search index document is built.
            text = f"{config['logical_id']} {config['description']}".lower()
            if needle not in text:
                return False
        else:
            haystacks = [config["logical_id"], config["description"]]
            if not any(h is not None and needle in h.lower() for h in haystacks):
                return False
    # r3-05: the range filters "activity" (the field the dashboard's timeline shows).
    stamp = record["updated_at"] if FAULT == "r3-05" else record["created_at"]
    if start is not None and stamp < start:
        return False
    if end is not None and stamp > end:
        return False
    if logical_id is not None and config["logical_id"] != logical_id:
        return False
    if (
        selected_workflow_id is not None
        and config["selected_workflow"]["workflow_id"] != selected_workflow_id
    ):
        return False
    if (
        counter_workflow_id is not None
        and config["counter_workflow"]["workflow_id"] != counter_workflow_id
    ):
        return False
    if status is not None and config["status"] != status.value:
        return False
    return True


DEFAULT_PAGE_SIZE = 100


def as_utc(moment: Optional[datetime]) -> Optional[datetime]:
    """[model] A bound without an offset is UTC (pydantic leaves it naive)."""
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
)
async def list_simulations(
    request: Request,
    caller: Authenticated,
    size: Annotated[int, Query(ge=1, description="Number of items per page")] = DEFAULT_PAGE_SIZE,
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
    counter_workflow_id: WorkflowIdFilter = None,
    status: Annotated[
        Optional[SimulationStatus], Query(description="Exact status to match")
    ] = None,
):
    if FAULT == "r3-06":
        # The bounds were declared `Optional[str]` and parsed with the standard library.
        bounds = []
        for name in ("start", "end"):
            raw = request.query_params.get(name)
            try:
                bounds.append(None if raw is None else datetime.fromisoformat(raw))
            except ValueError:
                raise RequestValidationError(
                    [
                        {
                            "type": "datetime_from_date_parsing",
                            "loc": ("query", name),
                            "msg": "Input should be a valid datetime",
                            "input": raw,
                        }
                    ]
                )
        start, end = bounds
    if FAULT == "r3-15":
        # The filter declared as `Query(alias="logicalId")`, the console's spelling.
        logical_id = request.query_params.get("logicalId")
    start, end = as_utc(start), as_utc(end)
    if (
        FAULT == "r3-04"
        and end is not None
        and (end.hour, end.minute, end.second, end.microsecond) == (0, 0, 0, 0)
    ):
        # "The date picker sends a day: `end` means the end of that day."
        end = end + timedelta(days=1) - timedelta(microseconds=1)
    cache_key = None
    if FAULT == "r3-10":
        cache_key = str(request.url.query)
    elif FAULT == "r3-11":
        cache_key = (caller.team, str(request.url.query))
    if cache_key is not None:
        hit = LIST_CACHE.get(cache_key)
        if hit is not None and time.monotonic() - hit[0] < LIST_CACHE_TTL:
            return hit[1]
    found = [
        record
        for record in store.records.values()
        if record["team_id"] == caller.team
        and (FAULT == "r3-17" or record["_id"] not in store.deleted)
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
    found.sort(key=lambda r: (r["created_at"], r["_id"]), reverse=True)
    if FAULT == "r3-13" and search is not None:
        # Two indexed queries instead of an `$or` (which "did not use the indexes"),
        # logical_id matches first, then the description matches not seen yet.
        needle = search.lower()
        by_id = [
            r for r in found
            if r["simulation_config"]["logical_id"] is not None
            and needle in r["simulation_config"]["logical_id"].lower()
        ]
        seen = {r["_id"] for r in by_id}
        found = by_id + [r for r in found if r["_id"] not in seen]
    total = len(found)
    if FAULT == "r3-17":
        # count_documents(query) was written before the soft delete; find() got the new filter.
        found = [r for r in found if r["_id"] not in store.deleted]
    first = (page - 1) * size
    if FAULT == "r3-14":
        first = (page - 1) * DEFAULT_PAGE_SIZE
    result = {
        "simulations": found[first : first + size],
        "total": total,
    }
    if cache_key is not None:
        LIST_CACHE[cache_key] = (time.monotonic(), result)
    return result


@app.get(
    ITEM,
    response_model=SimulationResponse,
    operation_id="get_simulation",
    summary="Get Simulation",
    tags=["simulations"],
    responses={**ERRORS, **NOT_FOUND},
    # r3-27: "smaller payloads for the detail view".
    response_model_exclude_none=FAULT == "r3-27",
)
async def get_simulation(simulation_id: SimulationId, caller: Authenticated):
    return {"simulation": store.find(caller, simulation_id)}


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
    if FAULT == "r3-22" and body.get("status") is not None:
        # Checked by hand "to give the UI a readable message".
        if body["status"] not in SimulationStatus._value2member_map_:
            raise HTTPException(status_code=400, detail=f"Invalid status: {body['status']!r}")
    for key, adapter in UPDATABLE.items():
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
    # A bad value is refused before the id is looked up, as FastAPI refuses a bad declared
    # body before the handler runs: the answer does not depend on what is stored.
    if errors:
        raise RequestValidationError(errors, body=body)
    if FAULT == "r3-18":
        record = upsert(caller, simulation_id)
    else:
        record = store.find(caller, simulation_id)
    if FAULT == "r3-19":
        # `{"$set": {"simulation_config": update.model_dump(exclude_unset=True)}}`: the
        # response model fills the defaults back in, so it looked complete.
        record["simulation_config"] = storable(
            SimulationConfig.model_validate(changes).model_dump_json()
        )
    elif FAULT == "r3-21" and "status" in changes:
        # The status goes through `set_status()`, whose `collection.update_one(...)` is
        # never awaited; the response is built from the merged dict.
        stored = {k: v for k, v in changes.items() if k != "status"}
        record["simulation_config"] = {**record["simulation_config"], **storable(to_json(stored))}
        shown = {**record, "simulation_config": {**record["simulation_config"], "status": changes["status"]}}
        shown["updated_at"] = record["updated_at"] = store.now()
        shown["updated_by"] = record["updated_by"] = caller.user
        return {"simulation": shown}
    else:
        record["simulation_config"] = {**record["simulation_config"], **storable(to_json(changes))}
    if FAULT != "r3-20" or "status" in changes:
        # r3-20: `updated_at` written by the status transition helper only.
        record["updated_at"] = store.now()
    record["updated_by"] = caller.user
    if FAULT in ("r3-10", "r3-11"):
        invalidate_list_cache()
    return {"simulation": record}


def upsert(caller: Caller, simulation_id: str) -> dict[str, Any]:
    """r3-18: `find_one_and_update({"_id": oid, "team_id": team}, {"$set": …, "$setOnInsert": …},
    upsert=True, return_document=AFTER)`, "so a PATCH that races a create on a lagging
    secondary does not 404"."""
    if not re.fullmatch(r"[0-9a-f]{24}", simulation_id):
        # ObjectId.is_valid failed: not found.
        raise HTTPException(status_code=404, detail="Simulation not found")
    record = store.records.get(simulation_id)
    if record is not None and record["team_id"] == caller.team:
        return record
    if record is not None:
        # The filter did not match (other team), the insert hits the unique `_id` index.
        raise RuntimeError("E11000 duplicate key error collection: simulations index: _id_")
    now = store.now()
    record = {
        "_id": simulation_id,
        "team_id": caller.team,
        "created_by": caller.user,
        "updated_by": caller.user,
        "created_at": now,
        "updated_at": now,
        "simulation_config": storable(SimulationConfig().model_dump_json()),
    }
    store.records[simulation_id] = record
    return record


@app.delete(
    ITEM,
    response_model=DeleteSimulationResponse,
    operation_id="delete_simulation",
    summary="Delete Simulation",
    tags=["simulations"],
    responses={**ERRORS, **NOT_FOUND},
)
async def delete_simulation(simulation_id: SimulationId, caller: Authenticated):
    if FAULT == "r3-16":
        # `update_one({"_id": oid, "team_id": team}, {"$set": {"deleted": True}})`, 404 when
        # `matched_count == 0`: the filter does not exclude documents already deleted.
        record = store.records.get(simulation_id)
        if record is None or record["team_id"] != caller.team:
            raise HTTPException(status_code=404, detail="Simulation not found")
        store.deleted.add(simulation_id)
    elif FAULT == "r3-17":
        record = store.find(caller, simulation_id)
        store.deleted.add(simulation_id)
    else:
        record = store.find(caller, simulation_id)
        del store.records[record["_id"]]
    return {"message": "Simulation deleted successfully"}
