"""A worker process for test_pacing: `python -m panelrelay.transports.tests.pacing_worker NAME PK COUNT`.

It sets Django up against the database named in DATABASE_URL (the test database), shortens the
pacing like the test does, and delivers COUNT messages to destination PK, waiting whenever the
shared pacing says so. It prints one JSON line: the errors it met.
"""

from __future__ import annotations

import json
import os
import sys


def main(name: str, destination_pk: int, count: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panelrelay.settings")
    import django

    django.setup()
    from django.conf import settings

    for key, value in json.loads(os.environ["PACING"]).items():
        setattr(settings, key, value)
    from panelrelay.transports.tests.test_pacing import send_all

    errors: list[str] = []
    send_all(destination_pk, name, count, errors)
    print(json.dumps(errors), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
