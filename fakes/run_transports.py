"""Start all four messaging fakes with demo data, in the foreground, until Ctrl-C.

    python -m fakes.run_transports [--host 127.0.0.1] [--port-offset 0] [--no-seed]

Telegram on 8102, WAHA on 8103, Evolution on 8104, Green-API on 8105 (plus the offset).
Each one's inbox is at <url>/_fake/inbox. To run a single fake: python -m fakes.telegram --seed-demo.
"""

from __future__ import annotations

import argparse
import threading

from fakes.evolution import FakeEvolution
from fakes.greenapi import FakeGreenAPI
from fakes.messaging import MessagingFake, banner
from fakes.telegram import FakeTelegram
from fakes.waha import FakeWAHA

FAKES: tuple[type[MessagingFake], ...] = (FakeTelegram, FakeWAHA, FakeEvolution, FakeGreenAPI)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fakes.run_transports", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-offset", type=int, default=0, help="added to every default port")
    parser.add_argument("--no-seed", action="store_true", help="start empty instead of with demo data")
    args = parser.parse_args(argv)
    fakes = [cls(host=args.host, port=cls.default_port + args.port_offset) for cls in FAKES]
    try:
        for fake in fakes:
            if not args.no_seed:
                fake.seed_demo()
            fake.start()
            print(banner(fake), flush=True)
        threading.Event().wait()  # serve until interrupted
    except KeyboardInterrupt:
        pass
    finally:
        for fake in fakes:
            fake.stop()


if __name__ == "__main__":
    main()
