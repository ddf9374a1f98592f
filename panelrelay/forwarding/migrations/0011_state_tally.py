# Activity's tab counts from a tally the database keeps (forwarding/models.py StateTally): triggers on
# forwarding_requestorder insert +/- deltas per (workspace, state, progress); a periodic job folds them.

from django.db import migrations, models

POSTGRES = [
    """
    CREATE FUNCTION forwarding_state_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO forwarding_statetally (ws, state, progress, n)
            SELECT workspace_id, state, progress, count(*) FROM new_rows GROUP BY 1, 2, 3;
        ELSIF TG_OP = 'DELETE' THEN
            INSERT INTO forwarding_statetally (ws, state, progress, n)
            SELECT workspace_id, state, progress, -count(*) FROM old_rows GROUP BY 1, 2, 3;
        ELSE
            INSERT INTO forwarding_statetally (ws, state, progress, n)
            SELECT ws, state, progress, sum(n) FROM (
                SELECT workspace_id AS ws, state, progress, -1 AS n FROM old_rows
                UNION ALL
                SELECT workspace_id, state, progress, 1 FROM new_rows
            ) AS delta GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
        END IF;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER forwarding_state_tally_ins AFTER INSERT ON forwarding_requestorder
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION forwarding_state_tally()""",
    """CREATE TRIGGER forwarding_state_tally_upd AFTER UPDATE ON forwarding_requestorder
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION forwarding_state_tally()""",
    """CREATE TRIGGER forwarding_state_tally_del AFTER DELETE ON forwarding_requestorder
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION forwarding_state_tally()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS forwarding_state_tally_ins ON forwarding_requestorder",
    "DROP TRIGGER IF EXISTS forwarding_state_tally_upd ON forwarding_requestorder",
    "DROP TRIGGER IF EXISTS forwarding_state_tally_del ON forwarding_requestorder",
    "DROP FUNCTION IF EXISTS forwarding_state_tally()",
]
SQLITE = [
    """CREATE TRIGGER forwarding_state_tally_ins AFTER INSERT ON forwarding_requestorder BEGIN
       INSERT INTO forwarding_statetally (ws, state, progress, n) VALUES (NEW.workspace_id, NEW.state, NEW.progress, 1);
       END""",
    """CREATE TRIGGER forwarding_state_tally_upd AFTER UPDATE OF state, progress, workspace_id ON forwarding_requestorder
       WHEN OLD.state IS NOT NEW.state OR OLD.progress IS NOT NEW.progress OR OLD.workspace_id IS NOT NEW.workspace_id
       BEGIN
       INSERT INTO forwarding_statetally (ws, state, progress, n) VALUES (OLD.workspace_id, OLD.state, OLD.progress, -1);
       INSERT INTO forwarding_statetally (ws, state, progress, n) VALUES (NEW.workspace_id, NEW.state, NEW.progress, 1);
       END""",
    """CREATE TRIGGER forwarding_state_tally_del AFTER DELETE ON forwarding_requestorder BEGIN
       INSERT INTO forwarding_statetally (ws, state, progress, n) VALUES (OLD.workspace_id, OLD.state, OLD.progress, -1);
       END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS forwarding_state_tally_ins",
    "DROP TRIGGER IF EXISTS forwarding_state_tally_upd",
    "DROP TRIGGER IF EXISTS forwarding_state_tally_del",
]
# The orders already there, counted once, after the triggers exist (on PostgreSQL the trigger's creation
# locks the table against writes until this migration commits, so nothing is counted twice or missed).
BACKFILL = """
    INSERT INTO forwarding_statetally (ws, state, progress, n)
    SELECT workspace_id, state, progress, count(*) FROM forwarding_requestorder GROUP BY 1, 2, 3
"""


def install(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements + [BACKFILL]:
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("forwarding", "0010_dashboard_tally"),
    ]

    operations = [
        migrations.CreateModel(
            name="StateTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ws", models.BigIntegerField(db_index=True)),
                ("state", models.CharField(max_length=10)),
                ("progress", models.CharField(blank=True, max_length=12)),
                ("n", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
