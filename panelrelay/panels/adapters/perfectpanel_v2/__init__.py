"""Perfect Panel admin API v2 (JSON, `X-Api-Key`)."""

from panelrelay.panels.adapters.perfectpanel_v2.adapter import PerfectPanelV2

__all__ = ["PerfectPanelV2"]
