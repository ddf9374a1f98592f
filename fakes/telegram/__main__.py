"""`python -m fakes.telegram [--host H] [--port N] [--seed-demo] [--latency S]`."""

from fakes.messaging import serve_main
from fakes.telegram import FakeTelegram

serve_main(FakeTelegram)
