"""The agent tools, defined once: name, schema, what they do. LangChain and MCP adapt these.

A tool's ``plan`` turns validated arguments into either an immediate answer (search, describe)
or one client call (a :class:`Step`) plus how to render its outcome. The adapters only execute
the step, sync or async, with :func:`execute` / :func:`aexecute`, so both surfaces behave alike.

Default surface (every endpoint reachable, ~10 schemas): search_models, describe_model, run_model,
get_task, wait_task, list_tasks, cancel_task, upload_file, get_account, run_workflow, run_ai_app,
describe_workflow. Per-endpoint tools (``grok_image_to_image`` …) come from :func:`endpoint_spec`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from . import _render as R
from . import catalogue
from ._budget import Budget, Charge
from ._constants import DEADLINE_GRACE
from ._exceptions import APIConnectionError, BudgetError, InvalidInputError, RunningHubError, TaskTimeoutError
from ._media import _RH_FILE_NAME, MediaSource, is_remote_reference
from ._money import amount, format_money, usage_cost
from ._toolschema import strict_ready
from .catalogue import Endpoint
from .catalogue._examples import example_params
from .catalogue._inputs import AgentSchema, EndpointInput, validate_params
from .types import Task, TaskResult

__all__ = [
    "DEFAULT_WAIT",
    "GENERIC_TOOL_NAMES",
    "OPENAI_MAX_TOOLS",
    "Step",
    "ToolContext",
    "ToolResult",
    "ToolSpec",
    "aexecute",
    "endpoint_spec",
    "execute",
    "generic_specs",
    "parse_arguments",
    "too_many_tools",
]

# How long a tool blocks before handing back the task id. Videos take minutes, so their tools
# return sooner and let the agent come back with wait_task instead of holding the turn hostage.
DEFAULT_WAIT: dict[str, float] = {"image": 120.0, "audio": 120.0, "text": 120.0, "3d": 150.0, "video": 45.0}
_FALLBACK_WAIT = 60.0

MediaCheck = Callable[[list[MediaSource]], None]
StatusCallback = Callable[[Task, float], Any]


@dataclass
class ToolContext:
    """Per-surface settings: waits, where downloads go, which local files may be read, and the
    surface's money state (spending limits and the account's currency), shared by all its tools."""

    wait: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WAIT))
    max_wait: float | None = None
    download_dir: Path | None = None
    check_media: MediaCheck | None = None
    on_status: StatusCallback | None = None
    #: list_tasks answers only callers with an API key (servers shared by several users): without
    #: one, the journal would show every caller's tasks.
    tasks_need_key: bool = False
    budget: Budget = field(default_factory=Budget)

    @property
    def currency(self) -> str:
        return self.budget.money_currency

    def wait_for(self, output_type: str | None, requested: float | None = None) -> float:
        wait = requested if requested is not None else self.wait.get(output_type or "", _FALLBACK_WAIT)
        return min(wait, self.max_wait) if self.max_wait is not None else wait


@dataclass
class ToolResult:
    text: str
    data: dict[str, Any]
    task: Task | None = None
    is_error: bool = False


@dataclass(frozen=True)
class Step:
    """One client call (the same method name exists on both twins) and how to render its outcome."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    finish: Callable[[Any], ToolResult] = lambda r: ToolResult(str(r), {"result": r})
    download: bool = False
    # A paid run: (endpoint, validated input) to price before submit when spending limits are set,
    # and how the limit error names the call. Workflows and AI apps have no price preview: None.
    priced: tuple[Endpoint, EndpointInput] | None = None
    label: str = ""


Plan = Callable[[Any, ToolContext], "Step | ToolResult"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    input_model: type[BaseModel]
    plan: Plan
    paid: bool = False
    read_only: bool = True
    endpoint: Endpoint | None = None


# ------------------------------------------------------------------ argument models


class _Args(BaseModel):
    """Arguments of a default-surface tool. Their schema is strict-ready (see ``_toolschema``)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        # Optional fields are nullable in the schema (strict modes make the model send every key): null = not set.
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("schema_generator", AgentSchema)
        return strict_ready(super().model_json_schema(*args, **kwargs))


def _json_object_of(name: str, example: str) -> Callable[[Any], Any]:
    """Arguments that arrive as JSON text (the strict-safe form) or, from lenient clients, as an object."""

    def parse(value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip() or "{}"
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"{name} is not valid JSON ({exc.msg} at character {exc.pos})") from None
        if not isinstance(value, dict):
            raise ValueError(f"{name} must be a JSON object, e.g. {example}")
        return value

    return parse


_json_object = _json_object_of("params", '{"prompt": "a red fox"}')

# A JSON object as text: strict modes turn a free-form object parameter into one that allows no keys.
ParamsJSON = Annotated[dict[str, Any], BeforeValidator(_json_object), WithJsonSchema({"type": "string"})]
OptionsJSON = Annotated[
    dict[str, Any],
    BeforeValidator(_json_object_of("options", '{"instance_type": "plus"}')),
    WithJsonSchema({"type": "string"}),
]


class NodeOverride(BaseModel):
    """One node input of a workflow or AI app. Extra keys copied from describe_workflow are kept."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    nodeId: str
    fieldName: str
    fieldValue: Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]})]


