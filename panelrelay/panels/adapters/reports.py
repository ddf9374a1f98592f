"""Test connection's verdict, the same for every adapter: the key is judged by the one call
forwarding depends on; every other call is a `Capability` that works, is not offered, or failed."""

from __future__ import annotations

from collections.abc import Callable

from panelrelay.panels.adapters.base import Capability, ConnectionReport, PanelError


def probe(name: str, call: Callable[[], object]) -> Capability:
    """Try one capability for Test connection: works, not offered by this panel, or what failed."""
    try:
        call()
    except PanelError as exc:
        if exc.kind == "unsupported":
            return Capability(name, False, "not offered by this panel", offered=False)
        return Capability(name, False, str(exc).split(": ", 1)[-1])
    return Capability(name, True)


def failed_report(exc: PanelError) -> ConnectionReport:
    """The call that judges the key failed. Only the panel saying so makes the key bad: a web page,
    a timeout or a missing action says nothing about the key, so it stays "not checked" (None)."""
    return ConnectionReport(
        reachable=exc.kind not in ("unreachable", "timeout"),
        key_accepted=False if exc.kind == "auth" else None,
        capabilities=[],
        round_trip_ms=None,
        message=str(exc),
        problem=exc.kind,
    )


def connected_report(elapsed_ms: int | None, capabilities: list[Capability]) -> ConnectionReport:
    """The key works; optional capabilities the panel lacks are named as such, never as faults."""
    working = ", ".join(c.name.lower() for c in capabilities if c.ok) or "nothing beyond the key check"
    connected = "Connected" if elapsed_ms is None else f"Connected in {elapsed_ms} ms"
    message = f"{connected}; the API key works. Working: {working}."
    if missing := [c.name.lower() for c in capabilities if not c.offered]:
        message += f" Not offered: {', '.join(missing)}."
    return ConnectionReport(
        reachable=True, key_accepted=True, capabilities=capabilities, round_trip_ms=elapsed_ms, message=message
    )
