"""The v2 answer shape: `{data, error_message, error_code}` (+ `pagination` on lists), the
X-Api-Key check, and ApiError turned into that envelope (HTTP 200, PP's way)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fakes.base import FakeRequest, Reply, json_reply, route
from fakes.panel.values import ERR_BAD_KEY, V2, ApiError

if TYPE_CHECKING:
    from fakes.panel import FakePanel

Kind = str | Callable[[FakeRequest], str]


def v2_route(method: str, path: str, kind: Kind) -> Callable[[Callable[..., Reply]], Callable[..., Reply]]:
    """@route under both v2 prefixes, with the call counter, key check and ApiError envelope."""

    def mark(fn: Callable[..., Reply]) -> Callable[..., Reply]:
        @functools.wraps(fn)
        def wrapped(self: FakePanel, req: FakeRequest) -> Reply:
            self._count(kind(req) if callable(kind) else kind)
            if req.headers.get("x-api-key") != self.api_key:
                self._count("auth_failed")
                return self._v2_error(ERR_BAD_KEY, "Invalid API key", self.auth_error_status)
            try:
                return fn(self, req)
            except ApiError as exc:
                return self._v2_error(exc.code, exc.message)

        return route(method, V2 + path)(wrapped)

    return mark


class Envelope:
    """FakePanel's v2 answers: success, error, and a paginated list."""

    # State set by FakePanel.__init__ (lock by FakeServer's), named here so this part reads alone.
    envelope: str
    url: str

    def _v2_ok(self, data: Any, pagination: dict[str, Any] | None = None) -> Reply:
        body: dict[str, Any] = {"data": data}
        if self.envelope == "full":
            body |= {"error_message": None, "error_code": 0}
        if pagination is not None:
            body["pagination"] = pagination
        return json_reply(body)

    def _v2_error(self, code: int, message: str, status: int = 200) -> Reply:
        return json_reply({"data": None, "error_message": message, "error_code": code}, status)

    def _v2_list(self, req: FakeRequest, items: list[Any], total: int, limit: int, offset: int) -> Reply:
        def href(at: int) -> str:
            return f"{self.url}{req.path}?{urlencode(req.query | {'limit': limit, 'offset': at})}"

        pagination = {
            "total": total,
            "offset": offset,
            "limit": limit,
            "next_page_href": href(offset + limit) if offset + limit < total else None,
            "prev_page_href": href(max(0, offset - limit)) if offset > 0 else None,
        }
        return self._v2_ok({"count": len(items), "list": items}, pagination)
