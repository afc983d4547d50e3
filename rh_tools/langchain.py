"""RunningHub as LangChain tools: the shared tool specs (``rh_tools.toolspecs``) behind ``BaseTool``.

::

    from rh_tools.langchain import RunningHubToolkit

    tools = RunningHubToolkit().get_tools()                     # search_models, run_model, get_task …
    tools = RunningHubToolkit(tools=["grok_image_to_image"]).get_tools()   # + one tool per endpoint

Every tool answers ``(content, artifact)``: the text an agent reads (output URLs, cost, task id, or
what to do next) and the same result as a dict. Failures raise ``ToolException`` with that text and
``handle_tool_error=True``, so the model sees a readable ``ToolMessage(status="error")``.

This module is thin on purpose: what a tool does, says and validates lives in ``toolspecs``; here
it is only wired to LangChain's calling convention (sync via ``RunningHub``, async via
``AsyncRunningHub``).
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, BaseToolkit, ToolException
from pydantic import BaseModel, ConfigDict, Field, InstanceOf, PrivateAttr, ValidationError, model_validator

from . import catalogue
from ._arguments import CLIENT_SETTINGS, pop_client_settings, refuse_unknown
from ._budget import Budget, SpendJournal
from ._client import AsyncRunningHub, RunningHub
from ._download import FetchPolicy, afetch_output, fetch_output
from ._media import MediaSource
from ._paths import FolderPolicy
from ._preview import FETCH_LIMIT, Thumbnail, apreviews, previews
from .catalogue import Category, Endpoint, OutputType
from .toolspecs import (
    DEFAULT_WAIT,
    GENERIC_TOOL_NAMES,
    ToolContext,
    ToolResult,
    ToolSpec,
    aexecute,
    endpoint_spec,
    execute,
    generic_specs,
    too_many_tools,
)

__all__ = ["RunningHubTool", "RunningHubToolkit", "make_context"]

Wait = float | dict[str, float] | None
Content = str | list[dict[str, Any]]  # text, or text and image blocks (previews)


_HOW_TO_ALLOW = (
    "Let the tools read a folder with RunningHubToolkit(allowed_dirs=['/path/to/folder']) "
    "(or RunningHubTool(..., allowed_dirs=[...])); allow_any_file=True lifts the limit entirely."
)


def _only_inside(dirs: Sequence[str | Path]) -> Callable[[list[MediaSource]], None]:
    """The check_media callback for ``allowed_dirs``: the same policy as rh-mcp's ``--allow-dir``."""
    policy = FolderPolicy(dirs, how_to_allow=_HOW_TO_ALLOW)
    roots = tuple(policy.roots)

    def check(sources: list[MediaSource]) -> None:
        for src in sources:
            if src.path is None:
                continue
            src.path = policy.check_path(src.path)  # judged where it really is: '..' and symlinks followed
            src.roots = roots  # and the upload checks the opened file again (no swap after the check)

    return check


