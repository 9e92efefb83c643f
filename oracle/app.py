"""The Simulations API of CONTRACT.md as a plain FastAPI + pydantic v2 service: an outside reference (oracle) for the contract suite."""

# Written from CONTRACT.md and FastAPI's documentation only, never from the Rust reference
# server, so that the two can disagree. Rules tagged [fastapi] are left to FastAPI and pydantic:
# the models, parameters and the HTTPBearer dependency below are declared the ordinary way and
# whatever FastAPI does with them is, by definition, the [fastapi] behaviour. Rules tagged [model]
# are written out by hand and each says so. README.md lists the choices made where the contract
# is silent.

import enum
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Optional

from fastapi import Body, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import to_json
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COLLECTION = "/workflows/v1/simulations"
ITEM = COLLECTION + "/{simulation_id}"

# [model] The contract allows refusing bodies over 1 MiB with 413.
MAX_BODY_BYTES = 1024 * 1024

WORKFLOW_ID_EXAMPLE = "5eb7cf5a86d9755df3a6c593"


# ---------------------------------------------------------------------------------------------
# Schemas [doc]. Optional types and defaults are exactly the contract's table; everything else
# (lax coercion, absent vs null, unknown keys ignored, error types and locs) is pydantic's.

# A model with defaults that is both read and returned gets two schemas in the served document,
# `-Input` and `-Output`, the output one marking every field required (a response always carries
# it). This only changes the JSON schema pydantic writes, never validation or serialisation.
OUTPUT_FIELDS_REQUIRED = ConfigDict(json_schema_serialization_defaults_required=True)


class SimulationStatus(str, enum.Enum):
    """Current status of the simulation"""

    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class SimulationWorkflowDetails(BaseModel):
    """Details about one workflow execution taking part in a simulation. Every field may be absent (the default is stored) or null (null is stored)."""

    model_config = OUTPUT_FIELDS_REQUIRED

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


class SimulationConfig(BaseModel):
    """Configuration of a simulation. No field is required: an absent field is stored as its default, an explicit null (where the type allows it) is stored as null, and unknown keys at any depth are ignored and not stored."""

    model_config = OUTPUT_FIELDS_REQUIRED

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

# The description is the real service's [doc]; it only shows in the served document.
bearer = HTTPBearer(description="Retrieve your API Key from Dashboard API Keys Section.")


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


def workflow_id_filter(description: str) -> Any:
    """A 24-character workflow-id query filter; each has its own description [doc]."""
    return Annotated[
        Optional[str],
        Query(
            min_length=24,
            max_length=24,
            examples=[WORKFLOW_ID_EXAMPLE],
            description=description,
        ),
    ]


ERRORS = {
    401: {
        "model": HTTPError,
        "description": "Missing, malformed or unknown API key",
        # [model] Documents the header every 401 carries; FastAPI copies it into the document.
        "headers": {
            "WWW-Authenticate": {
                "description": "Always `Bearer`.",
                "schema": {"type": "string"},
            }
        },
    },
}
NOT_FOUND = {
    404: {"model": HTTPError, "description": "No simulation with this id in the caller's team"},
}
NOT_UTF8 = {400: {"model": HTTPError, "description": "The body is not valid UTF-8"}}


def body_description(description: str) -> dict[str, Any]:
    """The request body's own description [doc], merged into the operation by FastAPI.

    `Body(description=...)` would describe the body's schema instead, next to its `$ref`.
    """
    return {"requestBody": {"description": description}}


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
# can compare what FastAPI generates from these declarations with spec/openapi.json. The title,
# description and server are the stored spec's, so that they are not reported as differences;
# `servers` only shows in the document (the oracle answers on whatever address it binds).
app = FastAPI(
    title="Interactly Workflows API",
    description=(
        "The Simulations API of Interactly's workflows service, as the FastAPI service serves it"
        " at /api-docs/workflows/api.json. Stored in this repository as the single source of"
        " truth; see spec/README.md for where each rule comes from."
    ),
    version="1.0.0",
    servers=[{"url": "https://api-qa.interactly.ai", "description": "QA"}],
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


@app.post(
    COLLECTION,
    response_model=SimulationResponse,
    operation_id="create_simulation",
    summary="Create Simulation",
    description=(
        "Create a simulation from a SimulationConfig. Absent fields are stored as their defaults;"
        " the response echoes the stored simulation."
    ),
    tags=["simulations"],
    responses={**NOT_UTF8, **ERRORS},
    openapi_extra=body_description("The simulation's configuration; `{}` is valid."),
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
        haystacks = [config["logical_id"], config["description"]]
        if not any(h is not None and needle in h.lower() for h in haystacks):
            return False
    if start is not None and record["created_at"] < start:
        return False
    if end is not None and record["created_at"] > end:
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
    description=(
        "List the caller's team's simulations, newest first (created_at descending, ties by _id"
        " descending). Filters combine with AND; `search` is a case-insensitive substring of"
        " logical_id or description; start and end are inclusive bounds on created_at (a"
        " date-time without offset is UTC)."
    ),
    tags=["simulations"],
    responses=ERRORS,
)
async def list_simulations(
    caller: Authenticated,
    size: Annotated[int, Query(ge=1, description="Number of items per page")] = 100,
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
    selected_workflow_id: workflow_id_filter(
        "Exact workflow_id of the selected workflow"
    ) = None,
    counter_workflow_id: workflow_id_filter("Exact workflow_id of the counter workflow") = None,
    status: Annotated[
        Optional[SimulationStatus], Query(description="Exact status to match")
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
    found.sort(key=lambda r: (r["created_at"], r["_id"]), reverse=True)
    first = (page - 1) * size
    return {
        "simulations": found[first : first + size],
        "total": len(found),
    }


@app.get(
    ITEM,
    response_model=SimulationResponse,
    operation_id="get_simulation",
    summary="Get Simulation",
    description="Get one simulation of the caller's team.",
    tags=["simulations"],
    responses={**ERRORS, **NOT_FOUND},
)
async def get_simulation(simulation_id: SimulationId, caller: Authenticated):
    return {"simulation": store.find(caller, simulation_id)}


@app.patch(
    ITEM,
    response_model=SimulationResponse,
    operation_id="update_simulation",
    summary="Update Simulation",
    description=(
        "Change a simulation's description and/or status. Other keys of the body are ignored;"
        " updated_at and updated_by are set, nothing else changes."
    ),
    tags=["simulations"],
    responses={**NOT_UTF8, **ERRORS, **NOT_FOUND},
    openapi_extra=body_description("The body is of type Body · object."),
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
    record = store.find(caller, simulation_id)
    record["simulation_config"] = {**record["simulation_config"], **storable(to_json(changes))}
    record["updated_at"] = store.now()
    record["updated_by"] = caller.user
    return {"simulation": record}


@app.delete(
    ITEM,
    response_model=DeleteSimulationResponse,
    operation_id="delete_simulation",
    summary="Delete Simulation",
    description=(
        "Delete one simulation of the caller's team; afterwards get answers 404 and lists leave"
        " it out."
    ),
    tags=["simulations"],
    responses={**ERRORS, **NOT_FOUND},
)
async def delete_simulation(simulation_id: SimulationId, caller: Authenticated):
    record = store.find(caller, simulation_id)
    del store.records[record["_id"]]
    return {"message": "Simulation deleted successfully"}
