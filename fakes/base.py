"""The small HTTP framework every fake is built on.

A fake subclasses FakeServer, declares routes with @route, and gets for free:
latency, fault injection (HTML error pages, timeouts, malformed JSON, empty bodies,
arbitrary status codes, dropped connections), a log of what it received, and a
control API under /_fake/ so a fake running in another process (the demo, the
benchmarks, crash tests) can be steered and inspected over HTTP as well.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

Handler = Callable[["FakeRequest"], "Reply"]
POLL_INTERVAL = 0.02  # seconds between shutdown checks in serve_forever()


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # regex groups of the route

    def json(self) -> Any:
        if not self.body:
            return {}
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        ctype = self.headers.get("content-type", "")
        if "json" in ctype:
            data = self.json()
            return (
                {
                    k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list)) else str(v)
                    for k, v in data.items()
                }
                if isinstance(data, dict)
                else {}
            )
        pairs = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        return {k: v[-1] for k, v in pairs.items()}

    def values(self) -> dict[str, str]:
        """Query string and body together, body winning (how PHP panels read $_REQUEST)."""
        merged = dict(self.query)
        if self.body:
            try:
                merged.update(self.form())
            except (ValueError, UnicodeDecodeError):
                pass
        return merged


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON; str → text; bytes → as is
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain; charset=utf-8")
        if self.body is None:
            return b"", self.headers.get("Content-Type", "text/plain")
        return json.dumps(self.body).encode(), "application/json"


def json_reply(body: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status=status, body=body, headers=dict(headers))


HTML_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass
class Fault:
    """One injected failure, applied to the next `times` requests whose path matches."""

    kind: str  # status | html | timeout | malformed | empty | drop | lost_reply
    path: str = ""  # regex searched in the path; "" matches every request
    times: int = 1
    status: int = 500
    body: Any = None
    seconds: float = 30.0  # for kind=timeout: how long to stall before answering
    headers: dict[str, str] = field(default_factory=dict)  # for kind=status, e.g. {"Retry-After": "0"}

    # lost_reply: the request is carried out, then the connection closes without an answer (the
    # client cannot tell whether it took effect: a retry must not do it twice).
    KINDS = ("status", "html", "timeout", "malformed", "empty", "drop", "lost_reply")

    def __post_init__(self) -> None:
        # A typo such as "timout" would otherwise fall through to a silent drop.
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {self.KINDS}")

    def reply(self) -> Reply | None:
        if self.kind == "status":
            return Reply(self.status, self.body if self.body is not None else {"error": "injected"}, dict(self.headers))
        if self.kind == "html":
            return Reply(
                self.status if self.status != 500 else 502,
                HTML_ERROR_PAGE,
                {"Content-Type": "text/html; charset=utf-8"},
            )
        if self.kind == "malformed":
            return Reply(200, b'{"data": {"id": 1, "status": ', {"Content-Type": "application/json"})
        if self.kind == "empty":
            return Reply(200, b"", {"Content-Type": "application/json"})
        if self.kind == "timeout":
            time.sleep(self.seconds)
            return Reply(504, HTML_ERROR_PAGE, {"Content-Type": "text/html"})
        return None  # drop: handled by the server


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Mark a method of a FakeServer subclass as the handler of METHOD /pattern."""

    def mark(fn: Handler) -> Handler:
        fn._fake_route = (method.upper(), re.compile("^" + pattern + "$"))  # type: ignore[attr-defined]
        return fn

    return mark


