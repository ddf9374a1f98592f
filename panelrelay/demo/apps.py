"""The demo app: a workspace wired to the loopback fakes, for `make demo`, the tests and the benchmark.

Nothing of the product imports it: `scenario.py` builds panels, connections, destinations and
routes the way an owner would through the pages, only faster, and `manage.py demo` starts the
fakes and seeds a workspace with it.
"""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "panelrelay.demo"
    label = "demo"
    verbose_name = "Demo: a workspace wired to the loopback fakes"
