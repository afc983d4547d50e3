"""Build the rh-mcp server: the shared tool specs (``rh_tools.toolspecs``) on the MCP lowlevel server.

Nothing here knows any endpoint: tools, schemas and texts come from the specs, execution from
``aexecute``. This module adds what is MCP-specific: tool annotations and schemas, progress,
cancellation, client roots, result content (text, resource links, optional thumbnails) and resources
(every resource link it emits can be read back with resources/read).

Every tool outcome, including bad arguments, unknown tools and internal faults, is a
``CallToolResult`` with ``is_error=True`` and the error's code, message, retryable flag and hint,
never a protocol error: the agent reads it and corrects itself.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import anyio
import anyio.to_thread
import httpx
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from rh_tools import _net as net
from rh_tools import _render as R
from rh_tools import catalogue
from rh_tools._budget import Budget
from rh_tools._client import AsyncRunningHub
from rh_tools._config import ClientConfig
from rh_tools._download import FetchPolicy, afetch_output, output_filename
from rh_tools._exceptions import InvalidInputError, RunningHubError, UnknownEndpointError
from rh_tools._preview import FETCH_LIMIT, apreviews
from rh_tools._version import __version__
from rh_tools.toolspecs import (
    ToolContext,
    ToolResult,
    ToolSpec,
    aexecute,
    describe,
    endpoint_spec,
    generic_specs,
    too_many_tools,
)

from .config import API_KEY_HEADER, ServerConfig
from .edge import EdgeMiddleware
from .paths import FilePolicy, NeedClientRoots, roots_from_uris
from .progress import Heartbeat
from .replicas import replica_webhooks

__all__ = ["MODELS_URI", "TASKS_URI", "build_server", "select_specs", "tool_definition", "tools_list_tokens"]

log = logging.getLogger("mcp_server")

MODELS_URI = "runninghub://models"
MODEL_TEMPLATE = "runninghub://models/{name}"
TASKS_URI = "runninghub://tasks"
TASK_TEMPLATE = "runninghub://tasks/{task_id}"
_RECENT_TASK_RESOURCES = 10  # newest journal tasks listed as resources of their own
_ROOTS_KEY = "roots"
_EMITTED_MAX = 2_000  # links remembered for resources/read (oldest forgotten first)
READ_LIMIT = 64 * 1024 * 1024  # largest output served by resources/read (base64 inflates it by a third)

INSTRUCTIONS = (
    "RunningHub generation models (image, video, audio, 3D, text). Find one with search_models, read "
    "its parameters with describe_model, run it with run_model (or a per-model tool). Runs cost credits: "
    "price_model gives the price first. "
    "A run that outlasts the wait returns a task_id: collect the result with wait_task, never resubmit. "
    "Media inputs take URLs, data URIs or local paths inside the allowed folders."
)

# structured_content of every tool that reports a task. Error results carry the error's fields
# (error, code, message, retryable, hint, task_id when a task exists) instead, and some clients (the
# TypeScript SDK) validate those against the output schema too: so the schema types the fields and
# requires none, and an error without a task leaves task_id out (``_structured``) rather than null.
# It names what code needs to decide (come back with task_id until done); `outputs` and the rest are
# in every answer but not typed here: five copies of an untyped entry cost tokens in every tools/list.
TASK_OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"task_id": {"type": "string"}, "status": {"type": "string"}, "done": {"type": "boolean"}},
}
_TASK_TOOLS = {"run_model", "get_task", "wait_task", "run_workflow", "run_ai_app"}
# Hints that the read_only/paid flags cannot express.
_ANNOTATION_OVERRIDES: dict[str, dict[str, bool]] = {"cancel_task": {"destructive_hint": True, "idempotent_hint": True}}


# ------------------------------------------------------------------ tool surface


def select_specs(config: ServerConfig) -> list[ToolSpec]:
    """The tools this configuration exposes, generic first, then per-model tools in catalogue order.

    Raises:
        UnknownEndpointError: a ``--tools`` name is neither a generic tool nor a catalogue endpoint.
    """
    generic = {s.name: s for s in generic_specs()}
    chosen: dict[str, ToolSpec] = dict(generic) if config.generic else {}
    wanted_eps: dict[str, Any] = {}
    for name in config.tools:
        if name in generic:
            chosen.setdefault(name, generic[name])
        else:
            ep = catalogue.get(name)  # raises with close matches
            wanted_eps[ep.tool_name] = ep
    cats, outs = set(config.categories), set(config.output_types)
    for ep in catalogue.all():
        if ep.deprecated and ep.tool_name not in wanted_eps:
            continue
        if config.all_tools or ep.category in cats or ep.output_type in outs or ep.tool_name in wanted_eps:
            chosen.setdefault(ep.tool_name, endpoint_spec(ep))
    return list(chosen.values())


def _compact_schema(node: Any, *, root: bool = True) -> Any:
    """Drop pydantic's auto titles ("Wait Seconds"): every tools/list pays for them, no model needs them."""
    if not isinstance(node, dict):
        return node
    out = {k: v for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _compact_schema(v, root=False) for k, v in out["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _compact_schema(out[key], root=False)
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(out.get(key), list):
            out[key] = [_compact_schema(v, root=False) for v in out[key]]
    if isinstance(out.get("$defs"), dict):
        out["$defs"] = {k: _compact_schema(v, root=False) for k, v in out["$defs"].items()}
    return out


def _annotations(spec: ToolSpec) -> types.ToolAnnotations:
    """Only the hints that differ from MCP's defaults (readOnlyHint false, destructiveHint true,
    idempotentHint false, openWorldHint true: ``ToolAnnotations`` in the spec). A hint sent with its
    default value says nothing new and costs tokens in every tools/list."""
    if spec.read_only:
        return types.ToolAnnotations(read_only_hint=True)
    hints = {"destructive_hint": False, "idempotent_hint": False, **_ANNOTATION_OVERRIDES.get(spec.name, {})}
    return types.ToolAnnotations(
        destructive_hint=False if not hints["destructive_hint"] else None,
        idempotent_hint=True if hints["idempotent_hint"] else None,
    )


def tool_definition(spec: ToolSpec) -> types.Tool:
    reports_task = spec.endpoint is not None or spec.name in _TASK_TOOLS
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=_compact_schema(spec.input_model.model_json_schema()),
        output_schema=TASK_OUTPUT_SCHEMA if reports_task else None,
        annotations=_annotations(spec),
    )


def tools_list_tokens(tools: list[types.Tool]) -> int:
    """Rough tokens a client spends on tools/list: wire JSON characters / 4."""
    wire = [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in tools]
    return len(json.dumps(wire, ensure_ascii=False)) // 4


# ------------------------------------------------------------------ results


def _structured(data: dict[str, Any], is_error: bool) -> dict[str, Any]:
    """An error's fields as structured content: ``task_id`` only when a task exists (TASK_OUTPUT_SCHEMA
    types it as a string, and clients may validate error results against it)."""
    if is_error and data.get("task_id") is None:
        return {k: v for k, v in data.items() if k != "task_id"}
    return data


def _error_result(err: RunningHubError) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=R.error_text(err))],
        structured_content=_structured(R.error_data(err), True),
        is_error=True,
    )


