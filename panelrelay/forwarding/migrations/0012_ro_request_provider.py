# Activity's provider filter: "has this request an order of this provider?" answered from the index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forwarding", "0011_state_tally"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="requestorder",
            index=models.Index(fields=["request", "provider"], name="ro_request_provider"),
        ),
    ]
