"""The OpenAPI 3.0 document of REST API v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from panelrelay.forwarding.models import Outcome

_ERROR = {"$ref": "#/components/responses/Error"}
_STATES = ["pending", "queued", "retrying", "sent", "skipped", "failed"]
_OUTCOMES = {code: label for code, label in Outcome.choices}

_ORDER = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "state": {"type": "string", "enum": _STATES},
        "outcome": {
            "type": "string",
            "enum": list(_OUTCOMES),
            "description": "Why the order is where it is, as a stable code (the reason is a sentence for people "
            "and may be reworded): " + "; ".join(f"`{c}`: {label}" for c, label in _OUTCOMES.items()) + ".",
        },
        "reason": {"type": "string"},
        "external_id": {"type": "string", "nullable": True},
        "provider": {"type": "string", "nullable": True, "description": "the provider's alias, never its domain"},
        "manual": {"type": "boolean"},
        "service_id": {"type": "string", "nullable": True},
        "status": {"type": "string", "nullable": True},
        "destination": {"type": "string", "nullable": True},
        "sent_at": {"type": "string", "format": "date-time", "nullable": True},
    },
    "required": ["order_id", "state", "outcome", "reason"],
}

_REQUEST = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "url": {"type": "string"},
        "panel": {"type": "string"},
        "command": {"type": "string", "nullable": True},
        "source": {"type": "string"},
        "note": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "finished": {"type": "string", "format": "date-time", "nullable": True},
        "total": {"type": "integer"},
        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "orders": {"type": "array", "items": _ORDER},
        "next_offset": {"type": "integer", "nullable": True},
    },
    "required": ["id", "url", "panel", "total", "counts"],
}

_NULLABLE_TEXT = {"type": "string", "nullable": True}
_ROUTE = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string"},
        "panel": {"type": "string"},
        "external_id": _NULLABLE_TEXT,
        "provider": {**_NULLABLE_TEXT, "description": "the provider's alias, never its domain"},
        "service_id": _NULLABLE_TEXT,
        "status": {"type": "string"},
        "mode": {"type": "string", "enum": ["auto", "manual"]},
        "destination": _NULLABLE_TEXT,
        "rule": {"type": "integer", "nullable": True, "minimum": 1, "maximum": 4},
        "reason": {"type": "string"},
    },
    "required": ["order_id", "panel", "external_id", "provider", "service_id", "status", "mode", "destination",
                 "rule", "reason"],
}  # fmt: skip
_PANELS = {
    "type": "object",
    "properties": {
        "panels": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                               "enabled": {"type": "boolean"}},
                "required": ["id", "name", "enabled"],
            },
        }
    },
    "required": ["panels"],
}  # fmt: skip
_COMMANDS = {
    "type": "object",
    "properties": {
        "commands": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"command": {"type": "string"}, "label": {"type": "string"},
                               "statuses": {"type": "array", "items": {"type": "string"}}},
                "required": ["command", "label", "statuses"],
            },
        }
    },
    "required": ["commands"],
}  # fmt: skip

SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": "PanelRelay API",
        "version": "1",
        "description": "Forward refill/cancel/speed-up/partial requests for panel orders and follow each order. "
        "Authenticate with a workspace token (Settings → API tokens) as `Authorization: Bearer <token>`.",
    },
    "servers": [{"url": "/"}],
    "security": [{"token": []}],
    "paths": {
        "/api/v1/requests": {
            "post": {
                "operationId": "createRequest",
                "summary": "Forward a command for one or many panel order ids",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["command", "ids"],
                                "properties": {
                                    "panel": {
                                        "type": "string",
                                        "description": "panel name or id; optional with one panel",
                                    },
                                    "command": {"type": "string", "example": "refill"},
                                    "ids": {
                                        "description": "Panel order ids: 1 to 20 digits, no leading zero. As a "
                                        "list of strings (or JSON integers up to 9007199254740991: larger "
                                        "numbers lose digits in JavaScript clients, send them as strings), or "
                                        "one string separated by spaces, commas, semicolons or new lines. Any "
                                        "other token (-5, 1e5, 2.5, 25 digits) refuses the request with 400, "
                                        "naming it; nothing is cut or trimmed into an id.",
                                        "oneOf": [
                                            {
                                                "type": "array",
                                                "items": {
                                                    "oneOf": [
                                                        {"type": "string", "pattern": "^[1-9][0-9]{0,19}$"},
                                                        {"type": "integer", "minimum": 1, "maximum": 9007199254740991},
                                                    ]
                                                },
                                                "maxItems": 10000,
                                            },
                                            {"type": "string"},
                                        ],
                                    },
                                    "note": {
                                        "type": "string",
                                        "maxLength": 500,
                                        "description": "added to the provider's message; a web address or "
                                        "domain name in it is refused with 400",
                                    },
                                    "force": {"type": "boolean", "description": "ignore the cooldown"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {"description": "accepted", "content": {"application/json": {"schema": _REQUEST}}},
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                    "405": _ERROR,
                    "413": _ERROR,
                    "415": _ERROR,
                },  # fmt: skip
            }
        },
        "/api/v1/requests/{id}": {
            "get": {
                "operationId": "getRequest",
                "summary": "A request with the state and reason of each order (1,000 orders a page)",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": _STATES}},
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                        "description": "the page's first order (0, 1000, …: `next_offset` of the previous page)",
                    },
                ],
                "responses": {
                    "200": {"description": "the request", "content": {"application/json": {"schema": _REQUEST}}},
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,  # also for an id that is not a UUID
                },  # fmt: skip
            }
        },
        "/api/v1/route-check": {
            "get": {
                "operationId": "routeCheck",
                "summary": "Which destination an order would go to, and why; nothing is sent",
                "parameters": [
                    {
                        "name": "order",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[1-9][0-9]{0,19}$"},  # reading.orderids
                    },
                    {"name": "panel", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "the decision", "content": {"application/json": {"schema": _ROUTE}}},
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                    "502": _ERROR,
                },  # fmt: skip
            }
        },
        "/api/v1/panels": {
            "get": {
                "operationId": "listPanels",
                "summary": "The workspace's panels",
                "responses": {
                    "200": {"description": "panels", "content": {"application/json": {"schema": _PANELS}}},
                    "401": _ERROR,
                    "403": _ERROR,
                },
            }  # fmt: skip
        },
        "/api/v1/commands": {
            "get": {
                "operationId": "listCommands",
                "summary": "The commands that can be forwarded",
                "responses": {
                    "200": {"description": "commands", "content": {"application/json": {"schema": _COMMANDS}}},
                    "401": _ERROR,
                    "403": _ERROR,
                },
            }  # fmt: skip
        },
    },
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "Error": {
                "description": "an error, said in words",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "error": {"type": "string", "description": "what was wrong, naming the field"}
                            },
                            "required": ["error"],
                            "additionalProperties": False,
                        }
                    }
                },
            }
        },
    },
}
