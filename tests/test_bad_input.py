"""Bad input never costs a request: Hypothesis-made arguments for 60 endpoints (every output type).

Each generated input starts from a valid argument set and breaks one thing: a wrong type, a value
outside the enum, a number out of range, too many media items, an unknown key, a string over its
limit, a null or missing required field, a bad media reference, NaN/Infinity, invalid Unicode. The
client must answer with an ``InvalidInputError`` that names the field (and the allowed values of an
enum) and must not have sent anything: its transport fails the test if called. A subset goes
through the LangChain tool and the MCP server. Then bad task ids, URLs and local files.

Hypothesis runs derandomized with few examples, so CI is fast and repeatable.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TEST_KEY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rh_tools import InvalidInputError, RunningHub, catalogue
from rh_tools.catalogue import Endpoint
from rh_tools.catalogue._examples import example_params
from rh_tools.catalogue._schema import Param

SETTINGS = settings(
    derandomize=True,
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
OUTPUT_TYPES = ("image", "video", "audio", "3d", "text")
PER_TYPE = 12
NOWHERE = "http://127.0.0.1:9"  # never reached: the transports below answer or fail first
BOOL_WORDS = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}


def _sample_endpoints() -> list[Endpoint]:
    """12 endpoints per output type, evenly spread over the catalogue, plus multi-image ones."""
    live = [ep for ep in catalogue.all() if not ep.deprecated and not ep.open_params]
    chosen: dict[str, Endpoint] = {}
    for kind in OUTPUT_TYPES:
        of_kind = [ep for ep in live if ep.output_type == kind]
        step = max(1, len(of_kind) // PER_TYPE)
        for ep in of_kind[::step][:PER_TYPE]:
            chosen[ep.tool_name] = ep
    multi = [ep for ep in live if any(p.is_media and p.multiple and p.max_items for p in ep.params)]
    for ep in multi[:: max(1, len(multi) // 6)][:6]:
        chosen[ep.tool_name] = ep
    return list(chosen.values())


ENDPOINTS = _sample_endpoints()


class Tripwire:
    """An httpx transport that records any request and fails it loudly."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raise AssertionError(f"bad input reached the network: {request.method} {request.url}")


@pytest.fixture(scope="module")
def trip() -> Iterator[tuple[RunningHub, Tripwire]]:
    wire = Tripwire()
    with RunningHub(api_key=TEST_KEY, base_url=NOWHERE, transport=httpx.MockTransport(wire)) as rh:
        yield rh, wire


# ------------------------------------------------------------------ strategies


def _media_url(p: Param) -> str:
    ext = (p.accept or ["png"])[0].lower()
    return f"https://example.com/x.{ext}"


def _wrong_type(p: Param) -> st.SearchStrategy[Any]:
    junk_dict = st.dictionaries(st.text(max_size=4), st.integers(), min_size=1, max_size=2)
    letters = st.text(st.characters(categories=["L"]), min_size=1, max_size=12)
    if p.type in ("string", "lora"):
        return st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), junk_dict)
    if p.type == "int":
        fractional = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f))
        return st.one_of(letters, fractional, st.lists(st.integers(), min_size=1, max_size=3), junk_dict)
    if p.type == "float":
        return st.one_of(
            letters.filter(lambda s: not _parses_as_float(s)), st.lists(st.floats(), min_size=1), junk_dict
        )
    if p.type == "bool":
        return st.one_of(
            letters.filter(lambda s: s.strip().lower() not in BOOL_WORDS),
            st.integers().filter(lambda i: i not in (0, 1)),
            junk_dict,
        )
    if p.type == "list":
        return st.one_of(junk_dict, st.floats(allow_nan=False).filter(lambda f: _option_free(p, f)))
    assert p.is_media
    return st.one_of(st.integers(), st.booleans(), junk_dict)


def _parses_as_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _option_free(p: Param, value: Any) -> bool:
    """True when ``value`` is not an option in any spelling the enum coercer accepts."""
    spellings = {str(value), str(value).lower()}
    if isinstance(value, float) and value.is_integer():
        spellings.add(str(int(value)))
    return not spellings & set(p.options or [])


def _bad_enum(p: Param) -> st.SearchStrategy[Any]:
    opts = p.options or []
    return st.one_of(
        st.text(max_size=24).filter(lambda s: s not in opts),
        st.sampled_from(opts).map(lambda o: o.upper() + " ").filter(lambda s: s not in opts),
        st.integers().filter(lambda i: _option_free(p, i)),
    )


