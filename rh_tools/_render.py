"""How results and errors read to an agent: short text first, full structure beside it.

Shared by the LangChain tools and the MCP server so both say the same thing the same way.
"""

from __future__ import annotations

from typing import Any

from ._exceptions import RunningHubError, TaskFailedError, TaskTimeoutError
from ._money import cost_text, default_currency
from .types import Task, TaskResult

__all__ = ["error_data", "error_text", "pending_text", "result_data", "result_text", "task_data", "task_text"]

_TEXT_LIMIT = 2000  # long LLM answers are kept whole in the structured data, trimmed in the text


def task_data(task: Task, *, tool: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task_id": task.task_id,
        "status": task.status,
        "done": task.done,
        "outputs": [o.model_dump(exclude_none=True) for o in task.outputs],
    }
    if tool:
        data["model"] = tool
    if task.usage is not None:
        data["usage"] = task.usage.model_dump(exclude_none=True)
    if task.error_code or task.error_message:
        data["error"] = {"code": task.error_code, "message": task.error_message}
    if isinstance(task, TaskResult):
        data["elapsed_seconds"] = round(task.elapsed, 2)
        if task.files:
            data["files"] = list(task.files)
    return data


def result_data(result: TaskResult, *, tool: str | None = None) -> dict[str, Any]:
    return task_data(result, tool=tool)


def _outputs_lines(task: Task) -> list[str]:
    lines = []
    for i, o in enumerate(task.outputs):
        if o.url:
            local = f" (saved: {task.files[i]})" if isinstance(task, TaskResult) and i < len(task.files) else ""
            lines.append(f"- {o.kind}: {o.url}{local}")
        elif o.text is not None:
            text = o.text if len(o.text) <= _TEXT_LIMIT else o.text[:_TEXT_LIMIT] + " …[truncated]"
            lines.append(f"- text: {text}")
    return lines


def result_text(result: TaskResult, *, tool: str | None = None, currency: str | None = None) -> str:
    """``currency``: the account's, as last reported (default: ``_money.default_currency()``)."""
    took = f" in {result.elapsed:.1f}s" if result.elapsed else ""
    head = f"SUCCESS: task {result.task_id}" + (f" ({tool})" if tool else "") + f" finished{took}."
    lines = [head]
    outs = _outputs_lines(result)
    lines += ["Outputs:", *outs] if outs else [result.note or "No outputs were returned."]
    if result.usage is not None:
        lines.append(f"Cost: {cost_text(result.usage, currency or default_currency())}.")
    lines.append("Output URLs expire (about 24 h): download what you want to keep.")
    return "\n".join(lines)


def task_text(task: Task, *, currency: str | None = None) -> str:
    if isinstance(task, TaskResult) or task.succeeded:
        done = task if isinstance(task, TaskResult) else TaskResult(**task.model_dump())
        return result_text(done, currency=currency)
    text = f"Task {task.task_id} is {task.status or 'UNKNOWN'}."
    if task.status in ("FAILED", "CANCEL"):
        err = TaskFailedError.from_task(
            task.task_id, task.status, task.error_code, task.error_message, task.failed_reason
        )
        text += f" {err}"
    elif not task.done:
        text += f" Check again with get_task or wait_task (task_id={task.task_id})."
    return text


def pending_text(err: TaskTimeoutError, *, tool: str | None = None) -> str:
    return (
        f"Task {err.task_id}"
        + (f" ({tool})" if tool else "")
        + f" is still {err.last_status or 'running'} after {err.waited:.0f}s; it keeps running and is not lost. "
        f"Call wait_task with task_id={err.task_id} to get the result (or get_task to check once)."
    )


def error_text(err: RunningHubError) -> str:
    code = f" [{err.code}]" if err.code not in (None, "") else ""
    text = f"Error{code}: {err.message}"
    if err.message_zh:
        text += f" ({err.message_zh})"
    if err.task_id:
        text += f"\ntask_id: {err.task_id}"
    text += f"\nretryable: {'yes' if err.retryable else 'no'}"
    if err.hint:
        text += f"\nWhat to do: {err.hint}"
    return text


def error_data(err: RunningHubError) -> dict[str, Any]:
    return err.to_dict()