def make_context(
    wait: Wait = None,
    max_wait: float | None = None,
    download_dir: str | Path | None = None,
    allowed_dirs: Sequence[str | Path] | None = None,
    allow_any_file: bool = False,
    budget: Budget | None = None,
    *,
    journal: SpendJournal | None = None,
) -> ToolContext:
    """A ToolContext from friendly settings.

    ``wait``: seconds a tool blocks before returning the task id, either one number for every
    tool or a dict by output type (``{"video": 20}``; the key ``""`` is for get/wait_task and
    workflows), merged over ``DEFAULT_WAIT``. ``max_wait`` caps what the agent may ask for.
    ``allowed_dirs``: local files are uploaded only from inside these folders. By default (None)
    no local file is read: a model naming ``~/.ssh/id_rsa`` must not make the tools upload it.
    ``allow_any_file=True`` lets the tools upload any file this process can read (as the client
    itself does); use it only when every prompt the model sees is trusted.
    ``budget``: spending limits (``Budget(per_call=…, per_session=…, per_day=…)``); by default
    the ``RUNNINGHUB_MAX_COST_*`` environment variables, else none. ``journal``: the clients' task
    journal; the per-day limit reads the day's spend of every process from it (when it is on).
    """
    waits = dict(DEFAULT_WAIT)
    if isinstance(wait, dict):
        waits.update({k: float(v) for k, v in wait.items()})
    elif wait is not None:
        waits = {k: float(wait) for k in (*waits, "")}
    if any(v < 0 for v in waits.values()) or (max_wait is not None and max_wait < 0):
        raise ValueError("wait and max_wait must be >= 0 seconds")
    if allow_any_file and allowed_dirs is not None:
        raise ValueError("pass allowed_dirs or allow_any_file=True, not both")
    folder = Path(download_dir).expanduser().resolve() if download_dir is not None else None
    check = None if allow_any_file else _only_inside(allowed_dirs or ())
    money = budget if budget is not None else Budget.resolve()
    money.read_day_from(journal)
    return ToolContext(wait=waits, max_wait=max_wait, download_dir=folder, check_media=check, budget=money)


def _twin(cls: type[Any], other: RunningHub | AsyncRunningHub) -> Any:
    """The other-flavour client with the same resolved settings (key, URL, timeouts, polling)."""
    cfg = other.config
    twin = cls(api_key=cfg.api_key.get() if cfg.api_key else None, base_url=cfg.base_url)
    twin._config = cfg  # exact copy, including settings resolve() takes from the environment
    twin._journal, twin._history = other._journal, other._history  # one task journal, one learnt history
    return twin


def _clients(client: Any, async_client: Any) -> tuple[RunningHub, AsyncRunningHub]:
    # Objects only: no request is made and no key is needed until a tool runs.
    sync = (
        client if client is not None else _twin(RunningHub, async_client) if async_client is not None else RunningHub()
    )
    asy = async_client if async_client is not None else _twin(AsyncRunningHub, sync)
    return sync, asy


def _spec_for(name: str) -> ToolSpec:
    for spec in generic_specs():
        if spec.name == name:
            return spec
    return endpoint_spec(catalogue.get(name))


# make_context's settings, which RunningHubTool also takes as keywords.
_TOOL_SETTINGS = ("wait", "max_wait", "download_dir", "allowed_dirs", "allow_any_file", "budget")


def _field_names(model: type[BaseModel]) -> set[str]:
    """The keywords a pydantic model takes: its field names and their aliases."""
    fields = model.model_fields
    return set(fields) | {f.alias for f in fields.values() if f.alias}


def _validation_text(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(map(str, e['loc'])) or '(arguments)'}: {e['msg']}" for e in exc.errors(include_url=False)
    )
    return f"Error: invalid arguments: {problems}\nretryable: no\nWhat to do: fix the arguments and call again."


