"""What REST API v1 takes and answers, as typed schemas: they validate each call and are the OpenAPI document.

A field's type says what it takes; `explained()` turns whatever the type refuses into one
sentence naming the field (api/errors.py renders it as {"error": …}), and `Storable` refuses
text no database can hold (core.params.text_problem) before it reaches a query. Checks that need
the workspace (which panel, which command, a web address in the note) stay in the operations.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias
from uuid import UUID

from ninja import Field, Schema
from pydantic import (
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from panelrelay.core.params import text_problem
from panelrelay.forwarding.models import AnswerKind, ForwardRequest, Outcome, Progress, RequestOrder
from panelrelay.forwarding.submit import MAX_IDS, SubmitError, parse_ids
from panelrelay.panels.adapters.base import AUTO, MANUAL
from panelrelay.reading import orderids

SAFE_INTEGER = 2**53 - 1  # a larger JSON number has lost digits in a JavaScript client before we see it
MAX_OFFSET = 2**31 - 1  # past any request's last order; a larger one overflows the database's OFFSET
ORDER_ID = rf"^[1-9][0-9]{{0,{orderids.MAX_LENGTH - 1}}}$"  # reading.orderids.is_order_id, for the document
STATES = [state for state, _ in RequestOrder.STATES]
if TYPE_CHECKING:  # built from the models' choices at run time, which mypy cannot follow: text to it
    State: TypeAlias = str
    OutcomeCode: TypeAlias = str
    ProgressCode: TypeAlias = str
    AnswerCode: TypeAlias = str
    Source: TypeAlias = str
    Mode: TypeAlias = str
    StateFilter: TypeAlias = str | None
else:
    State = Literal[tuple(STATES)]
    OutcomeCode = Literal[tuple(Outcome.values)]
    ProgressCode = Literal[tuple(Progress.values)]
    AnswerCode = Literal[tuple(AnswerKind.values)]
    Source = Literal[tuple(source for source, _ in ForwardRequest.SOURCES)]
    Mode = Literal[AUTO, MANUAL]
    # None when absent; never null in the document, since a query parameter cannot be null.
    StateFilter = State
_WHOLE = re.compile(r"-?[0-9]+")  # as core.params.integer: not "²" either, which str.isdigit() takes


def explained(problem: str) -> WrapValidator:
    """Whatever the checks inside refuse is said once, as `problem` ("must be true or false.")."""

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except PydanticValidationError:
            raise PydanticCustomError("problem", problem) from None

    return WrapValidator(validate)


def _storable(value: Any) -> Any:
    for text in value if isinstance(value, list) else [value]:
        problem = text_problem(text) if isinstance(text, str) else None
        if problem:
            raise PydanticCustomError("problem", problem + ".")
    return value


def _ascii_digits(value: Any) -> Any:
    """pydantic reads "1_000", "+5" and "1.0" as whole numbers from a query string; the API does not."""
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        raise ValueError("not written in ASCII digits")  # said by the field's explained()
    return value


Storable = BeforeValidator(_storable)  # a NUL or a lone surrogate, refused by name before any query


DocumentedIds = (
    list[Annotated[StrictStr, Field(pattern=ORDER_ID)] | Annotated[StrictInt, Field(ge=1, le=SAFE_INTEGER)]] | StrictStr
)


def _read_ids(value: Any, handler: ValidatorFunctionWrapHandler) -> list[str]:
    """The ids, split and deduplicated, when the documented type takes them; else why not, naming the tokens."""
    try:
        items = handler(value)
    except PydanticValidationError:
        raise _why_not_ids(value) from None
    return parse_ids(items if isinstance(items, str) else " ".join(str(v) for v in items))  # a string's tokens too


def _why_not_ids(value: Any) -> Exception:
    """As the Forward page says it: every token that is not an id is named, none is cut into one."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in items
    ):
        return PydanticCustomError("problem", "must be a list of order ids or a string of ids.")
    unsafe = [v for v in items if isinstance(v, int) and v > SAFE_INTEGER and orderids.is_order_id(str(v))]
    if unsafe:
        return ValueError(
            f'Send ids above {SAFE_INTEGER} as strings, e.g. "{unsafe[0]}": as JSON numbers they may have lost digits.'
        )
    try:
        parse_ids(" ".join(str(v) for v in items))  # -5, 2.5, 1e+25 and 2**70 are named, never cut
    except SubmitError as exc:
        return exc
    return PydanticCustomError("problem", "must be a list of order ids, one in each item, or a string of ids.")