def _within(low: float, high: float, unit: str = "") -> Callable[[Any], Any]:
    """A range the argument model enforces without writing it into the schema: the error names it."""

    def check(value: Any) -> Any:
        if value is not None and not low <= value <= high:
            raise ValueError(f"must be {low:g} to {high:g}{unit} (got {value:g})")
        return value

    return check


# Wording shared by several tools, and kept short: every default tool's schema is paid for in each
# tools/list (goal: <= 2,000 o200k tokens for all of them, measured by benchmarks/bench_context.py).
# What matters only once a call went wrong (ranges, known values) is said by the validation error, and
# what matters only before a run (run options) by describe_workflow's answer, not by the schema.
WaitSeconds = Annotated[float | None, AfterValidator(_within(0, 3600, " seconds"))]
_SEARCH_LIMIT = 10
_WAIT = Field(None)  # no description: the run tools and wait_task say what the wait is for
_NODES = Field(default_factory=list)  # the run tools say: as describe_workflow lists them
_PARAMS = Field(
    default_factory=dict,
    description="""JSON object text, e.g. '{"prompt": "a red fox"}'.""",
)


class SearchModelsArgs(_Args):
    query: str = Field("", description="e.g. 'animate a photo', 'kling video'.")
    category: Literal["image", "video", "audio", "3d", "text"] | None = None
    output_type: Literal["image", "video", "audio", "3d", "text"] | None = None
    task: str | None = Field(None, description="e.g. 'image-to-video', 'upscale'.")
    variant: Literal["low-price", "official"] | None = None
    limit: Annotated[int | None, AfterValidator(_within(1, 50))] = None  # None: _SEARCH_LIMIT


class DescribeModelArgs(_Args):
    name: str = Field(description="From search_models, e.g. 'grok_image_to_image'.")


class RunModelArgs(_Args):
    name: str = Field(description="Model name from search_models.")
    params: ParamsJSON = _PARAMS
    wait_seconds: WaitSeconds = _WAIT


class PriceModelArgs(_Args):
    name: str
    params: ParamsJSON = Field(default_factory=dict, description="As for run_model: JSON object text.")


class TaskArgs(_Args):
    task_id: str


class WaitTaskArgs(_Args):
    task_id: str
    wait_seconds: WaitSeconds = _WAIT


class ListTasksArgs(_Args):
    # Lean on purpose: every default tool's schema is paid for in each tools/list (goal: ~2,000 tokens).
    unfinished: bool | None = None
    name: str | None = None  # part of a model name; self-explanatory, so no description to pay for


class UploadFileArgs(_Args):
    path: str


class NoArgs(_Args):
    pass


_RUN_OPTIONS = ("instance_type", "use_personal_queue", "retain_seconds", "access_password")
# Said by describe_workflow's answer (read before a run), not by each run tool's schema in every tools/list.
_RUN_OPTIONS_TEXT = (
    "Optional run options, as options='{...}' JSON text: instance_type ('plus' = 48 GB GPU), "
    "use_personal_queue (true/false), retain_seconds, access_password."
)


class _RunOptionArgs(_Args):
    """Optional run fields of workflows and AI apps, as one JSON object to keep the tool list short (and
    strict-ready: a free-form object parameter is not); the client checks each value (calls.RunOptions)."""

    options: OptionsJSON = Field(
        default_factory=dict, description="Run options as JSON object text (see describe_workflow)."
    )

    def run_options(self) -> dict[str, Any]:
        unknown = sorted(set(self.options) - set(_RUN_OPTIONS))
        if unknown:
            raise InvalidInputError(f"unknown options {unknown}; known: {list(_RUN_OPTIONS)}")
        return dict(self.options)


class RunWorkflowArgs(_RunOptionArgs):
    workflow_id: str | None = Field(None, description="ComfyUI workflow id (digits) from its RunningHub page.")
    workflow: str | None = Field(None, description="Or a workflow in ComfyUI API format (JSON).")
    node_info_list: list[NodeOverride] = _NODES
    wait_seconds: WaitSeconds = _WAIT


