"""The one serializer: pydantic models <-> JSON bytes with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel

__all__ = ["dumps", "loads"]


def dumps(obj: BaseModel | dict[str, Any]) -> bytes:
    """Serialise a model (or a plain dict) to compact JSON bytes."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json", exclude_none=False)
    return orjson.dumps(obj)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
