"""The OpenAPI document: JSON responses, and the chunk schemas of streamed ones.

Streamed responses are Server-Sent Events whose ``data`` lines are JSON chunks; FastAPI
cannot see those models, so they are added to the components here, and each streaming
route names its chunk model under ``text/event-stream``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"


def streamed(model: type[BaseModel], chunk: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """``responses`` for a route that answers ``model``, or with ``stream: true`` an SSE
    stream of ``chunk`` objects ended by ``data: [DONE]``."""
    return {
        200: {
            "model": model,
            "description": f"{model.__name__}; with `stream: true`, Server-Sent Events whose "
            f"data are {chunk.__name__} objects, then `[DONE]`",
            "content": {"text/event-stream": {"schema": sse_event(chunk)}},
        }
    }


def sse_event(chunk: type[BaseModel]) -> dict[str, Any]:
    """One Server-Sent Event of a stream (OpenAPI before 3.2: ``schema`` describes each
    event): its ``data`` is a JSON ``chunk`` object, or the closing ``[DONE]``."""
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "oneOf": [
                    {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": {"$ref": REF.format(model=chunk.__name__)},
                    },
                    {"const": "[DONE]"},
                ]
            },
            "event": {"type": "string"},
            "id": {"type": "string"},
            "retry": {"type": "integer"},
        },
    }


def install_openapi(app: FastAPI, chunks: list[type[BaseModel]]) -> None:
    """Serve an OpenAPI document that also defines the ``chunks`` models."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, routes=app.routes)
            _, defs = models_json_schema([(m, "serialization") for m in chunks], ref_template=REF)
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in defs.get("$defs", {}).items():
                schemas.setdefault(name, schema)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