class RunAIAppArgs(_RunOptionArgs):
    webapp_id: str = Field(description="AI app id (digits).")
    node_info_list: list[NodeOverride] = _NODES
    wait_seconds: WaitSeconds = _WAIT


class DescribeWorkflowArgs(_Args):
    workflow_id: str | None = None
    webapp_id: str | None = None


# ------------------------------------------------------------------ rendering helpers


def _finish_run(tool: str | None, ctx: ToolContext) -> Callable[[Any], ToolResult]:
    def finish(outcome: Any) -> ToolResult:
        if isinstance(outcome, TaskTimeoutError):
            data = {
                "task_id": outcome.task_id,
                "status": outcome.last_status or "RUNNING",
                "done": False,
                "waited_seconds": round(outcome.waited, 1),
                "next": "wait_task",
            }
            return ToolResult(R.pending_text(outcome, tool=tool), data)
        if isinstance(outcome, TaskResult):
            text = R.result_text(outcome, tool=tool, currency=ctx.currency)
            return ToolResult(text, R.result_data(outcome, tool=tool), task=outcome)
        return _finish_task(ctx)(outcome)

    return finish


def _finish_task(ctx: ToolContext) -> Callable[[Task], ToolResult]:
    def finish(task: Task) -> ToolResult:
        return ToolResult(R.task_text(task, currency=ctx.currency), R.task_data(task), task=task)

    return finish


def _param_line(p: Any) -> str:
    bits = [p.type + ("[]" if p.multiple else "")]
    if p.required and p.default is None:
        bits.append("required")
    if p.options:
        bits.append("one of " + "|".join(p.options))
    if p.min is not None or p.max is not None:
        bits.append(f"range {p.min if p.min is not None else ''}..{p.max if p.max is not None else ''}")
    if p.max_length:
        bits.append(f"max {p.max_length} chars")
    if p.max_items:
        bits.append(f"max {p.max_items} items")
    if p.default is not None and p.required:
        bits.append(f"default {p.default}")
    return f"- {p.name} ({', '.join(bits)}): {p.description}"


def describe(ep: Endpoint) -> ToolResult:
    example = example_params(ep)
    lines = [
        f"{ep.tool_name}: {ep.description}",
        f"Makes: {ep.output_type} ({ep.task}); model {ep.model}" + (f", {ep.variant} variant" if ep.variant else ""),
        "Parameters:" if ep.params else "Parameters: not published; pass what RunningHub documents for it.",
        *(_param_line(p) for p in ep.params),
        "Media fields take a public URL, a data URI or a local file path (uploaded for you).",
        f"Example: run_model(name={ep.tool_name!r}, params={json.dumps(example, ensure_ascii=False)})",
        "Running it costs RunningHub credits.",
    ]
    data = {
        "name": ep.tool_name,
        "path": ep.path,
        "sidebar_name": ep.sidebar_name,
        "category": ep.category,
        "task": ep.task,
        "output_type": ep.output_type,
        "variant": ep.variant,
        "description": ep.description,
        "input_schema": ep.input_model.model_json_schema(),
        "example": example,
    }
    return ToolResult("\n".join(lines), data)


# ------------------------------------------------------------------ plans


def _run_step(ep: Endpoint, model: EndpointInput, ctx: ToolContext, wait: float | None) -> Step:
    if ctx.check_media is not None:
        ctx.check_media([src for _, _, src in model.media_sources()])
    return Step(
        "run",
        (ep, model),
        {"timeout": ctx.wait_for(ep.output_type, wait), "on_status": ctx.on_status},
        finish=_finish_run(ep.tool_name, ctx),
        download=True,
        priced=(ep, model),
        label=ep.tool_name,
    )


def _plan_search(a: SearchModelsArgs, ctx: ToolContext) -> ToolResult:
    filters = {"category": a.category, "output_type": a.output_type, "task": a.task, "variant": a.variant}
    found = catalogue.find(a.query, category=a.category, output_type=a.output_type, task=a.task, variant=a.variant)
    shown = found.models[: a.limit or _SEARCH_LIMIT]
    asked = (f" {a.query!r}" if a.query.strip() else "") + "".join(
        f" {k}={v}" for k, v in filters.items() if v is not None
    )
    if shown:
        more = f"; showing the best {len(shown)}" if found.total > len(shown) else ""
        lines = [f"{found.total} model{'s match' if found.total > 1 else ' matches'}{asked}{more}:"]
        lines += [f"- {ep.tool_name} [{ep.output_type}]: {ep.description}" for ep in shown]
        lines += [f"Note: {note}" for note in found.notes]
        lines.append("Next: describe_model(name) for parameters, then run_model(name, params).")
    else:
        lines = [f"No models match{asked}.", *found.suggestions]
    data: dict[str, Any] = {
        "total": found.total,
        "models": [
            {
                "name": ep.tool_name,
                "output_type": ep.output_type,
                "category": ep.category,
                "task": ep.task,
                "variant": ep.variant,
                "description": ep.description,
            }
            for ep in shown
        ],
    }
    if found.notes:
        data["notes"] = found.notes
    if found.suggestions:
        data["suggestions"] = found.suggestions
    return ToolResult("\n".join(lines), data)


