"""One body parameter of a catalogue endpoint, validated when the catalogue loads.

Apart from ``_schema`` (the endpoint row) so that ``_inputs``, which builds input models from
parameters, needs nothing from the module whose ``Endpoint.input_model`` calls it: no import cycle.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["MEDIA_TYPES", "Param", "ParamType"]

ParamType = Literal["string", "list", "int", "float", "bool", "image", "video", "audio", "lora", "json"]
MEDIA_TYPES = frozenset({"image", "video", "audio"})


class Param(BaseModel):
    """One body parameter of an endpoint, as the registry (or the capture) declares it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="The body key sent to the API, verbatim (may be '<nodeId>##<field>').")
    name: str = Field(description="The argument name agents use; equals `key` unless `key` is not a valid name.")
    type: ParamType
    required: bool = False
    default: Any = None
    options: list[str] | None = None
    multi_select: bool = False
    min: float | None = None
    max: float | None = None
    step: float | None = None
    max_length: int | None = None
    multiple: bool = False
    max_items: int | None = None
    accept: list[str] | None = None
    max_size_mb: float | None = None
    # Workflow-backed ('##') media slots take the upload's fileName rather than its URL (capture evidence).
    media_ref: Literal["url", "file_name"] = "url"
    description: str = ""

    @property
    def is_media(self) -> bool:
        return self.type in MEDIA_TYPES

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError(f"param name {v!r} is not a valid identifier")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Param:
        if self.type == "list" and not self.options:
            raise ValueError(f"list param {self.key!r} has no options")
        if self.options is not None and self.type != "list":
            raise ValueError(f"param {self.key!r} of type {self.type} has options")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"param {self.key!r}: min > max")
        return self
