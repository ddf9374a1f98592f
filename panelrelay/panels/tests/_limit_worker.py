"""Run in a subprocess by test_rate_limit.py: one process fetching orders through the adapter.

Usage: python -m panelrelay.panels.tests._limit_worker URL KEY RATE_KEY N
(DATABASE_URL in the environment names the database both processes share.)
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    url, key, rate_key, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panelrelay.settings")
    import django

    django.setup()
    from panelrelay.panels.adapters.perfectpanel_v2 import PerfectPanelV2

    adapter = PerfectPanelV2(name="Shared", base_url=url, api_key=key, rate_key=rate_key)
    started = time.monotonic()
    found = sum(1 for _ in range(n) if adapter.get_order("10001") is not None)
    print(json.dumps({"found": found, "seconds": time.monotonic() - started}))


if __name__ == "__main__":
    main()
