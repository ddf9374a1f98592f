# Request → ForwardRequest: a rename of the model in Django's state only. The table keeps its name
# (Meta.db_table = "forwarding_request") and the foreign keys pointing at it do not change, so no
# schema SQL runs: RenameModel alone would re-create those foreign keys (SQLite rebuilds the
# tables). The content type row is renamed as Django does for a plain RenameModel.

from django.contrib.contenttypes.management import RenameContentType
from django.db import migrations

CONTENT_TYPE = RenameContentType("forwarding", "request", "forwardrequest")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("forwarding", "0003_outcome_codes"),
        ("intake", "0002_telegramlink_panel"),  # its foreign key to Request is created before the rename
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterModelTable(name="request", table="forwarding_request"),
                migrations.RenameModel(old_name="Request", new_name="ForwardRequest"),
            ],
        ),
        migrations.RunPython(CONTENT_TYPE.rename_forward, CONTENT_TYPE.rename_backward),
    ]
