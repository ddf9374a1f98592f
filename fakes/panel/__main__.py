"""`python -m fakes.panel [--host H] [--port N] [--api-key K] [--rps R] [--latency S]
[--status-style S] [--auth-error-status N] [--seed-demo]`, in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterable

import fakes.panel
from fakes.panel import FakePanel, seed_demo
from fakes.panel.values import CHOICES


def _parse_args(argv: Iterable[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fakes.panel", description=fakes.panel.__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--rps", type=float, default=5, help="requests per second, 0 = unlimited")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--status-style", choices=CHOICES["status_style"], default="status_name")
    parser.add_argument(
        "--auth-error-status",
        type=int,
        choices=CHOICES["auth_error_status"],
        default=200,
    )
    parser.add_argument("--seed-demo", action="store_true", help="load the demo data set")
    return parser.parse_args(list(argv) if argv is not None else None)


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt  # leave serve_forever() the same way Ctrl-C does


def main(argv: Iterable[str] | None = None) -> None:
    args = _parse_args(argv)
    panel = FakePanel(
        args.host,
        args.port,
        api_key=args.api_key,
        rps=args.rps,
        latency=args.latency,
        status_style=args.status_style,
        auth_error_status=args.auth_error_status,
    )
    if args.seed_demo:
        seed_demo(panel)
        # /_fake/reset then brings the demo back instead of an empty panel.
        panel.on_reset = seed_demo
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    state = panel.snapshot()
    print(
        f"FakePanel on {panel.url} (v2: /adminapi/v2, v1: /adminapi/v1, key {panel.api_key!r}, "
        f"rps {panel.rps:g}); {state['orders']} orders, {state['tickets']} tickets",
        flush=True,
    )
    try:
        panel.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        panel.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
