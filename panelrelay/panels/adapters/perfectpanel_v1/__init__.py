"""Perfect Panel admin API v1 (action style, `key` parameter; "Rental" panels)."""

from panelrelay.panels.adapters.perfectpanel_v1.adapter import PerfectPanelV1

__all__ = ["PerfectPanelV1"]
