# Fewer indexes on forwarding_requestorder (issue 14): each is written for every row of a request's
# 10,000-row insert and again at every state change (lookup, message, sent), as PostgreSQL writes a
# new entry in every index for an update that changes an indexed column.
#
# - The foreign keys' own indexes on request, workspace and provider go: composite indexes start with
#   those columns (ro_request_state / ro_request_provider, the seven (workspace, …) ones, ro_provider_sent)
#   and serve the same lookups, deletes and joins.
# - message, destination and next_watch_at are NULL until later (in a message, routed, sent): their
#   indexes become partial, WHERE … IS NOT NULL, as no query looks for the NULLs through them (`= id`,
#   `IN`, `<=` imply NOT NULL on both databases). Writing an order's decision (message IS NULL) no longer
#   finds its rows through the message index (a plan that read every undecided order per chunk).
#
# The field changes are state only: Django would rebuild the whole table on SQLite (dropping the
# state-tally triggers with it) and drop and re-validate the foreign keys on PostgreSQL, where dropping
# the index is all that is needed.

import django.db.models.deletion
from django.db import migrations, models

FK_INDEXES = {  # Django's name for each foreign key's index (the same on SQLite and PostgreSQL)
    "request": ("forwarding_requestorder_request_id_7e80d839", "request_id"),
    "workspace": ("forwarding_requestorder_workspace_id_4cecc9ca", "workspace_id"),
    "provider": ("forwarding_requestorder_provider_id_7ca91256", "provider_id"),
    "destination": ("forwarding_requestorder_destination_id_4a6adab1", "destination_id"),
    "message": ("forwarding_requestorder_message_id_26b76e63", "message_id"),
}


def _drop(name: str, column: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{name}"',
        reverse_sql=f'CREATE INDEX "{name}" ON "forwarding_requestorder" ("{column}")',
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("forwarding", "0013_ro_provider_sent"),
        ("panels", "0007_panel_failing_lookups"),
        ("transports", "0005_incoming"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[_drop(name, column) for name, column in FK_INDEXES.values()],
            state_operations=[
                migrations.AlterField(
                    model_name="requestorder",
                    name="destination",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="transports.destination",
                    ),  # fmt: skip
                ),
                migrations.AlterField(
                    model_name="requestorder",
                    name="message",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="orders",
                        to="forwarding.message",
                    ),  # fmt: skip
                ),
                migrations.AlterField(
                    model_name="requestorder",
                    name="provider",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="panels.provider",
                    ),  # fmt: skip
                ),
                migrations.AlterField(
                    model_name="requestorder",
                    name="request",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="orders",
                        to="forwarding.forwardrequest",
                    ),  # fmt: skip
                ),
                migrations.AlterField(
                    model_name="requestorder",
                    name="workspace",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.workspace",
                    ),  # fmt: skip
                ),
            ],
        ),
        migrations.RemoveIndex(model_name="requestorder", name="ro_next_watch"),
        migrations.AddIndex(
            model_name="requestorder",
            index=models.Index(
                condition=models.Q(("next_watch_at__isnull", False)), fields=["next_watch_at"], name="ro_next_watch"
            ),  # fmt: skip
        ),
        migrations.AddIndex(
            model_name="requestorder",
            index=models.Index(condition=models.Q(("message__isnull", False)), fields=["message"], name="ro_message"),
        ),
        migrations.AddIndex(
            model_name="requestorder",
            index=models.Index(
                condition=models.Q(("destination__isnull", False)), fields=["destination"], name="ro_destination"
            ),  # fmt: skip
        ),
    ]