class RateLimiter:
    """Sliding one-second window: at most `per_second` requests per key."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if not self.per_second:
            return True
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= 1.0:
                hits.popleft()
            if len(hits) >= self.per_second:
                return False
            hits.append(now)
            return True


class FakeServer:
    """A threaded loopback HTTP server with routes declared by @route."""

    name = "fake"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.latency = latency
        self.faults: list[Fault] = []
        self.received: list[FakeRequest] = []
        self.lock = threading.RLock()
        self._routes = self._collect_routes()
        self._httpd = ThreadingHTTPServer((host, port), self._make_handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._serving = False

    # ----- lifecycle -------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._serving = True
        self._thread = threading.Thread(target=self.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        # shutdown() waits for serve_forever() to acknowledge; if it never ran
        # (a server built but not started) that wait would block forever.
        if self._serving:
            self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        self._serving = True
        # shutdown() is only noticed between polls; the default 0.5 s made every stop() (so
        # every test using a fake) half a second slower.
        self._httpd.serve_forever(poll_interval=POLL_INTERVAL)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- steering --------------------------------------------------------
    def inject(self, kind: str, path: str = "", times: int = 1, **kw: Any) -> Fault:
        fault = Fault(kind=kind, path=path, times=times, **kw)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def requests_to(self, pattern: str) -> list[FakeRequest]:
        rx = re.compile(pattern)
        with self.lock:
            return [r for r in self.received if rx.search(r.path)]

    def reset(self) -> None:
        """Forget received requests and faults; subclasses also reset their state."""
        with self.lock:
            self.faults.clear()
            self.received.clear()

    def snapshot(self) -> dict[str, Any]:
        """What GET /_fake/state returns; subclasses add their own state."""
        return {"received": len(self.received), "faults": len(self.faults)}

    # ----- internals -------------------------------------------------------
    def _collect_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        routes = []
        for attr in dir(type(self)):
            fn = getattr(type(self), attr)
            mark = getattr(fn, "_fake_route", None)
            if mark:
                routes.append((mark[0], mark[1], getattr(self, attr)))
        return routes

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not fault.path or re.search(fault.path, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _control(self, req: FakeRequest) -> Reply:
        if req.path == "/_fake/state" and req.method == "GET":
            return json_reply(self.snapshot())
        if req.path == "/_fake/reset" and req.method == "POST":
            self.reset()
            return json_reply({"ok": True})
        if req.path == "/_fake/fault" and req.method == "POST":
            try:
                self.inject(**req.json())
            except (TypeError, ValueError) as exc:  # a bad spec is the caller's error, not a crash
                return json_reply({"error": str(exc)}, 400)
            return json_reply({"ok": True})
        if req.path == "/_fake/config" and req.method == "POST":
            for key, value in req.json().items():
                if not hasattr(self, key) or key.startswith("_"):
                    return json_reply({"error": f"unknown setting {key}"}, 400)
                setattr(self, key, value)
            return json_reply({"ok": True})
        return json_reply({"error": "unknown control endpoint"}, 404)

    def dispatch(self, req: FakeRequest) -> Reply | None:
        if req.path.startswith("/_fake/"):
            return self._control(req)
        with self.lock:
            self.received.append(req)
        if self.latency:
            time.sleep(self.latency)
        fault = self._take_fault(req.path)
        if fault and fault.kind != "lost_reply":
            return fault.reply()
        reply = self._route(req)
        return None if fault else reply

    def _route(self, req: FakeRequest) -> Reply:
        for method, rx, handler in self._routes:
            m = rx.match(req.path)
            if m and method == req.method:
                req.params = m.groupdict()
                return handler(req)
        return self.not_found(req)

    def not_found(self, req: FakeRequest) -> Reply:
        return json_reply({"error": "Not Found"}, 404)

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with keep-alive, Nagle plus the
            # client's delayed ACK stalled every reply by ~40 ms (skewing benchmarks).
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except (ConnectionResetError, BrokenPipeError):
                    # A client that went away between keep-alive requests (a killed worker):
                    # nothing to answer, and no traceback in the test output.
                    self.close_connection = True

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                try:
                    reply = server.dispatch(req)
                except Exception as exc:  # noqa: BLE001 - a bug in a fake must show up, not hang the client
                    reply = Reply(500, {"error": f"fake crashed: {exc!r}"})
                if reply is None:  # fault kind=drop: close without answering
                    self.close_connection = True
                    return
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (e.g. it timed out during a timeout fault); that is expected
                    # and must not print a traceback into the test output.
                    self.close_connection = True

            def _send(self, reply: Reply) -> None:
                payload, ctype = reply.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in reply.headers.items():
                    if key.lower() not in ("content-type", "content-length"):
                        self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        return _Handler