def _plan_describe(a: DescribeModelArgs, ctx: ToolContext) -> ToolResult:
    return describe(catalogue.get(a.name))


def _plan_run_model(a: RunModelArgs, ctx: ToolContext) -> Step:
    ep = catalogue.get(a.name)
    return _run_step(ep, validate_params(ep, a.params), ctx, a.wait_seconds)


def _plan_price(a: PriceModelArgs, ctx: ToolContext) -> Step:
    ep = catalogue.get(a.name)
    model = validate_params(ep, a.params)
    if ctx.check_media is not None:  # the same folder policy as a run: no probing files through prices
        ctx.check_media([src for _, _, src in model.media_sources()])

    def finish(preview: Any) -> ToolResult:
        ctx.budget.learn_currency(preview.currency)
        price = amount(preview.estimated_price)
        free = preview.is_free_this_call is True
        if free:
            said = "free this time (a free allowance covers it)"
        elif price is not None:
            said = f"about {format_money(price, ctx.currency)}"
        else:
            said = "not given by RunningHub for these arguments"
        lines = [f"Price of one {ep.tool_name} run with these params: {said}. Pricing a call creates no task."]
        if model.media_sources():
            lines.append("Local files were left out of the estimate (prices depend on options, not the media).")
        if ctx.budget.active:
            lines.append(ctx.budget.status(ctx.currency))
        data = {
            "name": ep.tool_name,
            "estimated_price": price,
            "currency": ctx.currency,
            "free_this_call": free,
            **({"price_text": preview.price_text} if preview.price_text else {}),
        }
        return ToolResult("\n".join(lines), data)

    return Step("price_preview", (ep, model), finish=finish)


def _plan_get_task(a: TaskArgs, ctx: ToolContext) -> Step:
    return Step("get_task", (a.task_id,), finish=_finish_task(ctx))


def _plan_wait_task(a: WaitTaskArgs, ctx: ToolContext) -> Step:
    return Step(
        "wait",
        (a.task_id,),
        {"timeout": ctx.wait_for(None, a.wait_seconds), "on_status": ctx.on_status},
        finish=_finish_run(None, ctx),
        download=True,
    )


def _finish_tasks(records: list[Any]) -> ToolResult:
    now = time.time()
    rows: list[dict[str, Any]] = []
    lines = [f"{len(records)} task(s), newest first:" if records else "No tasks in the journal match."]
    for r in records:
        age = r.age(now)
        prompt = r.params.get("prompt") if isinstance(r.params.get("prompt"), str) else None
        rows.append(
            {
                "task_id": r.task_id,
                "model": r.tool or r.endpoint,
                "status": r.status,
                "done": r.done,
                "age_seconds": round(age),
                "cost": r.cost,
                "params": r.params,
                "outputs": r.outputs,
                "files": r.files,
            }
        )
        line = f"- {r.task_id} {r.tool or r.endpoint} {r.status}, {age / 60:.0f} min ago"
        line += f", cost {r.cost:g}" if r.cost is not None else ""
        line += f', prompt "{prompt[:80]}"' if prompt else ""
        line += f", {len(r.outputs)} output(s)" if r.outputs else ""
        lines.append(line)
    if any(not r.done for r in records):
        lines.append("Unfinished tasks keep running: collect them with wait_task(task_id); never resubmit.")
    elif records:
        lines.append("get_task(task_id) gives fresh output URLs (they expire about a day after the run).")
    return ToolResult("\n".join(lines), {"total": len(rows), "tasks": rows})


def _plan_list_tasks(a: ListTasksArgs, ctx: ToolContext) -> Step:
    kwargs: dict[str, Any] = {
        "unfinished": bool(a.unfinished),
        "endpoint": a.name,
        "limit": 20,
        "require_key": ctx.tasks_need_key,
    }
    return Step("tasks", kwargs=kwargs, finish=_finish_tasks)


