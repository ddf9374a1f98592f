# The Providers page with a year of data: a provider's orders sent since a day, read from an index range.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forwarding", "0012_ro_request_provider"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="requestorder",
            index=models.Index(fields=["provider", "state", "sent_at"], name="ro_provider_sent"),
        ),
    ]
