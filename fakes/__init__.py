"""Loopback fakes of the outside services PanelRelay talks to.

Each fake is a real HTTP server on 127.0.0.1 that follows the documented contract
in the vendors' docs (status codes, envelopes, error bodies, rate limits). Tests, the
demo and the benchmarks all use them; nothing here imports Django.
"""