def _plan_cancel(a: TaskArgs, ctx: ToolContext) -> Step:
    def finish(_: Any) -> ToolResult:
        return ToolResult(f"Cancel requested for task {a.task_id}.", {"task_id": a.task_id, "cancelled": True})

    return Step("cancel", (a.task_id,), finish=finish)


def _plan_upload(a: UploadFileArgs, ctx: ToolContext) -> Step:
    source = MediaSource.from_path(a.path, label="path")
    if ctx.check_media is not None:
        ctx.check_media([source])

    def finish(up: Any) -> ToolResult:
        text = (
            f"Uploaded {source.name}: {up.download_url}\nUse this URL in media parameters "
            f"(workflow nodes take file_name {up.file_name}). It expires in about a day."
        )
        return ToolResult(text, up.model_dump(exclude_none=True))

    return Step("upload", (source,), finish=finish)


def _plan_account(a: NoArgs, ctx: ToolContext) -> Step:
    def finish(acct: Any) -> ToolResult:
        ctx.budget.learn_currency(acct.currency)
        money = f"{acct.remain_money} {ctx.currency}" if acct.remain_money is not None else "n/a"
        text = (
            f"Balance: {money}; RH coins: {acct.remain_coins or 'n/a'}; running tasks: "
            f"{acct.current_task_counts or '0'}; key type: {acct.api_type or 'unknown'}."
        )
        if ctx.budget.active:
            text += " " + ctx.budget.status(ctx.currency)
        return ToolResult(text, acct.model_dump(exclude_none=True))

    return Step("account", finish=finish)


def _nodes(nodes: list[NodeOverride]) -> list[dict[str, Any]]:
    return [n.model_dump() for n in nodes]


def _plan_workflow(a: RunWorkflowArgs, ctx: ToolContext) -> Step:
    if a.workflow_id is None and a.workflow is None:
        raise InvalidInputError("Give workflow_id, or a workflow in API format (or both)")
    return Step(
        "run_workflow",
        (a.workflow_id, _nodes(a.node_info_list) or None),
        {
            "timeout": ctx.wait_for(None, a.wait_seconds),
            "on_status": ctx.on_status,
            "workflow": a.workflow,
            **a.run_options(),
        },
        finish=_finish_run(f"workflow {a.workflow_id or 'inline'}", ctx),
        download=True,
        label=f"run_workflow({a.workflow_id or 'inline'})",
    )


def _plan_ai_app(a: RunAIAppArgs, ctx: ToolContext) -> Step:
    return Step(
        "run_ai_app",
        (a.webapp_id, _nodes(a.node_info_list)),
        {"timeout": ctx.wait_for(None, a.wait_seconds), "on_status": ctx.on_status, **a.run_options()},
        finish=_finish_run(f"ai-app {a.webapp_id}", ctx),
        download=True,
        label=f"run_ai_app({a.webapp_id})",
    )


def _plan_describe_workflow(a: DescribeWorkflowArgs, ctx: ToolContext) -> Step:
    if bool(a.workflow_id) == bool(a.webapp_id):
        raise InvalidInputError("Give exactly one of workflow_id or webapp_id")
    if a.workflow_id:

        def finish_wf(wf: Any) -> ToolResult:
            lines = [f"Workflow {a.workflow_id} nodes (nodeId: class_type, inputs you can set via node_info_list):"]
            for node_id, node in wf.items():
                if isinstance(node, dict):
                    inputs = [k for k, v in (node.get("inputs") or {}).items() if not isinstance(v, list)]
                    lines.append(f"- {node_id}: {node.get('class_type')} {inputs}")
            lines.append(_RUN_OPTIONS_TEXT)
            return ToolResult("\n".join(lines), {"workflow_id": a.workflow_id, "nodes": wf})

        return Step("get_workflow_json", (a.workflow_id,), finish=finish_wf)

    def finish_app(demo: Any) -> ToolResult:
        nodes = demo.get("nodeInfoList") or []
        lines = [
            f"AI app {a.webapp_id} ({demo.get('webappName') or 'unnamed'}): edit fieldValue and pass as "
            "node_info_list to run_ai_app:",
            json.dumps(nodes, ensure_ascii=False),
            _RUN_OPTIONS_TEXT,
        ]
        return ToolResult("\n".join(lines), {"webapp_id": a.webapp_id, "nodeInfoList": nodes})

    return Step("get_ai_app", (a.webapp_id,), finish=finish_app)


_COST = " Costs RunningHub credits."