def _out_of_range(p: Param) -> st.SearchStrategy[Any]:
    parts = []
    if p.type == "int":
        if p.min is not None:
            parts.append(st.integers(max_value=math.ceil(p.min) - 1, min_value=-(10**30)))
        if p.max is not None:
            parts.append(st.integers(min_value=math.floor(p.max) + 1, max_value=10**30))
    else:
        if p.min is not None:
            parts.append(st.floats(max_value=p.min, exclude_max=True, allow_nan=False, min_value=-1e300))
        if p.max is not None:
            parts.append(st.floats(min_value=p.max, exclude_min=True, allow_nan=False, max_value=1e300))
        parts.append(st.sampled_from([math.nan, math.inf, -math.inf]))
    return st.one_of(parts)


BAD_MEDIA = [
    "ftp://example.com/x.png",
    "gopher://example.com/x.png",
    "http://",
    "https://?x=1",
    "javascript:alert(1)",
    "/nonexistent/dir/x.png",
    "./no-such-file.png",
    "",
    "   ",
    "file:///nonexistent/x.png",
    "data:",
    "C:\\Users\\x.png",
    "\u202ex.png",
    "../../no/such/dir/x.png",
]


@st.composite
def broken_input(draw: st.DrawFn, ep: Endpoint) -> tuple[str, str, dict[str, Any], list[str]]:
    """(mutation, field, params, strings the error must contain)."""
    params = dict(example_params(ep))
    ps = ep.params
    kinds = {
        "wrong_type": [p for p in ps if p.type != "json"],
        "bad_enum": [p for p in ps if p.type == "list"],
        "out_of_range": [p for p in ps if p.type in ("int", "float") and (p.min, p.max) != (None, None)],
        "non_finite": [p for p in ps if p.type == "float"],
        "too_many_media": [p for p in ps if p.is_media and p.multiple and p.max_items],
        "huge_string": [p for p in ps if p.type == "string" and p.max_length],
        "invalid_unicode": [p for p in ps if p.type == "string"],
        "null_required": [p for p in ps if p.required and p.default is None],
        "missing_required": [p for p in ps if p.required and p.default is None],
        "bad_media": [p for p in ps if p.is_media],
        "unknown_key": [None],
    }
    kind = draw(st.sampled_from(sorted(k for k, v in kinds.items() if v)))
    if kind == "unknown_key":
        names = {p.name for p in ps} | {p.key for p in ps}
        key = draw(
            st.text(st.characters(categories=["L", "N"], include_characters="_#-"), min_size=1, max_size=30).filter(
                lambda k: k not in names
            )
        )
        # (null would be "not set": unknown keys with null values are dropped by design, like known ones)
        params[key] = draw(st.integers() | st.text(max_size=10) | st.lists(st.integers(), max_size=2))
        return kind, key, params, [key]
    p: Param = draw(st.sampled_from(kinds[kind]))
    must = [p.name]
    if kind == "wrong_type":
        params[p.name] = draw(_wrong_type(p))
    elif kind == "bad_enum":
        params[p.name] = draw(_bad_enum(p))
        must += list(p.options or [])
    elif kind == "out_of_range":
        params[p.name] = draw(_out_of_range(p))
    elif kind == "non_finite":
        params[p.name] = draw(st.sampled_from([math.nan, math.inf, -math.inf, "nan", "-Infinity"]))
    elif kind == "too_many_media":
        assert p.max_items
        extra = draw(st.integers(1, 5))
        params[p.name] = [_media_url(p)] * (p.max_items + extra)
    elif kind == "huge_string":
        assert p.max_length
        ch = draw(st.characters(exclude_categories=["Cs"]))
        params[p.name] = ch * (p.max_length + draw(st.integers(1, 3000)))
    elif kind == "invalid_unicode":
        base = draw(st.text(max_size=20))
        params[p.name] = base + draw(st.sampled_from(["\ud800", "\udfff", "\udc80x"]))
        if p.multiple:
            params[p.name] = [params[p.name]]
    elif kind == "null_required":
        params[p.name] = None
    elif kind == "missing_required":
        params.pop(p.name, None)
    elif kind == "bad_media":
        bad = draw(st.sampled_from(BAD_MEDIA))
        params[p.name] = [bad] if p.multiple else bad
    return kind, p.name, params, must


# ------------------------------------------------------------------ the property, per endpoint


