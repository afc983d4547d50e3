"""Model parameters on the ``rh-tools run`` command line, and the example ``describe`` prints.

A model's parameters are not known to argparse (329 endpoints, each with its own), so ``run``
leaves them over and this module reads them: ``--name value`` or ``--name=value``, a flag
repeated for a list parameter, a bool flag alone for true, and ``--image``/``--video``/``--audio``
for the model's first parameter of that kind. Names are matched whole: ``--n`` is the parameter
``n``, never an abbreviation of anything.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Collection
from typing import Any, cast

from ._exceptions import InvalidInputError
from .catalogue import Endpoint, Param
from .catalogue._examples import example_value

__all__ = ["MEDIA_FLAGS", "cli_example", "parse_model_flags", "parse_params_json"]

MEDIA_FLAGS = ("image", "video", "audio")
_TYPED = ("int", "float", "bool", "json")  # values read as JSON (a quoted value stays a string)


def _first_media(ep: Endpoint) -> dict[str, Param]:
    first: dict[str, Param] = {}
    for p in ep.params:
        if p.type in MEDIA_FLAGS:
            first.setdefault(p.type, p)
    return first


def _lookup(ep: Endpoint, name: str) -> Param:
    by_name = {p.name: p for p in ep.params} | {p.key: p for p in ep.params}
    p = by_name.get(name) or (_first_media(ep).get(name) if name in MEDIA_FLAGS else None)
    if p is None:
        raise InvalidInputError(
            f"{ep.tool_name} has no parameter {name!r}",
            hint=f"Valid: {', '.join(q.name for q in ep.params)}. See them all with: rh-tools describe {ep.tool_name}",
        )
    return p


def _typed(p: Param, value: str) -> Any:
    if p.type in _TYPED and value[:1] not in ('"', "'"):
        try:
            return json.loads(value)
        except ValueError:
            return value  # the input model says what is wrong with it, before anything is sent
    return value


def parse_model_flags(ep: Endpoint, tokens: list[str]) -> dict[str, Any]:
    """``--name value`` / ``--name=value`` pairs (a bool flag may stand alone) -> the model's arguments."""
    params: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--") or token == "--":
            raise InvalidInputError(
                f"unexpected argument {token!r}: model parameters are given as --name value",
                hint=f"Quote values that contain spaces: rh-tools run {ep.tool_name} --prompt 'a red fox'.",
            )
        name, eq, value = token[2:].partition("=")
        p = _lookup(ep, name)
        i += 1
        if not eq:
            if i < len(tokens) and not (p.type == "bool" and tokens[i].startswith("--")):
                value = tokens[i]
                i += 1
            elif p.type == "bool":
                value = "true"
            else:
                raise InvalidInputError(
                    f"--{name} needs a value",
                    hint=f"Give it as --{name} VALUE or --{name}=VALUE (see: rh-tools describe {ep.tool_name}).",
                )
        parsed = _typed(p, value)
        if p.multiple:
            params.setdefault(p.name, []).append(parsed)
        else:
            params[p.name] = parsed
    return params


def parse_params_json(text: str | None) -> dict[str, Any]:
    """``--params '{...}'``: a JSON object, or a clear error before anything is sent."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"--params is not valid JSON ({exc})",
            hint='Give a JSON object in single quotes: --params \'{"prompt": "a red fox", "duration": 5}\'.',
        ) from None
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"--params must be a JSON object, got {type(value).__name__}",
            hint='Give a JSON object in single quotes: --params \'{"prompt": "a red fox"}\'.',
        )
    return cast("dict[str, Any]", value)  # JSON object keys are always strings


def _needed_media(ep: Endpoint) -> list[Param]:
    """Media parameters the example must carry: the required ones, or for a model that works on an
    input (image-to-video, upscale, ...) whose media fields are all optional, the first that fits."""
    media = [p for p in ep.params if p.is_media]
    required = [p for p in media if p.required]
    if required or not media or ep.task.startswith("text-"):
        return required
    kind = ep.task.split("-")[0]
    return [next((p for p in media if p.type == kind), media[0])]


def _flag_value(p: Param, value: Any) -> str:
    if p.type == "json":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cli_example(ep: Endpoint, *, reserved: Collection[str] = ()) -> str:
    """A ``rh-tools run`` command that passes validation: the required parameters, plus an input
    file where the model works on one. Local file names (``./input.png``) stand for the user's
    files; a parameter whose name is one of ``run``'s own flags (``reserved``) goes in --params."""
    # the required parameters, the input a model works on, and the prompt (optional on some models,
    # but what a user changes first)
    needed = {p.name for p in ep.params if p.required or p.name == "prompt"} | {p.name for p in _needed_media(ep)}
    first = _first_media(ep)
    argv = ["rh-tools", "run", ep.tool_name]
    in_json: dict[str, Any] = {}
    files: dict[str, int] = {}
    for p in ep.params:
        if p.name not in needed:
            continue
        sample: Any = example_value(p)  # a list when p.multiple
        values: list[Any] = list(sample) if p.multiple else [sample]
        if p.is_media:
            ext = str(values[0]).rsplit(".", 1)[-1]
            files[ext] = files.get(ext, 0) + 1
            values = [f"./input{'' if files[ext] == 1 else f'-{files[ext]}'}.{ext}"]
        flag = p.type if first.get(p.type) is p else p.name
        if p.name in reserved or flag in reserved:
            in_json[p.name] = values if p.multiple else values[0]
            continue
        for value in values:
            argv += [f"--{flag}", _flag_value(p, value)]
    if in_json:
        argv += ["--params", json.dumps(in_json, ensure_ascii=False)]
    return shlex.join(argv)