def generic_specs() -> list[ToolSpec]:
    """The compact default set that reaches every endpoint."""
    return [
        ToolSpec(
            "search_models",
            "Search RunningHub models",
            "Find RunningHub models by what they do, in plain words, or by name: ranked names, one line each.",
            SearchModelsArgs,
            _plan_search,
        ),
        ToolSpec(
            "describe_model",
            "Describe a model",
            "Parameters of one model (types, allowed values, limits) and a valid example.",
            DescribeModelArgs,
            _plan_describe,
        ),
        ToolSpec(
            "run_model",
            "Run a model",
            "Run any RunningHub model by name with the params describe_model lists. Waits up to wait_seconds, "
            "then returns the task id for wait_task. Media params take URLs or local paths." + _COST,
            RunModelArgs,
            _plan_run_model,
            paid=True,
            read_only=False,
        ),
        ToolSpec(
            "price_model",
            "Price a model run",
            "Price of a run_model call with these params, before paying. Creates no task.",
            PriceModelArgs,
            _plan_price,
        ),
        ToolSpec(
            "get_task",
            "Check a task",
            "Current status of a task, with outputs once finished.",
            TaskArgs,
            _plan_get_task,
        ),
        ToolSpec(
            "wait_task",
            "Wait for a task",
            "Wait for a task; returns its outputs, or its status if still running.",
            WaitTaskArgs,
            _plan_wait_task,
        ),
        ToolSpec(
            "list_tasks",
            "List past tasks",
            "Tasks already paid for, also in earlier sessions. Check before running again.",
            ListTasksArgs,
            _plan_list_tasks,
        ),
        ToolSpec(
            "cancel_task",
            "Cancel a task",
            "Cancel a queued or running task.",
            TaskArgs,
            _plan_cancel,
            read_only=False,
        ),
        ToolSpec(
            "upload_file",
            "Upload a file",
            "Upload a local file (image, video, audio, zip); returns a URL for media params.",
            UploadFileArgs,
            _plan_upload,
            read_only=False,
        ),
        ToolSpec(
            "get_account",
            "Account balance",
            "Wallet balance, coins and running task count.",
            NoArgs,
            _plan_account,
        ),
        ToolSpec(
            "run_workflow",
            "Run a ComfyUI workflow",
            "Run a saved ComfyUI workflow with node inputs as describe_workflow lists them." + _COST,
            RunWorkflowArgs,
            _plan_workflow,
            paid=True,
            read_only=False,
        ),
        ToolSpec(
            "run_ai_app",
            "Run an AI app",
            "Run a RunningHub AI app with node inputs as describe_workflow lists them." + _COST,
            RunAIAppArgs,
            _plan_ai_app,
            paid=True,
            read_only=False,
        ),
        ToolSpec(
            "describe_workflow",
            "Describe a workflow or AI app",
            "Nodes and inputs of a workflow (workflow_id) or AI app (webapp_id), for node_info_list.",
            DescribeWorkflowArgs,
            _plan_describe_workflow,
        ),
    ]


GENERIC_TOOL_NAMES = tuple(s.name for s in generic_specs())

# OpenAI refuses a request with more than 128 tools ("tools: array too long"); several MCP clients
# use far fewer (Cursor ~40). https://platform.openai.com/docs/api-reference/chat/create (tools).
OPENAI_MAX_TOOLS = 128


def too_many_tools(specs: list[ToolSpec], limit: int = OPENAI_MAX_TOOLS) -> str | None:
    """Guidance when a selection has more tools than one OpenAI request accepts (None when it fits)."""
    if len(specs) <= limit:
        return None
    by_category: dict[str, int] = {}
    for spec in specs:
        if spec.endpoint is not None:
            by_category[spec.endpoint.category] = by_category.get(spec.endpoint.category, 0) + 1
    counts = ", ".join(f"{cat} {n}" for cat, n in sorted(by_category.items(), key=lambda kv: -kv[1]))
    return (
        f"{len(specs)} tools selected: OpenAI refuses a request with more than {limit} (other clients use fewer; "
        f"Cursor about 40). Per-model tools by category: {counts}. Select fewer by "
        "category or output type, or by name (e.g. grok_image_to_image); the generic tools (search_models, "
        "run_model …) reach every model with a dozen schemas."
    )


def endpoint_description(ep: Endpoint) -> str:
    key = [p.name + ("*" if p.required and p.default is None else "") for p in ep.params][:6]
    more = "" if len(ep.params) <= 6 else f" (+{len(ep.params) - 6} more)"
    return (
        f"{ep.description} Makes {ep.output_type}. Key inputs: {', '.join(key) or 'see schema'}{more}"
        f" (* required). Media fields take URLs or local paths.{_COST} Returns output URLs, cost and task id."
    )