def test_the_sample_is_wide() -> None:
    assert len(ENDPOINTS) >= 40
    assert {ep.output_type for ep in ENDPOINTS} == set(OUTPUT_TYPES)
    assert any(p.is_media and p.multiple for ep in ENDPOINTS for p in ep.params)


@pytest.mark.parametrize("ep", ENDPOINTS, ids=[ep.tool_name for ep in ENDPOINTS])
def test_every_broken_input_is_refused_before_sending(trip: tuple[RunningHub, Tripwire], ep: Endpoint) -> None:
    rh, wire = trip

    @SETTINGS
    @given(broken_input(ep))
    def check(case: tuple[str, str, dict[str, Any], list[str]]) -> None:
        kind, name, params, must = case
        with pytest.raises(InvalidInputError) as exc:
            rh.submit(ep, params)
        text = str(exc.value)
        for needle in must:
            assert needle in text, (kind, needle, text[:500])
        assert "nothing was sent" in text.lower() or "Nothing was sent" in exc.value.hint
        assert not wire.requests

    check()


MUTATION_KINDS = (
    "wrong_type",
    "bad_enum",
    "out_of_range",
    "too_many_media",
    "unknown_key",
    "huge_string",
    "null_required",
    "missing_required",
    "bad_media",
    "non_finite",
    "invalid_unicode",
)


@pytest.mark.parametrize("kind", MUTATION_KINDS)
def test_every_mutation_kind_is_made_and_refused(trip: tuple[RunningHub, Tripwire], kind: str) -> None:
    """Each way of breaking an input can be drawn for the sampled endpoints, and is refused unsent.

    Self-contained (it once relied on the per-endpoint tests having run first in the same process):
    it searches the strategy for an example of ``kind`` and submits that."""
    from hypothesis import find

    rh, wire = trip
    case = find(
        st.sampled_from(ENDPOINTS).flatmap(lambda ep: st.tuples(st.just(ep), broken_input(ep))),
        lambda drawn: drawn[1][0] == kind,
        settings=settings(derandomize=True, database=None, max_examples=2_000, deadline=None),
    )
    ep, (_, name, params, must) = case
    with pytest.raises(InvalidInputError) as exc:
        rh.submit(ep, params)
    assert all(needle in str(exc.value) for needle in must), (kind, name, str(exc.value)[:300])
    assert not wire.requests


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.sampled_from(ENDPOINTS), st.data())
def test_arbitrary_json_is_refused_cleanly_or_sent_once(ep: Endpoint, data: st.DataObject) -> None:
    """Whatever JSON an agent sends: a clear InvalidInputError with nothing sent, or a valid request."""
    names = [p.name for p in ep.params]
    keys = st.sampled_from(names) | st.text(max_size=8) if names else st.text(max_size=8)
    params = data.draw(st.dictionaries(keys, JSONISH, max_size=6))
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"taskId": "1", "status": "QUEUED"})

    with RunningHub(api_key=TEST_KEY, base_url=NOWHERE, transport=httpx.MockTransport(answer)) as rh:
        try:
            rh.submit(ep, params)
        except InvalidInputError as err:
            assert not sent and err.message.startswith(f"Invalid arguments for {ep.tool_name}")
        else:
            assert len(sent) == 1


def test_non_dict_arguments(trip: tuple[RunningHub, Tripwire]) -> None:
    rh, wire = trip
    for bad in (["prompt"], "prompt=x", 5, b"{}"):
        with pytest.raises(InvalidInputError, match="must be a dict"):
            rh.submit("grok_image_to_image", bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="Did you mean"):
        rh.submit("grok_img_to_image", {"prompt": "x"})
    assert not wire.requests


# ------------------------------------------------------------------ the tool surfaces (subset)


IMG = "https://e.com/a.png"
TOOL_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "grok_image_to_image",
        {"prompt": "x", "imageUrl": "https://e.com/a.png", "model": "g-99"},
        ["model", "g-4.2"],
    ),
    ("grok_image_to_image", {"prompt": 5, "imageUrl": "https://e.com/a.png"}, ["prompt"]),
    ("grok_image_to_image", {"prompt": "x", "imageUrl": "ftp://e.com/a.png"}, ["imageUrl"]),
    ("grok_image_to_image", {"prompt": "x", "imageUrl": IMG, "bogus_key": 1}, ["bogus_key"]),
    ("grok_image_to_image", {"prompt": None, "imageUrl": IMG}, ["prompt", "required"]),
    ("grok_image_to_image", {"prompt": "fox \ud800", "imageUrl": IMG}, ["prompt", "surrogate"]),
]


