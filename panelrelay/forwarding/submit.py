"""Submitting a request: pasted ids (or a ticket, a team-bot command, an API call) become a persisted request.

The request and every order in it are written in one transaction before any outside call,
and the processing job is enqueued in the same transaction: a crash right after submitting
loses nothing, and a crash before it leaves nothing half-made.
"""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.db import connection, transaction

from panelrelay.accounts.models import Workspace
from panelrelay.core import faults
from panelrelay.forwarding.models import Command, ForwardRequest, RequestOrder
from panelrelay.panels.models import Panel
from panelrelay.reading.orderids import NotOrderIds, is_order_id, split_ids
from panelrelay.worker.queue import enqueue

MAX_IDS = 10_000


class SubmitError(ValueError):
    """Bad input, said in words the user can act on."""


def parse_ids(text: str) -> list[str]:
    """The ids of a list typed by staff, deduplicated in order; SubmitError names the tokens that are not ids."""
    try:
        return split_ids(text)
    except NotOrderIds as exc:
        raise SubmitError(str(exc)) from None


def create_request(
    workspace: Workspace,
    panel: Panel,
    command: Command,
    ids: list[str],
    *,
    note: str = "",
    source: str = ForwardRequest.MANUAL,
    source_ref: str = "",
    user: User | None = None,
    force: bool = False,
    ticket_user: str = "",
    batch: str = "",
) -> ForwardRequest:
    if not ids:
        raise SubmitError("No order ids found. Paste panel order ids, separated by spaces, commas or new lines.")
    if len(ids) > MAX_IDS:
        raise SubmitError(f"{len(ids):,} ids is more than {MAX_IDS:,} in one request. Split them into several.")
    bad = [oid for oid in ids if not is_order_id(oid)]
    if bad:  # every source ends here: nothing but a whole, plausible id becomes an order row
        raise SubmitError(str(NotOrderIds(bad)))
    if panel.workspace_id != workspace.id or command.workspace_id != workspace.id:
        raise SubmitError("That panel or command is not in this workspace.")
    if not panel.enabled:
        raise SubmitError(f"Panel “{panel.name}” is turned off. Turn it on under Panels first.")
    with transaction.atomic():
        request = ForwardRequest.objects.create(
            workspace=workspace,
            panel=panel,
            panel_name=panel.name,
            command=command,
            command_label=command.label,
            note=note.strip()[:500],
            force=force,
            source=source,
            source_ref=source_ref[:100],
            ticket_user=ticket_user[:150],
            batch=batch[:40],
            created_by=user,
            total=len(ids),
        )
        insert_orders(RequestOrder(request=request, workspace=workspace, command_slug=command.slug), ids)
        faults.point("forwarding.submit.before_job")
        enqueue("forwarding.process", {"request": request.id}, workspace=workspace, key=f"process:{request.id}")
    return request


def insert_orders(template: RequestOrder, ids: list[str]) -> None:
    """One INSERT … SELECT for every id: each row is `template` with its own panel_order_id.

    Every other column is the same for all rows, so it is prepared once and the ids travel as
    one parameter (a PostgreSQL array, a JSON list on SQLite), in their order: 10,000 rows in one
    statement, with nothing per row in Python (bulk_create built a model and prepared 30 values
    per row: 4 s for 10,000). Rows get ascending ids in the order given.
    """
    fields = [f for f in RequestOrder._meta.concrete_fields if f.name not in ("id", "panel_order_id")]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column or f.attname) for f in [*fields, RequestOrder._meta.get_field("panel_order_id")])
    values = [f.get_db_prep_save(f.pre_save(template, add=True), connection) for f in fields]
    table = quote(RequestOrder._meta.db_table)
    if connection.vendor == "postgresql":  # typed: a bare NULL in a SELECT list would be text
        placeholders = ", ".join(f"CAST(%s AS {f.cast_db_type(connection)})" for f in fields)
    else:
        placeholders = ", ".join(["%s"] * len(values))
    if connection.vendor == "postgresql":
        source = "unnest(%s::varchar[]) WITH ORDINALITY AS ids(value, n) ORDER BY n"
        param: list[str] | str = ids
    else:
        source = "json_each(%s) AS ids ORDER BY ids.key"
        param = json.dumps(ids)
    sql = f"INSERT INTO {table} ({columns}) SELECT {placeholders}, ids.value FROM {source}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, param])