if TYPE_CHECKING:  # what an operation gets: _read_ids turns each documented form into the ids
    OrderIds: TypeAlias = list[str]
else:
    OrderIds = Annotated[
        DocumentedIds,
        WrapValidator(_read_ids),
        Storable,
        Field(
            description=f"Panel order ids, at most {MAX_IDS:,} (more is a 413): as a list of strings (or JSON "
            f"integers up to {SAFE_INTEGER}: larger numbers lose digits in JavaScript clients, send them as "
            "strings), or one string separated by spaces, commas, semicolons or new lines. Any other token "
            "(-5, 1e5, 2.5, 25 digits) refuses the request with 400, naming it; nothing is cut or trimmed into an id."
        ),
    ]


class ForwardIn(Schema):
    command: Annotated[StrictStr, explained("must be a string: a command of GET /api/v1/commands."), Storable] = Field(
        examples=["refill"]
    )
    ids: OrderIds
    panel: Annotated[StrictStr | None, explained("must be a string: the panel's name or code."), Storable] = Field(
        None, description="the panel's name or id; optional when the workspace has one panel"
    )
    note: Annotated[
        StrictStr, Field(max_length=500), explained("must be a string of at most 500 characters."), Storable
    ] = Field("", description="added to the provider's message; a web address or domain name in it is refused with 400")
    force: Annotated[StrictBool, explained("must be true or false.")] = Field(False, description="ignore the cooldown")


class OrdersQuery(Schema):
    state: Annotated[StateFilter, explained(f"must be one of: {', '.join(STATES)}.")] = Field(
        None, description="only the orders in this state"
    )
    offset: Annotated[
        int,
        Field(ge=0, le=MAX_OFFSET),
        BeforeValidator(_ascii_digits),
        explained(f"must be a whole number from 0 to {MAX_OFFSET}."),
    ] = Field(0, description="the page's first order (0, 1000, …: `next_offset` of the previous page)")


class RouteQuery(Schema):
    order: Annotated[str, Field(pattern=ORDER_ID), explained("must be a panel order id (1 to 20 digits).")]
    panel: Annotated[str, Storable] = Field(
        "", description="the panel's name or id; optional when the workspace has one panel"
    )


_OUTCOMES = "; ".join(f"`{code}`: {label}" for code, label in Outcome.choices)


class OrderOut(Schema):
    order_id: str
    state: State
    outcome: OutcomeCode = Field(
        description="Why the order is where it is, as a stable code (the reason is a sentence for people and may "
        f"be reworded): {_OUTCOMES}."
    )
    reason: str
    external_id: str | None
    provider: str | None = Field(description="the provider's alias, never its domain")
    manual: bool
    service_id: str | None
    status: str | None
    destination: str | None
    sent_at: datetime | None
    progress: ProgressCode = Field(
        description='After sending: "" (sent, nothing yet), answered, confirmed (by the panel), follow_up '
        "(a reminder was sent), escalated (to the backup destination), no_answer."
    )
    answer: AnswerCode | None = Field(description="What the provider answered: done, refused, working or other.")
    answer_text: str | None = Field(description="The provider's words, masked: never a provider's domain.")
    answered_at: datetime | None
    panel_status: str | None = Field(description="The panel's status of the order when it was last watched.")
    confirmed_at: datetime | None


class RequestOut(Schema):
    id: UUID
    url: str
    panel: str
    command: str | None
    source: Source
    note: str
    created: datetime
    finished: datetime | None
    total: int
    counts: dict[State, int]


class RequestPageOut(RequestOut):
    orders: list[OrderOut] = Field(description="1,000 orders a page, in the order of the request's ids")
    next_offset: int | None = Field(description="`offset` of the next page; null on the last one")


class RouteOut(Schema):
    order_id: str
    panel: str
    external_id: str | None
    provider: str | None = Field(description="the provider's alias, never its domain")
    service_id: str | None
    status: str
    mode: Mode
    destination: str | None
    rule: int | None = Field(ge=1, le=4, description="the routing rule that decided (1-4); null when none did")
    reason: str


class PanelOut(Schema):
    id: UUID
    name: str
    enabled: bool


class PanelsOut(Schema):
    panels: list[PanelOut]


class CommandOut(Schema):
    command: str
    label: str
    statuses: list[str]


class CommandsOut(Schema):
    commands: list[CommandOut]


class ErrorOut(Schema):
    """Every refusal and failure: one sentence that names the field or parameter when there is one."""

    model_config = ConfigDict(extra="forbid")  # the document says no other key: a client may rely on it
    error: str