def _tool_cases() -> list[tuple[str, dict[str, Any], list[str]]]:
    """The fixed cases above plus one broken input per output type, drawn from the same strategy."""
    cases = list(TOOL_CASES)
    for kind in OUTPUT_TYPES:
        ep = next(e for e in ENDPOINTS if e.output_type == kind and any(p.type == "list" for p in e.params))
        p = next(p for p in ep.params if p.type == "list")
        cases.append(
            (
                ep.tool_name,
                {**example_params(ep), p.name: "definitely-not-an-option"},
                [p.name, *(p.options or [])],
            )
        )
        ranged = [
            e
            for e in ENDPOINTS
            if e.output_type == kind and any(q.type in ("int", "float") and q.max is not None for q in e.params)
        ]
        if ranged:
            q = next(q for q in ranged[0].params if q.type in ("int", "float") and q.max is not None)
            assert q.max is not None
            too_big = {**example_params(ranged[0]), q.name: q.max * 10 + 1000}
            cases.append((ranged[0].tool_name, too_big, [q.name]))
    return cases


@pytest.mark.parametrize("name,args,must", _tool_cases())
def test_langchain_tool_refuses_without_sending(name: str, args: dict[str, Any], must: list[str]) -> None:
    from langchain_core.messages import ToolMessage

    from rh_tools import AsyncRunningHub
    from rh_tools.langchain import RunningHubTool

    wire = Tripwire()
    sync = RunningHub(api_key=TEST_KEY, transport=httpx.MockTransport(wire))
    asy = AsyncRunningHub(api_key=TEST_KEY, transport=httpx.MockTransport(wire))
    for tool, call_args in (
        (RunningHubTool(name=name, client=sync, async_client=asy), args),
        (RunningHubTool(name="run_model", client=sync, async_client=asy), {"name": name, "params": args}),
    ):
        msg = tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": call_args})
        assert isinstance(msg, ToolMessage) and msg.status == "error", msg
        for needle in must:
            assert needle in str(msg.content), (needle, msg.content)
        assert "retryable: no" in str(msg.content)
    sync.close()
    assert not wire.requests


@pytest.fixture(scope="module")
def emu() -> Iterator[Any]:
    from rh_tools.emulator import Emulator

    with Emulator(port=0) as e:
        yield e


async def test_mcp_tools_refuse_without_sending(emu: Any) -> None:
    import mcp_types as types
    from mcp.client import Client

    from mcp_server import ServerConfig, build_server

    cases = _tool_cases()
    tools = sorted({name for name, _, _ in cases})
    before = emu.stats.requests
    config = ServerConfig(api_key=TEST_KEY, base_url=emu.base_url, tools=tools)
    async with Client(build_server(config)) as client:
        for name, args, must in cases:
            for tool, call_args in ((name, args), ("run_model", {"name": name, "params": args})):
                result = await client.call_tool(tool, call_args)
                text = "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))
                assert result.is_error and result.structured_content["error"] == "InvalidInputError", text
                for needle in must:
                    assert needle in text, (tool, needle, text)
    assert emu.stats.requests == before  # nothing reached the (emulated) API


# ------------------------------------------------------------------ ids, URLs and local files


BAD_TASK_IDS: list[Any] = [
    "",
    "   ",
    "a" * 65,
    "12/34",
    "1?x=2",
    "1#frag",
    "a&b",
    "1 2",
    "line\nbreak",
    None,
    1.5,
    [],
    {},
    True,
    "12\ud800",
]


@pytest.mark.parametrize("task_id", BAD_TASK_IDS, ids=repr)
def test_bad_task_ids(trip: tuple[RunningHub, Tripwire], task_id: Any) -> None:
    rh, wire = trip
    for method in (rh.get_task, rh.wait, rh.cancel, rh.webhook_detail):
        with pytest.raises(InvalidInputError) as exc:
            method(task_id)
        assert "task_id" in str(exc.value) or "taskId" in str(exc.value)
    assert not wire.requests


