"""PanelRelay: forward SMM-panel order requests to providers by alias."""

__version__ = "0.1.0"