def endpoint_spec(ep: Endpoint) -> ToolSpec:
    def plan(model: EndpointInput, ctx: ToolContext) -> Step:
        return _run_step(ep, model, ctx, None)

    title = f"{ep.model} {ep.task}" + (f" ({ep.variant})" if ep.variant else "")
    return ToolSpec(
        ep.tool_name,
        title,
        endpoint_description(ep),
        ep.input_model,
        plan,
        paid=True,
        read_only=False,
        endpoint=ep,
    )


# ------------------------------------------------------------------ execution


def parse_arguments(spec: ToolSpec, raw: Any) -> BaseModel:
    """Validate tool arguments into the spec's model, with the same error shape everywhere."""
    if spec.endpoint is not None:
        return validate_params(spec.endpoint, raw if raw is not None else {})
    try:
        return spec.input_model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(arguments)'}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise InvalidInputError(
            f"Invalid arguments for {spec.name}: {problems}", hint="Fix the arguments and call again."
        ) from None


def _local_paths_first(spec: ToolSpec, raw: Any, ctx: ToolContext) -> None:
    """Judge local paths by the surface's folder policy *before* validation reads them, so that a path
    outside the allowed folders is refused the same way whether it exists, is a folder or is too
    big: an agent cannot probe the disk beyond what it was given."""
    if ctx.check_media is None or not isinstance(raw, dict):
        return
    values: list[Any] = []
    if spec.name == "upload_file":
        values.append(raw.get("path"))
    else:
        by_name = spec.name in ("run_model", "price_model")
        ep, args = spec.endpoint, _params_object(raw.get("params")) if by_name else raw
        if ep is None and by_name and isinstance(raw.get("name"), str):
            try:
                ep = catalogue.get(raw["name"])
            except InvalidInputError:
                return
        if ep is None or not isinstance(args, dict):
            return
        for p in (p for p in ep.params if p.is_media):
            value = args.get(p.name, args.get(p.key))
            for item in value if isinstance(value, list) else [value]:
                uploaded_name = isinstance(item, str) and bool(_RH_FILE_NAME.match(item.strip()))
                if not (p.media_ref == "file_name" and uploaded_name):  # a RunningHub file name, not a path
                    values.append(item)
    paths = [path for path in map(_as_local_path, values) if path]
    if paths:
        ctx.check_media([MediaSource(name=Path(p).name, size=0, content_type="", path=Path(p)) for p in paths])


def _params_object(value: Any) -> Any:
    """run_model's params as an object, whether they came as one or as JSON text (else as given)."""
    try:
        return _json_object(value)
    except ValueError:
        return value


def _as_local_path(value: Any) -> str | None:
    """The local path a media value names (as ``_media.classify_media`` reads it), else None."""
    if not isinstance(value, str) or not value.strip() or is_remote_reference(value):
        return None
    v = value.strip()
    v = v[7:] if v.lower().startswith("file://") else v
    return None if re.match(r"^[a-z][a-z0-9+.-]*://", v, re.I) else v


def _error(err: RunningHubError) -> ToolResult:
    return ToolResult(R.error_text(err), R.error_data(err), is_error=True)


def _with_unsaved(result: ToolResult, exc: Exception | None, ctx: ToolContext) -> ToolResult:
    """A finished task whose outputs could not be saved is still a success: say so, keep the URLs."""
    if exc is None:
        return result
    why = exc.message if isinstance(exc, RunningHubError) else f"{type(exc).__name__}: {exc}"
    result.text += (
        f"\nNot saved to {ctx.download_dir}: {why}. The output URLs above still work "
        "(for about 24 h); download them from there."
    )
    result.data["download_error"] = why
    return result


def _download_budget(planned: Step, started: float) -> float | None:
    """What the tool call's wait leaves for saving its outputs: the wait bounds the whole call
    (an MCP client abandons calls that outlast it), so a slow download ends as "not saved"."""
    wait = planned.kwargs.get("timeout")
    if wait is None:
        return None
    return max(0.0, started + float(wait) + DEADLINE_GRACE - time.monotonic())


def _unpriced(planned: Step, err: RunningHubError) -> BudgetError:
    return BudgetError(
        f"{planned.label} could not be priced ({err.message}), and a spending limit is set",
        hint="Nothing was submitted. Try again later, or run it without spending limits.",
    )


def _admit(spec: ToolSpec, planned: Step, ctx: ToolContext, preview: Any) -> Charge | None:
    """Hold a paid call to the spending limits (a no-op without limits); raises BudgetError."""
    if not (spec.paid and ctx.budget.active):
        return None
    price = None
    if preview is not None:
        ctx.budget.learn_currency(preview.currency)
        price = 0.0 if preview.is_free_this_call is True else amount(preview.estimated_price)
    return ctx.budget.admit(planned.label or spec.name, price, ctx.currency)


