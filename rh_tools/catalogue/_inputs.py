"""Build each endpoint's pydantic input model from its catalogue row (no hand-written class per endpoint).

The model is what agents see (its JSON schema) and what guards the wallet: anything the registry
rules out is rejected here, before a request is made. Rules the registry states are enforced;
rules it does not state (e.g. the wire format of multi-select lists) are passed through as given.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import PydanticUndefined

from .._exceptions import InvalidInputError
from .._media import MediaSource, classify_media
from ._param import Param

__all__ = ["AgentSchema", "EndpointInput", "EndpointLike", "build_input_model", "validate_params"]


class EndpointLike(Protocol):
    """What building and checking inputs needs of a catalogue ``Endpoint`` (``_schema``).

    A Protocol rather than an import: ``Endpoint.input_model`` calls ``build_input_model``, so
    importing ``_schema`` here would make the two modules import each other.
    """

    @property
    def tool_name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def open_params(self) -> bool: ...
    @property
    def params(self) -> Sequence[Param]: ...
    @property
    def input_model(self) -> type[BaseModel]: ...


class AgentSchema(GenerateJsonSchema):
    """JSON schemas for agents, who read them on every call: no auto titles, no "X or null".

    Optional fields show as plain ``X`` without ``"default": null``: a model reads "leave it out"
    from the field not being required, and a null it sends anyway is taken as "not set".

    Only what every provider's function-calling dialect accepts is emitted: a one-value choice is
    an ``enum`` of one (Gemini and several OpenAI-compatible servers reject ``const``), and the
    root carries neither title nor description (the tool's own name and description say that,
    and a second copy costs tokens on every request).
    """

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def nullable_schema(self, schema: Any) -> Any:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: Any) -> Any:
        out = super().default_schema(schema)
        if isinstance(out, dict) and "default" in out and out["default"] is None:
            del out["default"]
        return out

    def literal_schema(self, schema: Any) -> Any:
        out = super().literal_schema(schema)
        if "const" in out:
            out["enum"] = [out.pop("const")]
        return out

    def generate(self, schema: Any, mode: Any = "validation") -> Any:
        out = super().generate(schema, mode)
        out.pop("title", None)
        out.pop("description", None)
        return out


class EndpointInput(BaseModel):
    """Base of every endpoint input model. ``to_body()`` gives the JSON body the API expects."""

    model_config = ConfigDict(extra="forbid", frozen=False, arbitrary_types_allowed=True)
    __rh_endpoint__: EndpointLike

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        # Agents often send null for "not set"; treat it as omitted rather than a type error.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("schema_generator", AgentSchema)
        return super().model_json_schema(*args, **kwargs)

    def to_body(self) -> dict[str, Any]:
        """Body keys verbatim; values the caller set, plus registry defaults of required fields."""
        body: dict[str, Any] = {}
        for attr, param in zip(type(self).model_fields, self.__rh_endpoint__.params, strict=True):
            if attr in self.model_fields_set or (param.required and param.default is not None):
                body[param.key] = getattr(self, attr)
        if self.model_extra:  # only for endpoints whose parameters are unpublished (open_params)
            body.update(self.model_extra)
        return body

    def media_sources(self) -> list[tuple[str, int | None, MediaSource]]:
        """(body key, list index or None, source) for every local file that must be uploaded first."""
        found: list[tuple[str, int | None, MediaSource]] = []
        for key, value in self.to_body().items():
            if isinstance(value, MediaSource):
                found.append((key, None, value))
            elif isinstance(value, list):
                found.extend((key, i, v) for i, v in enumerate(value) if isinstance(v, MediaSource))
        return found


def _schema_cleanup(keep_default: bool) -> Any:
    def fix(schema: dict[str, Any]) -> None:
        if not keep_default:
            schema.pop("default", None)

    return fix


def _option_coercer(options: list[str]) -> Any:
    """LIST values are strings on the wire; accept 5 for "5" and True for "true" when that is an option."""

    def coerce(v: Any) -> Any:
        if isinstance(v, bool):
            s = str(v).lower()
            return s if s in options else v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            for cand in (str(v), str(int(v)) if float(v).is_integer() else None):
                if cand in options:
                    return cand
        return v

    return coerce


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, (str, bytes)) or not isinstance(v, (list, tuple)) else list(v)


def _parse_json_string(v: Any) -> Any:
    if isinstance(v, str) and v.strip()[:1] in ("{", "["):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def _media_validator(p: Param) -> Any:
    def check(v: Any) -> Any:
        return classify_media(v, label=p.name, accept=p.accept, max_size_mb=p.max_size_mb, media_ref=p.media_ref)

    return check


def _annotation(p: Param) -> Any:
    """The Python type (with constraints and JSON schema) of one parameter."""
    if p.type == "list":
        assert p.options
        lit = Literal[tuple(p.options)]  # type: ignore[valid-type]
        one = Annotated[lit, BeforeValidator(_option_coercer(p.options))]
        if p.multi_select:
            # The wire format of multi-select lists is not published: a single option or a list of
            # options is accepted and sent exactly as given.
            return one | list[one]  # type: ignore[operator]
        return one
    if p.type in ("image", "video", "audio"):
        item_schema = {"type": "string"}
        one = Annotated[Any, BeforeValidator(_media_validator(p)), WithJsonSchema(item_schema)]
        if p.multiple:
            limit = {"maxItems": p.max_items} if p.max_items else {}
            return Annotated[
                list[one],  # type: ignore[valid-type]
                BeforeValidator(_as_list),
                Field(min_length=1, max_length=p.max_items),
                WithJsonSchema({"type": "array", "items": item_schema, "minItems": 1, **limit}),
            ]
        return one
    if p.type == "json":
        # Shown as JSON text: an untyped field is refused by Gemini and flagged by MCP Inspector, and the
        # inner shape is not published. An object or list sent as such is accepted too.
        return Annotated[Any, BeforeValidator(_parse_json_string), WithJsonSchema({"type": "string"})]
    base: Any = {"string": str, "lora": str, "int": int, "float": float, "bool": bool}[p.type]
    if p.type == "string" and p.max_length:
        base = Annotated[str, Field(max_length=p.max_length)]
    if p.type in ("int", "float") and (p.min is not None or p.max is not None):
        base = Annotated[base, Field(ge=p.min, le=p.max)]
    if p.multiple:
        # Several entries are allowed but their wire form is not published: one value or a list
        # of values is accepted and sent exactly as given.
        return base | Annotated[list[base], Field(min_length=1, max_length=p.max_items)]  # type: ignore[valid-type]
    return base


def _field(p: Param) -> tuple[Any, Any]:
    send_default = p.required and p.default is not None
    if p.required and not send_default:
        default: Any = PydanticUndefined
    elif send_default:
        default = p.default
    else:
        default = None
    alias = AliasChoices(p.name, p.key) if p.key != p.name else p.name
    info = Field(
        default,
        alias=p.name,
        validation_alias=alias,
        description=p.description or None,
        json_schema_extra=_schema_cleanup(keep_default=send_default),
    )
    return _annotation(p), info


_OPEN_PARAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "params": {
            "type": "string",
            "description": 'The model\'s arguments as a JSON object, e.g. \'{"prompt": "..."}\'. RunningHub has '
            "not published them: see the model's RunningHub page.",
        }
    },
    "additionalProperties": True,
}


class OpenEndpointInput(EndpointInput):
    """For endpoints whose parameters RunningHub has not published: keys pass through unchecked.

    The schema offers one ``params`` argument (a JSON object as text): a tool whose schema is an
    object without properties cannot be called with arguments on Gemini. Keys sent directly, as
    before, still pass through.
    """

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _unwrap_params(cls, data: Any) -> Any:
        if isinstance(data, dict) and set(data) == {"params"}:
            inner = _parse_json_string(data["params"])
            if not isinstance(inner, dict):
                raise ValueError('params must be a JSON object, e.g. {"prompt": "..."}')
            return inner
        return data

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return json.loads(json.dumps(_OPEN_PARAMS_SCHEMA))


def build_input_model(ep: EndpointLike) -> type[EndpointInput]:
    # Fields are named p0, p1 … internally and exposed under the API's names through aliases, so
    # API keys like "model", "json" or "12##text" never clash with pydantic or Python syntax.
    fields = {f"p{i}": _field(p) for i, p in enumerate(ep.params)}
    base = OpenEndpointInput if ep.open_params else EndpointInput
    model = create_model(ep.tool_name, __base__=base, __doc__=ep.description, **fields)  # type: ignore[call-overload]
    model.__rh_endpoint__ = ep
    return model  # type: ignore[no-any-return]


def _describe_error(err: Any) -> tuple[str, str]:
    loc = ".".join(str(x) for x in err.get("loc", ())) or "(arguments)"
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid"))
    if kind == "missing":
        msg = "required"
    elif kind == "extra_forbidden":
        msg = "unknown parameter"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :].removeprefix(f"{loc}: ")
    return loc, msg


def validate_params(ep: EndpointLike, params: dict[str, Any]) -> EndpointInput:
    """Validate arguments for ``ep``; raise InvalidInputError naming every bad field and the valid ones."""
    if not isinstance(params, dict):
        raise InvalidInputError(f"{ep.tool_name}: parameters must be an object/dict, got {type(params).__name__}")
    try:
        return ep.input_model.model_validate(params)  # type: ignore[return-value]
    except ValidationError as exc:
        problems = [_describe_error(e) for e in exc.errors(include_url=False)]
        valid = ", ".join(f"{p.name}{'*' if p.required and p.default is None else ''}" for p in ep.params)
        text = "; ".join(f"{loc}: {msg}" for loc, msg in problems)
        raise InvalidInputError(
            f"Invalid arguments for {ep.tool_name}: {text}",
            hint=f"Valid parameters (* = required): {valid}. Nothing was sent; no credits were spent.",
            details=[{"field": loc, "problem": msg} for loc, msg in problems],
        ) from None
