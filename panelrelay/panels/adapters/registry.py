"""Which adapter serves which `Panel.kind`. Adding an API kind = a folder + one line here."""

from __future__ import annotations

from panelrelay.panels.adapters.base import PanelAdapter
from panelrelay.panels.adapters.perfectpanel_v1 import PerfectPanelV1
from panelrelay.panels.adapters.perfectpanel_v2 import PerfectPanelV2

ADAPTERS: dict[str, type[PanelAdapter]] = {cls.kind: cls for cls in (PerfectPanelV2, PerfectPanelV1)}


def adapter_class(kind: str) -> type[PanelAdapter]:
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise ValueError(f"no panel adapter for kind {kind!r}") from None


def choices() -> list[tuple[str, str]]:
    return [(kind, cls.label) for kind, cls in ADAPTERS.items()]