def test_bad_task_ids_through_the_tools() -> None:
    from rh_tools import AsyncRunningHub
    from rh_tools.langchain import RunningHubTool

    wire = Tripwire()
    sync = RunningHub(api_key=TEST_KEY, transport=httpx.MockTransport(wire))
    asy = AsyncRunningHub(api_key=TEST_KEY, transport=httpx.MockTransport(wire))
    for tool_name in ("get_task", "wait_task", "cancel_task"):
        tool = RunningHubTool(name=tool_name, client=sync, async_client=asy)
        for bad in ("", "a" * 65, "12/34", None, 7.5, {"id": 1}):
            msg = tool.invoke({"type": "tool_call", "id": "c", "name": tool_name, "args": {"task_id": bad}})
            assert msg.status == "error" and "task_id" in str(msg.content), (tool_name, bad, msg.content)
    sync.close()
    assert not wire.requests


@pytest.mark.parametrize("url", BAD_MEDIA)
def test_bad_media_references(trip: tuple[RunningHub, Tripwire], url: str) -> None:
    rh, wire = trip
    with pytest.raises(InvalidInputError) as exc:
        rh.submit("grok_image_to_image", prompt="x", imageUrl=url)
    assert "imageUrl" in str(exc.value)
    assert not wire.requests


def _image_param() -> tuple[Endpoint, Param]:
    for ep in catalogue.all():
        for p in ep.params:
            accepts = [a.lower() for a in p.accept or []]
            if p.type == "image" and not p.multiple and p.max_size_mb and "png" in accepts:
                return ep, p
    raise AssertionError("no single-image field with a size limit")


@pytest.fixture
def image_field() -> tuple[Endpoint, Param, dict[str, Any]]:
    ep, p = _image_param()
    return ep, p, example_params(ep)


def _refused(rh: RunningHub, wire: Tripwire, ep: Endpoint, params: dict[str, Any], *needles: str) -> str:
    with pytest.raises(InvalidInputError) as exc:
        rh.submit(ep, params)
    text = str(exc.value)
    for needle in needles:
        assert needle in text, (needle, text)
    assert not wire.requests
    return text


def test_missing_file_and_directory(trip: tuple[RunningHub, Tripwire], image_field: Any, tmp_path: Path) -> None:
    rh, wire = trip
    ep, p, base = image_field
    _refused(rh, wire, ep, {**base, p.name: str(tmp_path / "missing.png")}, p.name, "existing file")
    _refused(rh, wire, ep, {**base, p.name: str(tmp_path)}, p.name, "directory")
    with pytest.raises(InvalidInputError, match="existing file"):
        rh.upload(tmp_path / "missing.png")
    with pytest.raises(InvalidInputError, match="directory"):
        rh.upload(tmp_path)
    assert not wire.requests


def test_unreadable_file(
    trip: tuple[RunningHub, Tripwire], image_field: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rh, wire = trip
    ep, p, base = image_field
    locked = tmp_path / "locked.png"
    locked.write_bytes(b"\x89PNG\r\n\x1a\n")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # root ignores file modes: make the check see what a user would
            import rh_tools._media as media

            real_access = os.access

            def access(path: Any, mode: int, **kw: Any) -> bool:
                return False if Path(path) == locked else real_access(path, mode)

            monkeypatch.setattr(media.os, "access", access)
        _refused(rh, wire, ep, {**base, p.name: str(locked)}, p.name, "not readable")
        with pytest.raises(InvalidInputError, match="not readable"):
            rh.upload(locked)
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert not wire.requests


def test_oversized_sparse_file(trip: tuple[RunningHub, Tripwire], image_field: Any, tmp_path: Path) -> None:
    rh, wire = trip
    ep, p, base = image_field
    assert p.max_size_mb
    big = tmp_path / "huge.png"
    with open(big, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.truncate(int((p.max_size_mb + 1) * 1024 * 1024))  # sparse: no disk space used
    _refused(rh, wire, ep, {**base, p.name: str(big)}, p.name, f"the limit is {p.max_size_mb:g} MB")


def test_wrong_file_type_and_special_files(trip: tuple[RunningHub, Tripwire], image_field: Any, tmp_path: Path) -> None:
    rh, wire = trip
    ep, p, base = image_field
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    _refused(rh, wire, ep, {**base, p.name: str(exe)}, p.name, ".exe")
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    _refused(rh, wire, ep, {**base, p.name: str(fifo)}, p.name, "not a regular file")
    _refused(rh, wire, ep, {**base, p.name: "/dev/zero"}, p.name, "not a regular file")
    with pytest.raises(InvalidInputError, match="not a regular file"):
        rh.upload("/dev/null")
