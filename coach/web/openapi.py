"""The OpenAPI 3 description of the JSON API, for integrators.

Kept beside the routes it describes; a test checks that every /api/v1 route
of the app appears here, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from coach.guide.frameworks import STAGES
from coach.storage.models import MESSAGE_ROLES, MESSAGE_STATUSES, ROLES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _json(_ref("Error"), "An error")
SESSION_ID = {"name": "session_id", "in": "path", "required": True, "schema": {"type": "integer"}}
TURN_RESPONSES = {
    "201": {
        "description": "The stored user message and the reply. With `Accept: text/event-stream`,"
        ' an SSE stream instead: `event: message` with `{"message": Message}` (the stored'
        ' user message), `event: delta` with `{"text"}` repeatedly, then `event: done` with'
        ' `{"reply": Message}` or `event: error` with `{"error": {code, message},'
        ' "retryable": bool, "reply": Message or null}` (a partial or failed reply,'
        " which `/retry` answers again). 409 `reply_in_progress` while a reply is being"
        " written.",
        "content": {
            "application/json": {"schema": _ref("Turn")},
            "text/event-stream": {"schema": {"type": "string"}},
        },
    },
    "400": ERROR,
    "401": ERROR,
    "404": ERROR,
    "409": ERROR,
    "413": ERROR,
    "429": ERROR,
    "502": ERROR,
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "User": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "role": {"enum": list(ROLES)},
            "is_guest": {"type": "boolean"},
            "email": {"type": ["string", "null"]},
        },
    },
    "Auth": {
        "type": "object",
        "required": ["token", "user"],
        "properties": {"token": {"type": "string"}, "user": _ref("User")},
    },
    "Message": {
        "type": "object",
        "required": ["id", "role", "content", "stage", "status", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "role": {"enum": list(MESSAGE_ROLES)},
            "content": {"type": "string"},
            "content_html": {"type": "string", "description": "Sanitised HTML of content"},
            "stage": {"enum": list(STAGES)},
            "status": {"enum": list(MESSAGE_STATUSES)},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Session": {
        "type": "object",
        "required": ["id", "title", "stage", "shared", "flags", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "stage": {"enum": list(STAGES)},
            "shared": {"type": "boolean"},
            "flags": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "messages": {"type": "array", "items": _ref("Message")},
        },
    },
    "SessionPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref("Session")},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    },
    "Turn": {
        "type": "object",
        "required": ["user_message", "reply"],
        "properties": {"user_message": _ref("Message"), "reply": _ref("Message")},
    },
    "Health": {
        "type": "object",
        "properties": {
            "status": {"type": "string"},
            "db": {"type": "string"},
            "provider": {"enum": ["guided", "openai"]},
        },
    },
}


def build_openapi() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "The coach",
            "version": "1",
            "description": "Coaching through a job rejection after a second interview. "
            "Authenticate with `Authorization: Bearer <token>` from /auth/guest or /auth/login.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": _paths(),
    }


def _paths() -> dict[str, Any]:
    open_access: list[dict[str, Any]] = []
    return {
        "/api/v1/auth/guest": {
            "post": {
                "summary": "Create a guest seeker",
                "security": open_access,
                "responses": {"201": _json(_ref("Auth"), "The guest and its token"), "429": ERROR},
            }
        },
        "/api/v1/auth/login": {
            "post": {
                "summary": "Sign in with email and password",
                "security": open_access,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["email", "password"],
                                "properties": {
                                    "email": {"type": "string"},
                                    "password": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _json(_ref("Auth"), "Signed in"), "400": ERROR, "401": ERROR},
            }
        },
        "/api/v1/sessions": {
            "get": {
                "summary": "The caller's sessions, newest first",
                "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                ],
                "responses": {"200": _json(_ref("SessionPage"), "A page"), "401": ERROR},
            },
            "post": {
                "summary": "Start a session",
                "responses": {"201": _json(_ref("Session"), "The new session"), "401": ERROR},
            },
        },
        "/api/v1/sessions/{session_id}": {
            "parameters": [SESSION_ID],
            "get": {
                "summary": "A session with its messages",
                "responses": {"200": _json(_ref("Session"), "The session"), "404": ERROR},
            },
            "patch": {
                "summary": "Change title, stage or shared",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "title": {"type": "string"},
                                    "stage": {"enum": list(STAGES)},
                                    "shared": {"type": "boolean"},
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "200": _json(_ref("Session"), "The changed session"),
                    "400": ERROR,
                    "404": ERROR,
                },
            },
            "delete": {
                "summary": "Delete a session and all its data",
                "responses": {"204": {"description": "Deleted"}, "404": ERROR},
            },
        },
        "/api/v1/sessions/{session_id}/messages": {
            "parameters": [SESSION_ID],
            "post": {
                "summary": "Send a message and get the coach's reply",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["content"],
                                "properties": {"content": {"type": "string", "minLength": 1}},
                            }
                        }
                    },
                },
                "responses": TURN_RESPONSES,
            },
        },
        "/api/v1/sessions/{session_id}/retry": {
            "parameters": [SESSION_ID],
            "post": {
                "summary": "Answer the last message again after a failed or partial reply",
                "responses": TURN_RESPONSES,
            },
        },
        "/api/v1/sessions/{session_id}/cancel": {
            "parameters": [SESSION_ID],
            "post": {
                "summary": "Stop the reply being written; what it wrote is kept as partial",
                "responses": {
                    "202": {"description": "The reply will stop"},
                    "401": ERROR,
                    "404": ERROR,
                    "409": ERROR,
                },
            },
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This description",
                "security": open_access,
                "responses": {"200": {"description": "OpenAPI 3 document"}},
            }
        },
        "/healthz": {
            "get": {
                "summary": "Health",
                "security": open_access,
                "responses": {
                    "200": _json(_ref("Health"), "Healthy"),
                    "503": _json(_ref("Health"), "The database does not answer"),
                },
            }
        },
    }