class RunningHubTool(BaseTool):
    """One RunningHub agent tool (a generic one such as ``run_model`` or one endpoint's own).

    Build one directly with ``RunningHubTool(name="grok_image_to_image")`` (clients from the
    environment) or get many sharing clients from :class:`RunningHubToolkit`.

    The endpoint input models name their fields ``p0 … pN`` and expose the API's names as aliases,
    so LangChain's own argument handling (which re-keys by field name and builds its tool-call
    schema without aliases) is bypassed: the raw arguments go to ``toolspecs.execute``, which
    validates them and reports every bad field with its valid values.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # Defaults only so that RunningHubTool(name=...) type-checks: _fill_from_name always sets them.
    name: str = ""
    description: str = ""
    spec: InstanceOf[ToolSpec] = Field(default=None, exclude=True, repr=False)  # type: ignore[assignment]
    client: InstanceOf[RunningHub] = Field(default=None, exclude=True, repr=False)  # type: ignore[assignment]
    async_client: InstanceOf[AsyncRunningHub] = Field(default=None, exclude=True, repr=False)  # type: ignore[assignment]
    context: InstanceOf[ToolContext] = Field(default_factory=make_context, exclude=True, repr=False)
    # Thumbnails of image outputs as image content blocks (for models that take images in tool results).
    preview: bool = False
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    handle_tool_error: Any = True
    handle_validation_error: Any = _validation_text

    @model_validator(mode="before")
    @classmethod
    def _fill_from_name(cls, data: Any) -> Any:
        """Let ``RunningHubTool(name=..., client=..., wait=..., download_dir=...)`` build the rest."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        refuse_unknown("RunningHubTool", data, [*_field_names(cls), *_TOOL_SETTINGS, *CLIENT_SETTINGS])
        client_settings = pop_client_settings("RunningHubTool", data)
        if client_settings:  # RunningHubTool(name=..., api_key=..., base_url=...)
            data["client"] = RunningHub(**client_settings)
        spec = data.get("spec")
        if spec is None:
            if not data.get("name"):
                raise ValueError("RunningHubTool needs name= (a generic tool or catalogue endpoint) or spec=")
            spec = data["spec"] = _spec_for(data["name"])
        data["name"] = spec.name
        data.setdefault("description", spec.description)
        data.setdefault("args_schema", spec.input_model)
        meta = {"title": spec.title, "paid": spec.paid, "read_only": spec.read_only}
        if spec.endpoint is not None:
            meta |= {"endpoint": spec.endpoint.path, "output_type": spec.endpoint.output_type}
        data["metadata"] = {**meta, **(data.get("metadata") or {})}
        if data.get("client") is None or data.get("async_client") is None:
            data["client"], data["async_client"] = _clients(data.get("client"), data.get("async_client"))
        settings = {k: data.pop(k) for k in _TOOL_SETTINGS if k in data}
        if data.get("context") is None:
            data["context"] = make_context(**settings, journal=data["client"].journal)
        elif settings:
            raise ValueError(
                "pass either context= or wait/max_wait/download_dir/allowed_dirs/allow_any_file/budget, not both"
            )
        return data

    @classmethod
    def from_spec(
        cls,
        spec: ToolSpec,
        client: RunningHub,
        async_client: AsyncRunningHub,
        context: ToolContext,
        *,
        preview: bool = False,
    ) -> RunningHubTool:
        return cls(
            name=spec.name,
            description=spec.description,
            spec=spec,
            client=client,
            async_client=async_client,
            context=context,
            preview=preview,
        )

    @property
    def tool_call_schema(self) -> dict[str, Any]:
        """The JSON schema models see, by the API's argument names (never p0 … pN)."""
        memo = self._tool_call_schema_memo
        if not isinstance(memo, dict):
            schema = self.spec.input_model.model_json_schema()
            memo = {**schema, "title": self.name, "description": self.description}
            self._tool_call_schema_memo = memo
        return memo

    def _parse_input(self, tool_input: str | dict[str, Any], tool_call_id: str | None) -> dict[str, Any]:
        """Pass the arguments through as given; ``execute`` validates them by their aliases."""
        if isinstance(tool_input, dict):
            return dict(tool_input)
        text = tool_input.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                return parsed
        # A bare string goes to the first required argument (e.g. the prompt), as LangChain does.
        schema = self.tool_call_schema
        names = list(schema.get("required") or []) + list(schema.get("properties") or {})
        return {names[0]: tool_input} if names else {}

    def _to_args_and_kwargs(
        self, tool_input: str | dict[str, Any], tool_call_id: str | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        # One positional dict: API argument names can never collide with run_manager/config.
        return (self._parse_input(tool_input, tool_call_id),), {}

    @staticmethod
    def _answer(result: ToolResult) -> tuple[str, dict[str, Any]]:
        if result.is_error:
            raise ToolException(result.text)
        return result.text, result.data

    def _fetch_policy(self) -> FetchPolicy:
        """Previews fetch output URLs under the download guard, trusting only this client's API host."""
        return FetchPolicy.for_api(self.client.base_url)

    def _wants_preview(self, result: ToolResult) -> bool:
        return self.preview and not result.is_error and result.task is not None

    @staticmethod
    def _with_images(result: ToolResult, shown: list[Thumbnail], notes: list[str]) -> tuple[Content, dict[str, Any]]:
        """Text first, then one standard image block per thumbnail (what langchain-anthropic and
        langchain-google-genai turn into images inside the tool result)."""
        text = "\n".join([result.text, *notes])
        if not shown:
            return text, result.data
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
        for t in shown:
            blocks.append({"type": "image", "base64": base64.b64encode(t.data).decode(), "mime_type": t.mime_type})
        data = {**result.data, "previews": [{"output": t.index, "width": t.width, "height": t.height} for t in shown]}
        return blocks, data

    def _run(
        self, arguments: dict[str, Any], run_manager: CallbackManagerForToolRun | None = None
    ) -> tuple[Content, dict[str, Any]]:
        result = execute(self.spec, self.client, arguments, self.context)
        if not self._wants_preview(result):
            return self._answer(result)

        def fetch(url: str) -> bytes:
            return fetch_output(url, max_bytes=FETCH_LIMIT, what="the image", policy=self._fetch_policy())

        return self._with_images(result, *previews(result.task, fetch))

    async def _arun(
        self, arguments: dict[str, Any], run_manager: AsyncCallbackManagerForToolRun | None = None
    ) -> tuple[Content, dict[str, Any]]:
        result = await aexecute(self.spec, self.async_client, arguments, self.context)
        if not self._wants_preview(result):
            return self._answer(result)

        async def fetch(url: str) -> bytes:
            return await afetch_output(url, max_bytes=FETCH_LIMIT, what="the image", policy=self._fetch_policy())

        return self._with_images(result, *await apreviews(result.task, fetch))


class RunningHubToolkit(BaseToolkit):
    """RunningHub tools for an agent.

    By default only the generic tools (search_models, describe_model, run_model, get_task,
    wait_task, cancel_task, upload_file, get_account, run_workflow, run_ai_app, describe_workflow),
    which reach every endpoint with a dozen schemas. Add per-endpoint tools by name (``tools``), or
    by ``categories`` and/or ``output_types`` (both filters apply together; named tools are added
    on top). ``include_generic`` may be a list of generic tool names (e.g. ``["get_task",
    "wait_task"]`` beside endpoint tools, so the agent can come back for long jobs).

    Args:
        client / async_client: ``RunningHub`` / ``AsyncRunningHub``; a missing one is made with the
            other's settings, or from ``RUNNINGHUB_*`` environment variables.
        api_key / base_url / site: instead of a client: build one with these (other client settings
            need ``client=RunningHub(...)``). Unknown or misspelt keywords raise ``TypeError``.
        wait: seconds a run blocks before returning the task id (one number, or by output type);
            defaults to ``toolspecs.DEFAULT_WAIT`` (videos 45 s, images 120 s).
        max_wait: cap on the ``wait_seconds`` an agent may ask for.
        download_dir: also save outputs there; the paths appear in the text and ``artifact["files"]``.
        allowed_dirs: only upload local files from inside these folders. By default no local file
            is read (the refusal tells the agent to pass a URL): a prompt injection must not turn
            the tools into a way to upload ``~/.ssh/id_rsa``.
        allow_any_file: upload any file path the model names that this process can read (off by
            default; only for agents whose every input is trusted).
        preview: add thumbnails of image outputs (JPEG, <= 1,024 px; needs ``rh-tools[preview]``) to
            results as image content blocks, so the model can look at its work. For models that take
            images in tool results (Claude, Gemini; OpenAI's chat completions API does not).
        budget: spending limits shared by these tools, checked before each paid submit
            (``Budget(per_call=0.5, per_session=5)``, in the account's currency); by default
            ``RUNNINGHUB_MAX_COST_PER_CALL`` / ``_PER_SESSION`` / ``_PER_DAY``, else none.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: InstanceOf[RunningHub] | None = Field(default=None, repr=False)
    async_client: InstanceOf[AsyncRunningHub] | None = Field(default=None, repr=False)
    tools: list[str] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    output_types: list[OutputType] = Field(default_factory=list)
    include_generic: bool | list[str] = True
    include_deprecated: bool = False
    wait: float | dict[str, float] | None = None
    max_wait: float | None = None
    download_dir: Path | None = None
    allowed_dirs: list[Path] | None = None
    allow_any_file: bool = False
    budget: InstanceOf[Budget] | None = Field(default=None, repr=False)
    preview: bool = False

    _built: list[RunningHubTool] | None = PrivateAttr(None)
    _context: ToolContext | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _check_arguments(cls, data: Any) -> Any:
        """Refuse unknown or misspelt keywords by name; ``api_key``/``base_url``/``site`` build the client."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        refuse_unknown("RunningHubToolkit", data, [*_field_names(cls), *CLIENT_SETTINGS])
        client_settings = pop_client_settings("RunningHubToolkit", data)
        if client_settings:
            data["client"] = RunningHub(**client_settings)
        return data

    def model_post_init(self, __context: Any) -> None:
        self.client, self.async_client = _clients(self.client, self.async_client)
        self._context = make_context(
            self.wait,
            self.max_wait,
            self.download_dir,
            self.allowed_dirs,
            allow_any_file=self.allow_any_file,
            budget=self.budget,
            journal=self.client.journal,
        )
        if not isinstance(self.include_generic, bool):
            unknown = sorted(set(self.include_generic) - set(GENERIC_TOOL_NAMES))
            if unknown:
                raise ValueError(
                    f"include_generic: unknown generic tools {unknown}; choose from {list(GENERIC_TOOL_NAMES)}"
                )
        self._select_endpoints()  # unknown names fail here, at construction, with suggestions

    def _select_generic(self) -> list[ToolSpec]:
        wanted = set(GENERIC_TOOL_NAMES) if self.include_generic is True else set(self.include_generic or ())
        wanted |= set(self.tools) & set(GENERIC_TOOL_NAMES)
        return [s for s in generic_specs() if s.name in wanted]

    def _select_endpoints(self) -> list[Endpoint]:
        chosen: dict[str, Endpoint] = {}
        if self.categories or self.output_types:
            for ep in catalogue.all():
                if (
                    (not self.categories or ep.category in self.categories)
                    and (not self.output_types or ep.output_type in self.output_types)
                    and (self.include_deprecated or not ep.deprecated)
                ):
                    chosen[ep.tool_name] = ep
        for name in self.tools:
            if name not in GENERIC_TOOL_NAMES:
                ep = catalogue.get(name)
                chosen.setdefault(ep.tool_name, ep)
        order = {ep.tool_name: i for i, ep in enumerate(catalogue.all())}
        return sorted(chosen.values(), key=lambda ep: order[ep.tool_name])

    def _resolved(self) -> tuple[RunningHub, AsyncRunningHub, ToolContext]:
        assert self.client is not None and self.async_client is not None and self._context is not None
        return self.client, self.async_client, self._context

    def get_tools(self) -> list[BaseTool]:
        """The selected tools (built once; they share this toolkit's clients and settings)."""
        if self._built is None:
            specs = self._select_generic() + [endpoint_spec(ep) for ep in self._select_endpoints()]
            advice = too_many_tools(specs)
            if advice:  # say so here, not as a rejected request from the model provider later
                warnings.warn(
                    f"{advice} Toolkit arguments: categories=[...], output_types=[...], tools=[...].",
                    UserWarning,
                    stacklevel=2,
                )
            self._built = [RunningHubTool.from_spec(s, *self._resolved(), preview=self.preview) for s in specs]
        return list(self._built)

    def close(self) -> None:
        """Close the sync client's connections (the tools stay usable; it reconnects on demand)."""
        self._resolved()[0].close()

    async def aclose(self) -> None:
        """Close both clients' connections."""
        sync, asy, _ = self._resolved()
        sync.close()
        await asy.aclose()