def _mime(name: str) -> str | None:
    return mimetypes.guess_type(name)[0]


@dataclass
class _State:
    """What the lifespan shares across all sessions: one connection pool, one default client.

    ``fetch`` is a separate pool for inline previews: it refuses private addresses (output URLs
    come from outside) and never carries the API key.
    """

    client: AsyncRunningHub
    http: httpx.AsyncClient
    fetch: httpx.AsyncClient
    fetch_policy: FetchPolicy


class RHServer:
    """Handlers and per-server settings; :func:`build_server` wires them into a lowlevel ``Server``."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.specs = {s.name: s for s in select_specs(config)}
        advice = too_many_tools(list(self.specs.values()))
        if advice:
            log.warning("%s Flags: --categories, --output-types, --tools.", advice)
        self.tools = [tool_definition(s) for s in self.specs.values()]
        self.policy = FilePolicy(config.allow_dirs)
        # One money state per server: spending limits (flags, else RUNNINGHUB_MAX_COST_*) and the currency.
        self.budget = Budget.resolve(config.max_cost_per_call, config.max_cost_per_session, config.max_cost_per_day)
        self.output_dir = config.output_dir.expanduser().resolve() if config.output_dir else None
        self.webhooks = replica_webhooks(config)  # None unless --webhook-url (HTTP)
        # Every resource link this server emitted (uri -> MIME type), newest last: resources/read serves these.
        self.emitted: OrderedDict[str, str | None] = OrderedDict()

    # -- lifespan and clients ------------------------------------------------------------------

    def _client_kwargs(self) -> dict[str, Any]:
        c = self.config
        return {"base_url": c.base_url, "poll_interval": c.poll_interval}

    def _shared_kwargs(self) -> dict[str, Any]:
        """Journal, task slots and callbacks: the same for every caller's client (issue #15)."""
        c = self.config
        return {"store": c.store, "max_concurrency": c.max_concurrency, "webhook_receiver": self.webhooks}

    @asynccontextmanager
    async def lifespan(self, _server: Any) -> AsyncIterator[_State]:
        cfg = ClientConfig.resolve(api_key=self.config.api_key, **self._client_kwargs())
        # One pool for every session and key: no cookie jar (a cookie set for one key must not travel
        # with another), no redirect to another origin, whole-call deadlines (``rh_tools._net``).
        http = net.make_async_client(
            timeout=httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )
        policy = FetchPolicy.for_api(cfg.base_url, max_bytes=self.config.preview_max_kb * 1024, timeout=20.0)
        fetch = net.make_async_client(timeout=httpx.Timeout(20.0, connect=10.0), guard=net.AddressGuard(policy.trusted))
        client = AsyncRunningHub(
            api_key=self.config.api_key, http_client=http, **self._client_kwargs(), **self._shared_kwargs()
        )
        self.budget.read_day_from(client.journal)  # the day's spend of every process on this journal
        try:
            yield _State(client, http, fetch, policy)
        finally:
            await http.aclose()
            await fetch.aclose()

    def _client_for(self, ctx: Any, state: _State) -> AsyncRunningHub:
        """The caller's own key (HTTP header) if it sent one, else the server's key; same pool either way."""
        request = getattr(ctx, "request", None)
        headers = getattr(request, "headers", None)
        key = headers.get(API_KEY_HEADER) if headers is not None else None
        if key and key.strip():
            return AsyncRunningHub(
                api_key=key.strip(), http_client=state.http, **self._client_kwargs(), **self._shared_kwargs()
            )
        return state.client

    # -- tools -----------------------------------------------------------------------------------

    async def list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self.tools)

    async def call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> Any:
        try:
            return await self._call_tool(ctx, params)
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:  # last line of defence: a tool result, never a traceback or protocol error
            log.exception("tool %s failed unexpectedly", params.name)
            return _error_result(
                RunningHubError(
                    f"rh-mcp internal error ({type(exc).__name__}) while running {params.name}",
                    hint="This is a bug in rh-mcp, not in your arguments. If a task was submitted, check it "
                    "with get_task before running again.",
                )
            )

    def _unknown_tool(self, name: str) -> types.CallToolResult:
        try:
            ep = catalogue.get(name)
            hint = (
                f"{ep.tool_name} is not enabled on this server; call run_model(name={ep.tool_name!r}, params={{...}})."
            )
        except UnknownEndpointError:
            hint = "Call tools/list for this server's tools; search_models finds models to use with run_model."
        return _error_result(InvalidInputError(f"Unknown tool {name!r}", hint=hint))

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> Any:
        spec = self.specs.get(params.name)
        if spec is None:
            return self._unknown_tool(params.name)
        state: _State = ctx.lifespan_context
        try:
            client = self._client_for(ctx, state)
        except RunningHubError as err:
            return _error_result(err)

        modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        caps = ctx.session.client_capabilities
        trusted = self.config.use_client_roots
        can_ask = trusted and caps is not None and caps.roots is not None and (modern or ctx.session.can_send_request)
        client_roots: list[Path] | None = None if trusted else []
        answered = (params.input_responses or {}).get(_ROOTS_KEY)
        if trusted and isinstance(answered, types.ListRootsResult):
            client_roots = roots_from_uris(str(r.uri) for r in answered.roots)

        while True:
            # report_progress is a no-op unless the client asked for progress (token, or in-process callback).
            beat = Heartbeat(ctx.session.report_progress, self.config.heartbeat)
            tctx = ToolContext(
                max_wait=self.config.max_wait,
                download_dir=self.output_dir,
                check_media=self.policy.checker(client_roots, can_ask=can_ask),
                on_status=beat.on_status,
                tasks_need_key=self.config.transport == "http",
                budget=self.budget,
            )
            try:
                result = await beat.run(lambda: aexecute(spec, client, params.arguments, tctx))  # noqa: B023
            except NeedClientRoots:
                if modern:  # 2026-07-28: the server asks by answering "input required"; the client retries
                    return types.InputRequiredResult(input_requests={_ROOTS_KEY: types.ListRootsRequest()})
                client_roots = await self._ask_roots(ctx)
                continue
            except anyio.get_cancelled_exc_class():
                if self.config.cancel_on_abort and spec.paid and beat.task_id and not beat.done:
                    await self._cancel_task(client, beat.task_id)
                raise
            if result.is_error and result.data.get("error") == "ConfigurationError" and self.config.transport == "http":
                result = self._no_key_over_http(result)
            return await self._render(result, state)

    @staticmethod
    def _no_key_over_http(result: ToolResult) -> ToolResult:
        hint = (
            f"Send your RunningHub API key in the {API_KEY_HEADER} header of each request, "
            "or start the server with RUNNINGHUB_API_KEY set."
        )
        data = {**result.data, "hint": hint}
        text = result.text.split("\nWhat to do:")[0] + f"\nWhat to do: {hint}"
        return ToolResult(text, data, result.task, is_error=True)

    async def _ask_roots(self, ctx: Any) -> list[Path]:
        try:
            answer = await ctx.session.send_request(
                types.ListRootsRequest(),
                types.ListRootsResult,
                request_read_timeout_seconds=10,
                metadata=ServerMessageMetadata(related_request_id=ctx.request_id),
            )
            return roots_from_uris(str(r.uri) for r in answer.roots)
        except Exception:  # the client said no or never answered: only --allow-dir folders apply
            log.debug("roots/list failed", exc_info=True)
            return []

    async def _cancel_task(self, client: AsyncRunningHub, task_id: str) -> None:
        with anyio.CancelScope(shield=True), anyio.move_on_after(10):
            try:
                await client.cancel(task_id)
                log.info("cancelled task %s after the client aborted the call", task_id)
            except RunningHubError as err:
                log.warning("could not cancel task %s: %s", task_id, err.message)

    async def _render(self, result: ToolResult, state: _State) -> types.CallToolResult:
        content: list[Any] = [types.TextContent(text=result.text)]
        task = result.task
        if task is not None and not result.is_error:
            for i, out in enumerate(task.outputs):
                if out.url:
                    name = output_filename(task.task_id, i, out)
                    content.append(
                        self._link(
                            out.url,
                            name=name,
                            title=f"{out.kind} output {i + 1} of task {task.task_id}",
                            description="RunningHub output URL; expires in about 24 h. Readable with resources/read.",
                        )
                    )
            for path in getattr(task, "files", None) or []:
                p = Path(path)
                content.append(
                    self._link(p.as_uri(), name=p.name, description="Downloaded copy in the server's output folder.")
                )
            if self.config.inline_preview:
                content.extend(await self._previews(task, state))
        return types.CallToolResult(
            content=content, structured_content=_structured(result.data, result.is_error), is_error=result.is_error
        )

    def _link(self, uri: str, *, name: str, title: str | None = None, description: str) -> types.ResourceLink:
        """A resource link, remembered so that resources/read serves it (and nothing it did not emit)."""
        mime = _mime(name)
        self.emitted[uri] = mime
        self.emitted.move_to_end(uri)
        while len(self.emitted) > _EMITTED_MAX:
            self.emitted.popitem(last=False)
        return types.ResourceLink(uri=uri, name=name, title=title, mime_type=mime, description=description)

    async def _previews(self, task: Any, state: _State) -> list[Any]:
        """Thumbnails of the image outputs (<= 1,024 px, <= --preview-max-kb) for the model to look at.

        Fetched through the guarded pool: a URL pointing at this machine or a private network (other
        than the API's host) is refused, so its bytes never reach the model.
        """

        async def fetch(url: str) -> bytes:
            return await afetch_output(
                url, max_bytes=FETCH_LIMIT, client=state.fetch, policy=state.fetch_policy, what="the image"
            )

        shown, notes = await apreviews(task, fetch, max_bytes=self.config.preview_max_kb * 1024)
        blocks: list[Any] = [
            types.ImageContent(data=base64.b64encode(t.data).decode(), mime_type=t.mime_type) for t in shown
        ]
        return blocks + [types.TextContent(text=note) for note in notes]

    # -- resources -------------------------------------------------------------------------------

    async def list_resources(self, ctx: Any, params: Any) -> types.ListResourcesResult:
        resources = [
            types.Resource(
                uri=MODELS_URI,
                name="models",
                title="RunningHub models",
                mime_type="application/json",
                description="Every RunningHub model: name, category, output type, description.",
            ),
            types.Resource(
                uri=TASKS_URI,
                name="tasks",
                title="Recent RunningHub tasks",
                mime_type="application/json",
                description="Tasks already paid for, newest first, from the task journal (also earlier sessions).",
            ),
        ]
        try:
            recent = await self._tasks(ctx, limit=_RECENT_TASK_RESOURCES)
        except RunningHubError:  # journal off or unreadable, or an HTTP caller without a key
            recent = []
        resources += [
            types.Resource(
                uri=f"{TASKS_URI}/{r.task_id}",
                name=f"task-{r.task_id}",
                title=f"{r.tool or r.endpoint} task: {r.status}",
                mime_type="application/json",
                description="Journal record: parameters, status, outputs, cost (wait_task collects it).",
            )
            for r in recent
        ]
        return types.ListResourcesResult(resources=resources)

    async def _tasks(self, ctx: Any, **filters: Any) -> list[Any]:
        """Journal records visible to this caller (over HTTP: only those of the caller's own key)."""
        client = self._client_for(ctx, ctx.lifespan_context)
        return await client.tasks(require_key=self.config.transport == "http", **filters)

    async def _read_tasks(self, ctx: Any, uri: str) -> str:
        def row(r: Any) -> dict[str, Any]:
            return {**r.to_dict(), "done": r.done, "age_seconds": round(r.age())}

        try:
            if uri == TASKS_URI:
                rows = [row(r) for r in await self._tasks(ctx, limit=50)]
                return json.dumps({"total": len(rows), "tasks": rows}, ensure_ascii=False)
            client = self._client_for(ctx, ctx.lifespan_context)
            if self.config.transport == "http":
                client.config.key()  # a shared server shows a caller only the tasks of its own key
        except RunningHubError as err:
            raise MCPError(code=-32002, message=f"Resource not available: {uri}. {err.message}") from None
        rec = client.journal.get(uri[len(TASKS_URI) + 1 :])
        if rec is None or (client.journal.key_id is not None and rec.key_id != client.journal.key_id):
            raise MCPError(code=-32002, message=f"Resource not found: {uri} (not in the task journal)")
        return json.dumps(row(rec), ensure_ascii=False)

    async def list_resource_templates(self, ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=MODEL_TEMPLATE,
                    name="model",
                    title="RunningHub model",
                    mime_type="application/json",
                    description="One model's description, parameters (JSON schema) and a valid example.",
                ),
                types.ResourceTemplate(
                    uri_template=TASK_TEMPLATE,
                    name="task",
                    title="RunningHub task",
                    mime_type="application/json",
                    description="One task's journal record: parameters, status, outputs, cost, saved files.",
                ),
            ]
        )

    async def read_resource(self, ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri in self.emitted:
            return await self._read_emitted(uri, ctx.lifespan_context)
        if uri.rstrip("/") == MODELS_URI:
            rows = [
                {
                    "name": ep.tool_name,
                    "category": ep.category,
                    "output_type": ep.output_type,
                    "task": ep.task,
                    "variant": ep.variant,
                    "description": ep.description,
                }
                for ep in catalogue.all()
                if not ep.deprecated
            ]
            text = json.dumps({"total": len(rows), "models": rows}, ensure_ascii=False)
        elif uri.startswith(MODELS_URI + "/"):
            try:
                ep = catalogue.get(uri[len(MODELS_URI) + 1 :])
            except UnknownEndpointError as err:
                raise MCPError(code=-32002, message=f"Resource not found: {uri}. {err.hint or ''}".strip()) from None
            found = describe(ep)
            text = json.dumps({**found.data, "summary": found.text}, ensure_ascii=False)
        elif uri.rstrip("/") == TASKS_URI or uri.startswith(TASKS_URI + "/"):
            text = await self._read_tasks(ctx, uri.rstrip("/"))
        else:
            raise MCPError(code=-32002, message=f"Resource not found: {uri}")
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type="application/json", text=text)]
        )

    async def _read_emitted(self, uri: str, state: _State) -> types.ReadResourceResult:
        """An output link or downloaded file this server handed out, as its bytes (up to READ_LIMIT)."""
        mime = self.emitted.get(uri) or "application/octet-stream"
        try:
            if uri.startswith("file://"):
                data = await anyio.to_thread.run_sync(self._read_output_file, uri)
            else:
                data = await afetch_output(
                    uri, max_bytes=READ_LIMIT, client=state.fetch, policy=state.fetch_policy, what="the output"
                )
        except RunningHubError as err:
            raise MCPError(
                code=-32603, message=f"Could not read {uri}: {err.message}. {err.hint or ''}".strip()
            ) from None
        if mime.startswith("text/") or mime == "application/json":
            text = data.decode("utf-8", errors="replace")
            return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)])
        blob = base64.b64encode(data).decode()
        return types.ReadResourceResult(contents=[types.BlobResourceContents(uri=uri, mime_type=mime, blob=blob)])

    def _read_output_file(self, uri: str) -> bytes:
        path = Path(url2pathname(urlparse(uri).path)).resolve()
        if self.output_dir is None or not path.is_relative_to(self.output_dir):
            raise RunningHubError("the file is not in the server's output folder")
        try:
            if path.stat().st_size > READ_LIMIT:
                raise RunningHubError(f"the file is larger than {READ_LIMIT // (1024 * 1024)} MiB")
            return path.read_bytes()
        except OSError as exc:
            raise RunningHubError(f"the file cannot be read ({type(exc).__name__})") from None


def build_server(config: ServerConfig | None = None) -> Server[Any]:
    """The lowlevel MCP server for ``config`` (stdio, HTTP and in-memory clients all use this).

    Raises:
        UnknownEndpointError: a ``--tools`` name matches no tool.
    """
    rh = RHServer(config or ServerConfig())
    server: Server[Any] = Server(
        "rh-mcp",
        version=__version__,
        title="RunningHub",
        instructions=INSTRUCTIONS,
        lifespan=rh.lifespan,
        on_list_tools=rh.list_tools,
        on_call_tool=rh.call_tool,
        on_list_resources=rh.list_resources,
        on_list_resource_templates=rh.list_resource_templates,
        on_read_resource=rh.read_resource,
    )
    # Malformed requests (non-object arguments, unpaired surrogates, deep nesting) get tool errors.
    server.middleware.append(EdgeMiddleware())
    server.rh = rh  # type: ignore[attr-defined]  # tests and --list-tools read the selection
    return server