def _kwargs(planned: Step, ctx: ToolContext, charge: Charge | None) -> dict[str, Any]:
    """The step's keywords; under a spending limit its status callback also names the charge's task as
    soon as the submit answers, so a day total read from the journal counts that task once."""
    if charge is None or "on_status" not in planned.kwargs:
        return planned.kwargs
    watch = planned.kwargs["on_status"]

    def on_status(task: Task, elapsed: float) -> Any:
        ctx.budget.created(charge, task.task_id)
        return watch(task, elapsed) if watch is not None else None

    return {**planned.kwargs, "on_status": on_status}


def _settle(ctx: ToolContext, charge: Charge | None, outcome: Any) -> None:
    """Count what the call cost: the task's reported cost, else the estimate while a task may exist."""
    if charge is None:
        return
    if isinstance(outcome, Task):
        ctx.budget.settle(charge, usage_cost(outcome.usage), outcome.task_id)
    elif isinstance(outcome, RunningHubError) and not outcome.task_id:
        if isinstance(outcome, APIConnectionError) and outcome.sent:
            ctx.budget.settle(charge, None)  # the submit may have reached RunningHub: keep the estimate
        else:
            ctx.budget.release(charge)  # refused before a task was created
    else:
        ctx.budget.settle(charge, None, getattr(outcome, "task_id", None))


def _prices_first(spec: ToolSpec, planned: Step, ctx: ToolContext) -> bool:
    return spec.paid and ctx.budget.active and planned.priced is not None


def execute(spec: ToolSpec, client: Any, raw: Any, ctx: ToolContext) -> ToolResult:
    """Run a tool with a blocking :class:`~rh_tools.RunningHub`. Errors come back as results."""
    try:
        _local_paths_first(spec, raw, ctx)
        planned = spec.plan(parse_arguments(spec, raw), ctx)
        if isinstance(planned, ToolResult):
            return planned
        preview = None
        if _prices_first(spec, planned, ctx):
            try:
                preview = client.price_preview(*planned.priced)  # type: ignore[misc]
            except RunningHubError as err:
                raise _unpriced(planned, err) from None
        charge = _admit(spec, planned, ctx, preview)
        started = time.monotonic()
        try:
            outcome = getattr(client, planned.method)(*planned.args, **_kwargs(planned, ctx, charge))
        except TaskTimeoutError as exc:
            outcome = exc
        except RunningHubError as err:
            _settle(ctx, charge, err)
            raise
        _settle(ctx, charge, outcome)
        unsaved = None
        if planned.download and ctx.download_dir and isinstance(outcome, TaskResult):
            try:
                client.download(
                    outcome, ctx.download_dir, timeout=_download_budget(planned, started)
                )  # through the client: the journal records the files
            except (RunningHubError, OSError) as exc:  # the paid result must still reach the agent
                unsaved = exc
        return _with_unsaved(planned.finish(outcome), unsaved, ctx)
    except RunningHubError as err:
        return _error(err)


async def aexecute(spec: ToolSpec, client: Any, raw: Any, ctx: ToolContext) -> ToolResult:
    """Run a tool with an :class:`~rh_tools.AsyncRunningHub`. Errors come back as results."""
    try:
        _local_paths_first(spec, raw, ctx)
        planned = spec.plan(parse_arguments(spec, raw), ctx)
        if isinstance(planned, ToolResult):
            return planned
        preview = None
        if _prices_first(spec, planned, ctx):
            try:
                preview = await client.price_preview(*planned.priced)  # type: ignore[misc]
            except RunningHubError as err:
                raise _unpriced(planned, err) from None
        charge = _admit(spec, planned, ctx, preview)
        started = time.monotonic()
        try:
            outcome = await getattr(client, planned.method)(*planned.args, **_kwargs(planned, ctx, charge))
        except TaskTimeoutError as exc:
            outcome = exc
        except RunningHubError as err:
            _settle(ctx, charge, err)
            raise
        _settle(ctx, charge, outcome)
        unsaved = None
        if planned.download and ctx.download_dir and isinstance(outcome, TaskResult):
            try:
                await client.download(outcome, ctx.download_dir, timeout=_download_budget(planned, started))
            except (RunningHubError, OSError) as exc:  # the paid result must still reach the agent
                unsaved = exc
        return _with_unsaved(planned.finish(outcome), unsaved, ctx)
    except RunningHubError as err:
        return _error(err)
