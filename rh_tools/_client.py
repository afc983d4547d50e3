"""``RunningHub`` and ``AsyncRunningHub``: the same methods, one blocking and one awaitable.

They own the httpx client and do the sending and sleeping; what to send, how to read answers,
when to retry and when to poll is decided in ``_core`` (shared), so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, TypeVar, Unpack

import httpx

from . import _calls as calls
from . import _constants as C
from . import _core as core
from . import _net as net
from . import catalogue
from ._config import ClientConfig, LegacyAuth
from ._download import FetchPolicy
from ._exceptions import InvalidInputError, ResponseFormatError, RunningHubError, error_for_status, is_key_refusal
from ._media import MediaSource
from ._polling import DurationHistory
from ._waiter import PollNotDue, Waiter
from ._webhooks import WebhookReceiver
from .catalogue import Endpoint, SearchFilters
from .catalogue._inputs import EndpointInput, validate_params
from .coordination import Coordination, Slot, resolve_max_concurrency
from .journal import TERMINAL, Journal, SpendRow, StoreSpec, TaskQuery, TaskRecord, redis_url
from .types import Account, PricePreview, QueueStatus, Task, TaskResult, TaskStatus, UploadedFile, WebhookDetail

__all__ = ["AsyncRunningHub", "RunningHub"]

log = logging.getLogger("rh_tools")
T = TypeVar("T")
core.install_log_redaction("httpx")  # httpx logs request URLs at INFO; some carry the key (apiCallDemo)
core.install_log_redaction("rh_tools")  # our own lines may quote an answer that quoted the key
MAX_API_REDIRECTS = 5
StatusCallback = Callable[[Task, float], Any]
FileInput = str | Path | bytes | IO[bytes] | MediaSource


class _Base:
    """Configuration, name resolution and validation shared by both twins (no I/O)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        site: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        wait_timeout: float | None = None,
        poll_interval: float | None = None,
        poll_max_interval: float | None = None,
        legacy_auth: str | None = None,
        site_urls: dict[str, str] | None = None,
        max_download_mb: float | None = None,
        download_timeout: float | None = None,
        transport: Any = None,
        http_client: Any = None,
        webhook_receiver: WebhookReceiver | None = None,
        store: StoreSpec = None,
        library: str | Path | None = None,
        max_concurrency: int | str | None = None,
    ) -> None:
        self._config = ClientConfig.resolve(
            api_key=api_key,
            base_url=base_url,
            site=site,
            timeout=timeout,
            max_retries=max_retries,
            wait_timeout=wait_timeout,
            poll_interval=poll_interval,
            poll_max_interval=poll_max_interval,
            legacy_auth=legacy_auth,
            site_urls=site_urls,
            max_download_mb=max_download_mb,
            download_timeout=download_timeout,
        )
        core.register_secret(self._config.api_key.get() if self._config.api_key else None)
        # Legacy-route auth in use; switches to "bearer" after the Enterprise-Shared refusal.
        self._legacy_auth: LegacyAuth = self._config.legacy_auth
        # Site name -> whether that site accepted this key (asked once, on a key refusal).
        self._site_answers: dict[str, bool] = {}
        self._transport = transport
        self._http: Any = http_client
        self._owns_http = http_client is None
        # The task journal (rh_tools.journal): argument > RUNNINGHUB_STORE > the user's state folder.
        self._journal = Journal(
            store,
            base_url=self._config.base_url,
            site=self._config.site,
            key=self._config.api_key.get() if self._config.api_key else None,
            library=library,
        )
        self._history = DurationHistory(store=self._journal)
        # Task slots per account (RUNNINGHUB_MAX_CONCURRENCY) and task ends from other processes,
        # shared through Redis when the journal is there (rh_tools.coordination).
        self._coord = Coordination.for_client(
            redis_url=redis_url(store),
            max_concurrency=resolve_max_concurrency(max_concurrency),
            key_id=self._journal.key_id,
            base_url=self._config.base_url,
            receiver=webhook_receiver,
        )
        # What waits sleep on: callbacks (a receiver) and ends heard from other processes wake them.
        self._board = self._coord.board
        self._rng = random.Random()
        self._lock = threading.Lock()
        # With a receiver, TASK_END callbacks end waits at once; polls become a slow fallback.
        self._receiver = webhook_receiver
        if webhook_receiver is not None and self._config.poll.initial > 0:
            fb = webhook_receiver.fallback_poll
            self._poll = replace(
                self._config.poll,
                initial=max(self._config.poll.initial, fb),
                min_interval=max(self._config.poll.min_interval, fb),
            )
        else:
            self._poll = self._config.poll

    @property
    def config(self) -> ClientConfig:
        return self._config

    @property
    def base_url(self) -> str:
        return self._config.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._config.base_url!r}, api_key={self._config.api_key!r})"

    def _timeouts(self) -> httpx.Timeout:
        return httpx.Timeout(self._config.timeout, connect=self._config.connect_timeout)

    def _request_timeout(self) -> httpx.Timeout:
        """This request's socket timeouts: the configured ones, cut to what the call's deadline leaves.

        Our own transports also cut every single read and write to the deadline (``_net``); this
        covers injected transports and clients, which only see per-request timeouts.
        """
        left = net.remaining()
        if left is None:
            return self._timeouts()
        t = max(min(self._config.timeout, left), 0.001)
        return httpx.Timeout(t, connect=max(min(self._config.connect_timeout, left), 0.001))

    def _fetch_policy(self) -> FetchPolicy:
        return FetchPolicy.for_api(
            self._config.base_url,
            max_bytes=int(self._config.max_download_mb * 1024 * 1024),
            timeout=self._config.download_timeout,
        )

    def _own(self, result: TaskResult) -> TaskResult:
        """Hand a result out knowing how its outputs may be fetched (the API host is trusted)."""
        result._fetch = self._fetch_policy()
        return result

    def _call_deadline(self, timeout: float | None, started: float) -> float:
        """When a run/wait must be over: its timeout from ``started``, plus a grace for the last request."""
        wait = self._config.wait_timeout if timeout is None else float(timeout)
        return started + max(wait, 0.0) + C.DEADLINE_GRACE

    def _prepare(
        self, endpoint: str | Endpoint, params: dict[str, Any] | EndpointInput | None, kwargs: dict[str, Any]
    ) -> tuple[Endpoint, EndpointInput]:
        """Resolve and validate before anything is sent; this is where bad input stops."""
        ep = endpoint if isinstance(endpoint, Endpoint) else catalogue.get(endpoint)
        if isinstance(params, EndpointInput) and type(params).__rh_endpoint__ == ep and not kwargs:
            model = params  # already validated (the agent tools validate first to vet local paths)
        elif params is not None and not isinstance(params, dict):
            raise InvalidInputError(f"params must be a dict, got {type(params).__name__}")
        else:
            model = validate_params(ep, {**(params or {}), **kwargs})
        core.refuse_unsendable(
            model.to_body(),
            {p.key: p.name for p in ep.params},
            context=f"Invalid arguments for {ep.tool_name}: ",
        )
        self._config.key()  # no key: say so now, before uploading anything
        return ep, model

    @staticmethod
    def _preview_body(model: EndpointInput) -> dict[str, Any]:
        # A price estimate should not upload anything: local files are left out (prices depend on
        # options such as duration and resolution, not on the media itself).
        def local(v: Any) -> bool:
            return isinstance(v, MediaSource) or (isinstance(v, list) and any(isinstance(i, MediaSource) for i in v))

        return {k: v for k, v in model.to_body().items() if not local(v)}

    @staticmethod
    def _decode(call: core.Call[T], resp: httpx.Response, t0: float) -> T:
        log.debug(
            "%s %s -> %s (%.0f ms)",
            call.method,
            call.path,
            resp.status_code,
            (time.perf_counter() - t0) * 1000,
        )
        # An API that quotes the key back must not put it into results or errors: scrub it first.
        return core.decode_response(call, resp.status_code, resp.headers, core.scrub_answer(resp.content))

    def _redirect(self, resp: httpx.Response, hops: int) -> str | None:
        """Where to resend after ``resp``, or None when it is the answer. API calls follow only
        same-origin redirects (or the https upgrade of the same host), at most MAX_API_REDIRECTS."""
        if not resp.is_redirect:
            return None
        target = core.redirect_target(str(resp.request.url), resp.headers.get("location"))
        if hops >= MAX_API_REDIRECTS:
            raise ResponseFormatError(f"RunningHub redirected more than {MAX_API_REDIRECTS} times", retryable=False)
        return target

    def _retry_or_raise(self, call: core.Call[Any], attempt: int, exc: Exception) -> float:
        """The delay before retrying ``call`` after ``exc``; raises the mapped error when not retrying."""
        err = core.transport_error(exc, call) if isinstance(exc, httpx.TransportError) else exc
        assert isinstance(err, RunningHubError)
        core.scrub_error(err)
        delay = core.retry_delay(call.kind, attempt, self._config.max_retries, err, self._rng)
        left = net.remaining()
        if delay is not None and left is not None and delay >= left:
            delay = None  # the call's deadline comes first: report now, do not sleep past it
        if delay is None:
            raise err from None
        log.debug("retrying %s %s in %.2fs after %s", call.method, call.path, delay, type(err).__name__)
        return delay

    @staticmethod
    def _task_id(task_id: Any) -> str:
        return core.check_task_id(task_id)

    def _fall_back_to_bearer(self, call: core.Call[Any], exc: Exception) -> LegacyAuth | None:
        """Switch legacy calls to Bearer-only after the Enterprise-Shared refusal; returns the mode to
        restore if the retried call is refused as well (the refusal had another cause)."""
        mode = core.legacy_auth_fallback(call, exc, self._legacy_auth)
        if mode is None:
            return None
        previous, self._legacy_auth = self._legacy_auth, mode
        log.info("legacy call refused with the key in the body; retrying with Bearer-only auth")
        return previous

    def _kwargs(self, call: core.Call[Any], *, async_: bool = False) -> dict[str, Any]:
        return core.request_kwargs(call, self._config, async_=async_, legacy_auth=self._legacy_auth)

    def _site_to_ask(self, err: RunningHubError) -> tuple[str, str] | None:
        """(other site, its base URL) worth asking whether it knows the refused key, at most once."""
        here = self._config.site
        if here == "custom" or not is_key_refusal(err):
            return None
        for name, url in self._config.site_urls.items():
            if name != here:
                if name in self._site_answers:
                    self._explain_key(err, name, self._site_answers[name])
                    return None
                return name, url
        return None

    def _explain_key(self, err: RunningHubError, other: str, known: bool | None) -> None:
        """Say in the error whether the refused key belongs to the other site."""
        if known is None:
            return
        self._site_answers[other] = known
        here = self._config.site
        if known:
            err.hint = (
                f"This key belongs to runninghub.{other}: set RUNNINGHUB_SITE={other} (or pass site='{other}'); "
                f"it is not a key of runninghub.{here}."
            )
        else:
            err.hint = (
                f"Neither runninghub.{here} nor runninghub.{other} accepts this key: copy it again from the "
                "console (32 characters) and check that it is enabled."
            )

    def _run_options(
        self,
        webhook_url: str | None,
        instance_type: str | None,
        use_personal_queue: bool | None,
        retain_seconds: int | None,
        access_password: str | None,
        add_metadata: bool | None = None,
    ) -> calls.RunOptions:
        return calls.RunOptions(
            webhook_url=self._webhook(webhook_url),
            instance_type=instance_type,
            use_personal_queue=use_personal_queue,
            retain_seconds=retain_seconds,
            access_password=access_password,
            add_metadata=add_metadata,
        )

    def _webhook(self, webhook_url: str | None) -> str | None:
        return webhook_url or (self._receiver.url if self._receiver is not None else None)

    @staticmethod
    def _raw_path(path: str) -> str:
        p = path.strip().removeprefix("/openapi/v2/").strip("/")
        if not p or ".." in p or any(c.isspace() or c in "?#" for c in p):
            raise InvalidInputError(f"not an endpoint path: {path!r}", hint="e.g. 'rhart-image-g/image-to-image'")
        return p

    def _waiter(
        self,
        task_id: str,
        timeout: float | None,
        on_status: StatusCallback | None,
        history_key: str | None,
        started: float | None = None,
    ) -> Waiter:
        # Ids the caller passes are checked where they come in (wait, get_task ...); an id RunningHub
        # itself returned is polled as it is, even if its format ever changes.
        wait = self._config.wait_timeout if timeout is None else float(timeout)
        if wait < 0:
            raise InvalidInputError("timeout must be >= 0 seconds")
        now = time.monotonic()
        t0 = now if started is None else started  # the deadline counts from the start of the call
        return Waiter(
            task_id=task_id,
            deadline=t0 + wait,
            policy=self._poll,
            history=self._history,
            history_key=history_key,
            started=t0,
            anchor=now,
            on_status=on_status,
        )

    # -- the task journal (no I/O beyond the local journal file) ----------------------------------

    @property
    def journal(self) -> Journal:
        """This client's task journal (see :mod:`rh_tools.journal`)."""
        return self._journal

    def _submitted(
        self, task: Task, endpoint: str | None, params: Any, tool: str | None = None, slot: Slot | None = None
    ) -> None:
        """Journal a submit answer. Called on the line after the answer is read: nothing can run between."""
        kind = "model" if tool else "raw"
        if endpoint and endpoint.startswith(("workflow:", "ai-app:")):
            kind = endpoint.split(":", 1)[0]
        self._journal.submitted(task, endpoint=endpoint, kind=kind, params=params, tool=tool)
        self._coord.bind(slot, task.task_id, task.status in TERMINAL)

    def _seen(self, task: Task) -> None:
        """Journal a status answer; a task seen ending gives back its slot (here or where it is held)."""
        self._journal.seen(task)
        if task.status in TERMINAL:
            self._coord.ended(task.task_id)

    def _account_limit(self, answer: QueueStatus | Exception) -> int | None:
        """The ``auto`` limit from a queue-status answer; None (no limiter, one warning) if it says none."""
        limit = answer.concurrent_limit if isinstance(answer, QueueStatus) else None
        if limit is None or limit < 1:
            why = f"{type(answer).__name__}: {answer}" if isinstance(answer, Exception) else "no concurrentLimit"
            log.warning("RUNNINGHUB_MAX_CONCURRENCY=auto: the account's limit is unknown (%s); tasks are not limited. "
                        "Set a number instead.", why)  # fmt: skip
            return None
        return limit

    def _slot_deadline(self, started: float | None, timeout: float | None) -> float:
        """Queueing for a slot counts against the wait (``run``) or the client's wait timeout (``submit``)."""
        wait = self._config.wait_timeout if timeout is None else max(0.0, float(timeout))
        return (time.monotonic() if started is None else started) + wait

    def _query(
        self,
        status: str | list[str] | None,
        unfinished: bool,
        endpoint: str | None,
        max_age: float | None,
        limit: int,
        all_keys: bool,
        require_key: bool,
    ) -> TaskQuery:
        statuses = [status] if isinstance(status, str) else list(status or [])
        wanted = {s.strip().upper() for s in statuses if s and s.strip()}
        if "UNFINISHED" in wanted:
            wanted.discard("UNFINISHED")
            unfinished = True
        unknown = wanted - {s.value for s in TaskStatus}
        if unknown:
            raise InvalidInputError(
                f"unknown task status {sorted(unknown)}",
                hint="Use SUCCESS, FAILED, CANCEL, RUNNING, QUEUED or unfinished.",
            )
        if limit < 1 or (max_age is not None and max_age < 0):
            raise InvalidInputError("limit must be >= 1 and max_age >= 0 seconds")
        if require_key:
            self._config.key()  # a server shared by several callers lists a caller's own tasks only
        return TaskQuery(
            statuses=frozenset(wanted) or None,
            unfinished=unfinished,
            endpoint=endpoint.strip() if endpoint and endpoint.strip() else None,
            since=time.time() - max_age if max_age is not None else None,
            key_id=None if all_keys else self._journal.key_id,
            limit=limit,
        )

    def _list_tasks(self, query: TaskQuery) -> list[TaskRecord]:
        return self._journal.list(query)

    def _resume(
        self,
        task_id: str,
        timeout: float | None,
        on_status: StatusCallback | None,
        endpoint: str | None,
        legacy_status: bool,
    ) -> tuple[Waiter, core.Call[Task], bool]:
        """A waiter for a task submitted earlier (maybe by another process), placed at the task's
        real age with the journal's submit time, so polls aim at the learnt window of its endpoint
        instead of starting cold. The bool says whether to look at once (the task is old enough
        that it may already be done)."""
        task_id = self._task_id(task_id)
        rec = self._journal.get(task_id)
        key = endpoint or (rec.endpoint if rec is not None else None)
        w = self._waiter(task_id, timeout, on_status, key)
        call = calls.legacy_outputs_call(task_id) if legacy_status else calls.query_call(task_id, key)
        if rec is None:
            return w, call, False
        age = rec.age()
        w.anchor = w.started - age
        if not rec.done:  # the task was last seen running at this age: completion lies after it
            w.last_not_done_at = max(0.0, min(age, rec.updated_at - rec.created_at))
        expected = self._history.expect(key) if key else None
        return w, call, age >= (expected.low if expected is not None else self._poll.initial)

    @staticmethod
    def _first_look(w: Waiter, task: Task) -> TaskResult | None:
        """Observe the first poll of a resumed wait without learning from it: a task found done at
        the first look ended at some unknown moment since it was last seen, which says nothing
        about how long its endpoint takes."""
        key, w.history_key = w.history_key, None
        try:
            return w.observe(task)
        finally:
            w.history_key = key

    @staticmethod
    def _finished(task: Task) -> TaskResult:
        if isinstance(task, TaskResult):
            return task
        if task.status != "SUCCESS":
            raise InvalidInputError(
                f"task {task.task_id} is {task.status or 'UNKNOWN'}: it has no outputs to download",
                hint=f"Wait for it first (wait / rh-tools wait {task.task_id}).",
            )
        return TaskResult(**task.model_dump())

    def _download_dir(self, directory: str | Path | None) -> Path:
        if directory is not None:
            return Path(directory)
        if self._journal.library is None:
            raise InvalidInputError(
                "no folder to download into",
                hint="Pass a folder, or set RUNNINGHUB_LIBRARY (library=) to keep outputs.",
            )
        return self._journal.library / time.strftime("%Y-%m-%d")

    @staticmethod
    def _lora_source(path: str | Path) -> tuple[MediaSource, str]:
        src = MediaSource.from_path(path, label="lora")
        digest = hashlib.md5(usedforsecurity=False)
        for chunk in src.iter_chunks():
            digest.update(chunk)
        return src, digest.hexdigest()


class RunningHub(_Base):
    """Blocking RunningHub client. Use as a context manager, or call :meth:`close`.

    Example::

        with RunningHub() as rh:
            result = rh.run("grok_image_to_image", prompt="make it neon", imageUrl="./sketch.png")
            print(result.urls)
    """

    def _client(self) -> httpx.Client:
        if self._http is None:
            with self._lock:  # agents call tools from several threads at once; make one client, not many
                if self._http is None:
                    self._http = net.make_client(timeout=self._timeouts(), transport=self._transport)
        return self._http  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._http is not None and self._owns_http:
            self._http.close()
            self._http = None

    def __enter__(self) -> RunningHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, call: core.Call[T]) -> T:
        core.refuse_unsendable(call.body)
        core.refuse_unsendable(call.query)
        attempt = 0
        restore: LegacyAuth | None = None
        while True:
            t0 = time.perf_counter()
            try:
                return self._decode(call, self._request(call), t0)
            except (httpx.TransportError, RunningHubError) as exc:
                if restore is None and (restore := self._fall_back_to_bearer(call, exc)) is not None:
                    continue
                if restore is not None and isinstance(exc, RunningHubError) and is_key_refusal(exc):
                    self._legacy_auth = restore  # Bearer-only did not help either: not that refusal
                if isinstance(exc, RunningHubError) and (ask := self._site_to_ask(exc)) is not None:
                    self._explain_key(exc, ask[0], self._ask_site(ask[1]))
                delay = self._retry_or_raise(call, attempt, exc)
            attempt += 1
            time.sleep(delay)

    def _request(self, call: core.Call[Any]) -> httpx.Response:
        """Send ``call`` once, following only the redirects :meth:`_redirect` allows."""
        url: str | None = None
        for hops in range(MAX_API_REDIRECTS + 1):
            kw = self._kwargs(call)  # fresh each time: an upload body is a one-shot stream
            if url is not None:
                kw["url"] = url
            resp = self._client().request(**kw, timeout=self._request_timeout(), follow_redirects=False)
            url = self._redirect(resp, hops)
            if url is None:
                return resp
        raise AssertionError("unreachable: _redirect raises after MAX_API_REDIRECTS")

    def _ask_site(self, base_url: str) -> bool | None:
        """One free account call to ``base_url`` with this key: True accepted, False refused, None unknown."""
        call = calls.account_call()
        try:
            kw = core.request_kwargs(call, self._config, base_url=base_url, legacy_auth="both")
            resp = self._client().request(**kw, timeout=min(self._config.timeout, 15.0))
            core.decode_response(call, resp.status_code, resp.headers, resp.content)
        except RunningHubError as err:
            return False if is_key_refusal(err) else None
        except Exception:  # a question about the key must never become a different failure
            return None
        return True

    def _pause(self, task_id: str, delay: float) -> bool:
        """Sleep until the next poll; True if a TASK_END (callback, or heard from another process) cut it short."""
        if self._board is None:
            time.sleep(delay)
            return False
        return self._board.sleep(task_id, delay)

    def _wait(self, w: Waiter, call: core.Call[Task]) -> TaskResult:
        self._coord.start()  # hear task ends from other processes (Redis); a no-op otherwise
        while (delay := w.next_delay()) is not None:
            woke = self._pause(w.task_id, delay) if delay else False
            if not w.sending(check=not woke):  # other tasks of the endpoint showed it is too early
                continue
            try:
                task = self._send(call)
            except RunningHubError as err:
                w.poll_failed(err)
                continue
            self._seen(task)
            if (result := w.observe(task)) is not None:
                return self._keep(self._own(result))
            if woke and self._board is not None:
                self._board.forget(w.task_id)  # early or forged callback: listen for the next one
        raise w.timeout()

    def _keep(self, result: TaskResult) -> TaskResult:
        """With a library folder set, save the outputs there before they expire (never fails the run)."""
        if self._journal.library is not None and result.outputs:
            try:
                self.download(result)
            except (RunningHubError, OSError) as exc:
                log.warning("task %s: outputs not saved to the library: %s", result.task_id, exc)
        return result

    # -- Standard Model API ------------------------------------------------------------------

    def submit(
        self,
        endpoint: str | Endpoint,
        params: dict[str, Any] | None = None,
        /,
        *,
        webhook_url: str | None = None,
        **kwargs: Any,
    ) -> Task:
        """Validate, upload local media, and submit; returns at once with the task id.

        Raises:
            InvalidInputError: before any request, for unknown endpoints or bad arguments.
            APIError: the API refused the submit (see the error's ``hint``).
        """
        ep, model = self._prepare(endpoint, params, kwargs)
        return self._submit(ep, model, webhook_url, self._slot_deadline(None, None))

    def _take_slot(self, deadline: float) -> Slot | None:
        """Wait for one of the account's task slots (RUNNINGHUB_MAX_CONCURRENCY); None when unlimited."""
        if self._coord.needs_limit:
            try:
                answer: QueueStatus | Exception = self.queue_status()
            except RunningHubError as exc:
                answer = exc
            self._coord.set_limit(self._account_limit(answer))
        return self._coord.acquire(deadline)

    def _submit_holding(self, call: core.Call[Task], deadline: float) -> tuple[Task, Slot | None]:
        """Send a paid submit inside a task slot; the slot stays taken until the task is seen ending."""
        slot = self._take_slot(deadline)
        try:
            return self._send(call), slot
        except BaseException:
            self._coord.drop(slot)
            raise

    def _submit(self, ep: Endpoint, model: EndpointInput, webhook_url: str | None, deadline: float) -> Task:
        body = model.to_body()
        refs = {p.key: p.media_ref for p in ep.params}
        for key, index, source in model.media_sources():
            calls.apply_upload(body, key, index, self.upload(source), refs.get(key, "url"))
        if webhook_url := self._webhook(webhook_url):
            body["webhookUrl"] = webhook_url
        task, slot = self._submit_holding(calls.submit_call(ep.path, body), deadline)
        self._submitted(task, ep.path, model.to_body(), ep.tool_name, slot)
        return task

    def submit_raw(self, path: str, body: dict[str, Any]) -> Task:
        """Submit ``body`` to ``/openapi/v2/<path>`` without local validation.

        For parameters or endpoints newer than the catalogue; the API does the checking (and may
        charge for what it accepts). Prefer :meth:`submit`.
        """
        raw_path = self._raw_path(path)
        task, slot = self._submit_holding(calls.submit_call(raw_path, dict(body)), self._slot_deadline(None, None))
        self._submitted(task, raw_path, body, slot=slot)
        return task

    def run(
        self,
        endpoint: str | Endpoint,
        params: dict[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        webhook_url: str | None = None,
        on_status: StatusCallback | None = None,
        **kwargs: Any,
    ) -> TaskResult:
        """Submit and wait for the result.

        Args:
            endpoint: tool name (``grok_image_to_image``), docs sidebar name, or API path.
            params: the model's arguments as a dict; keyword arguments are merged over it.
            timeout: seconds to wait for the result (default ``RUNNINGHUB_WAIT_TIMEOUT`` or 900).
            webhook_url: also ask RunningHub to POST the result there when the task ends.
            on_status: called with (task, elapsed_seconds) at every status seen.

        Raises:
            InvalidInputError: before any request.
            TaskFailedError: the task ended FAILED/CANCEL.
            TaskTimeoutError: the deadline passed; it carries ``task_id`` to resume with :meth:`wait`.
        """
        ep, model = self._prepare(endpoint, params, kwargs)
        started = time.monotonic()
        with net.deadline(self._call_deadline(timeout, started)):  # the whole call, uploads and submit included
            task = self._submit(ep, model, webhook_url, self._slot_deadline(started, timeout))
            w = self._waiter(task.task_id, timeout, on_status, ep.path, started)
            if (result := w.observe(task, polled=False)) is not None:
                return self._keep(self._own(result))
            return self._wait(w, calls.query_call(task.task_id, ep.path))

    def search(self, text: str = "", **filters: Unpack[SearchFilters]) -> list[Endpoint]:
        """Models for ``text`` ("animate this photo", "kling video"), best first: a local catalogue
        look-up (no request, no credits). Filters as :func:`rh_tools.catalogue.search`."""
        return catalogue.search(text, **filters)

    def get_task(self, task_id: str) -> Task:
        """The task's current status (and results, once finished)."""
        task = self._send(calls.query_call(self._task_id(task_id)))
        self._seen(task)
        return task

    def wait(
        self,
        task_id: str,
        timeout: float | None = None,
        *,
        on_status: StatusCallback | None = None,
        endpoint: str | None = None,
        legacy_status: bool = False,
    ) -> TaskResult:
        """Wait for a submitted task; safe to call again after a :class:`TaskTimeoutError`.

        A task in the journal (submitted here or by an earlier process) is polled from its real
        submit time with its endpoint's learnt durations, and looked at once right away if it may
        already be done. ``legacy_status=True`` reads workflow/AI-app tasks through
        /task/openapi/outputs instead of /openapi/v2/query (the v2 route is documented to serve
        both; the switch is there in case).
        """
        w, call, look_now = self._resume(task_id, timeout, on_status, endpoint, legacy_status)
        with net.deadline(w.deadline + C.DEADLINE_GRACE):
            if look_now:
                try:
                    task = self._send(call)
                except RunningHubError as err:
                    w.poll_failed(err)
                else:
                    self._seen(task)
                    if (result := self._first_look(w, task)) is not None:
                        return self._keep(self._own(result))
            return self._wait(w, call)

    def tasks(
        self,
        *,
        status: str | list[str] | None = None,
        unfinished: bool = False,
        endpoint: str | None = None,
        max_age: float | None = None,
        limit: int = 20,
        all_keys: bool = False,
        require_key: bool = False,
    ) -> list[TaskRecord]:
        """Tasks from the journal, newest first: this key's own unless ``all_keys``.

        Args:
            status: one status or several (SUCCESS, FAILED, CANCEL, RUNNING, QUEUED, or "unfinished").
            unfinished: only tasks not seen ending (what ``wait`` can still collect).
            endpoint: a piece of the endpoint path or tool name.
            max_age: only tasks submitted in the last ``max_age`` seconds.
            require_key: refuse without an API key (servers shared by several callers).

        Raises:
            ConfigurationError: the journal is turned off or cannot be read.
        """
        return self._list_tasks(self._query(status, unfinished, endpoint, max_age, limit, all_keys, require_key))

    def spend(
        self, *, endpoint: str | None = None, max_age: float | None = None, all_keys: bool = False
    ) -> list[SpendRow]:
        """Cost per local day and endpoint from the journal (money in the account's currency, coins)."""
        return self._journal.spend(self._query(None, False, endpoint, max_age, 1, all_keys, False))

    def download(
        self, task: str | Task, directory: str | Path | None = None, *, timeout: float | None = None
    ) -> list[Path]:
        """Save a finished task's outputs (by id, or a result) into ``directory`` (default: the
        library folder, ``RUNNINGHUB_LIBRARY``); the journal records where they went. ``timeout``
        bounds each output's whole download (default ``download_timeout``, 600 s).

        Raises:
            DownloadError: an output could not be fetched or saved (with the task id and the URL).
        """
        result = self._own(self._finished(task if isinstance(task, Task) else self.get_task(task)))
        paths = result.download(self._download_dir(directory), timeout=timeout)
        self._journal.files(result.task_id, paths)
        return paths

    def cancel(self, task_id: str) -> None:
        """Cancel a queued or running task (documented for workflow/AI-app tasks)."""
        self._send(calls.cancel_call(self._task_id(task_id)))

    def upload(self, file: FileInput, *, name: str | None = None) -> UploadedFile:
        """Upload a local file, bytes or binary file object (streamed); returns its URL and file name."""
        return self._send(calls.upload_call(MediaSource.coerce(file, name=name)))

    def price_preview(
        self, endpoint: str | Endpoint, params: dict[str, Any] | None = None, /, **kwargs: Any
    ) -> PricePreview:
        """Estimated price of a run with these arguments; creates no task."""
        ep, model = self._prepare(endpoint, params, kwargs)
        return self._send(calls.price_preview_call(ep.path, self._preview_body(model)))

    # -- account -------------------------------------------------------------------------------

    def account(self) -> Account:
        """Wallet balance, coins, currency and the number of tasks running for this key."""
        return self._send(calls.account_call())

    def queue_status(self) -> QueueStatus:
        """This key's concurrency limit and its running and queued task counts."""
        return self._send(calls.queue_status_call())

    # -- workflows and AI apps -------------------------------------------------------------------

    def run_workflow(
        self,
        workflow_id: str | None,
        node_info_list: list[dict[str, Any]] | None = None,
        *,
        workflow: str | dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float | None = None,
        webhook_url: str | None = None,
        instance_type: str | None = None,
        use_personal_queue: bool | None = None,
        retain_seconds: int | None = None,
        access_password: str | None = None,
        add_metadata: bool | None = None,
        on_status: StatusCallback | None = None,
        legacy_status: bool = False,
    ) -> TaskResult | Task:
        """Run a saved ComfyUI workflow with node overrides; waits unless ``wait=False``.

        ``workflow`` runs an API-format workflow given inline (a dict or its JSON) instead of, or
        on top of, ``workflow_id``. ``instance_type='plus'`` picks a 48 GB machine;
        ``use_personal_queue`` queues on an exclusive key's own machines instead of failing;
        ``retain_seconds`` and ``access_password`` are passed as the API names them."""
        call = calls.workflow_call(
            workflow_id,
            node_info_list,
            workflow=workflow,
            options=self._run_options(
                webhook_url, instance_type, use_personal_queue, retain_seconds, access_password, add_metadata
            ),
        )
        return self._run_legacy(call, wait, timeout, on_status, legacy_status)

    def run_ai_app(
        self,
        webapp_id: str | int,
        node_info_list: list[dict[str, Any]],
        *,
        wait: bool = True,
        timeout: float | None = None,
        webhook_url: str | None = None,
        instance_type: str | None = None,
        use_personal_queue: bool | None = None,
        retain_seconds: int | None = None,
        access_password: str | None = None,
        on_status: StatusCallback | None = None,
        legacy_status: bool = False,
    ) -> TaskResult | Task:
        """Run an AI app with its nodeInfoList (see :meth:`get_ai_app`); waits unless ``wait=False``."""
        call = calls.ai_app_call(
            webapp_id,
            node_info_list,
            options=self._run_options(webhook_url, instance_type, use_personal_queue, retain_seconds, access_password),
        )
        return self._run_legacy(call, wait, timeout, on_status, legacy_status)

    def _run_legacy(
        self,
        call: core.Call[Task],
        wait: bool,
        timeout: float | None,
        on_status: StatusCallback | None,
        legacy_status: bool,
    ) -> TaskResult | Task:
        self._config.key()
        started = time.monotonic()
        if not wait:
            task, slot = self._submit_holding(call, self._slot_deadline(started, None))
            self._submitted(task, task.endpoint, call.body, slot=slot)
            return task
        with net.deadline(self._call_deadline(timeout, started)):
            task, slot = self._submit_holding(call, self._slot_deadline(started, timeout))
            self._submitted(task, task.endpoint, call.body, slot=slot)
            w = self._waiter(task.task_id, timeout, on_status, task.endpoint, started)
            if (result := w.observe(task, polled=False)) is not None:
                return self._keep(self._own(result))
            query = calls.legacy_outputs_call(task.task_id) if legacy_status else calls.query_call(task.task_id)
            return self._wait(w, query)

    def get_workflow_json(self, workflow_id: str) -> dict[str, Any]:
        """The workflow in ComfyUI API format: node ids, class types and inputs."""
        return self._send(calls.workflow_json_call(calls.numeric_id(workflow_id, "workflow_id")))

    def get_ai_app(self, webapp_id: str) -> dict[str, Any]:
        """An AI app's API call example, including the nodeInfoList to copy and edit."""
        return self._send(calls.ai_app_demo_call(calls.numeric_id(webapp_id, "webapp_id")))

    def list_ai_apps(
        self, current: int = 1, size: int = 20, sort: str = "RECOMMEND", days: int | None = None
    ) -> dict[str, Any]:
        """A page of public AI apps (sort: RECOMMEND, HOTTEST or NEWEST)."""
        return self._send(calls.list_ai_apps_call(current, size, sort, days))

    # -- webhooks and LoRAs ----------------------------------------------------------------------

    def webhook_detail(self, task_id: str) -> WebhookDetail:
        """The webhook delivery record of a task: URL, status, retries."""
        return self._send(calls.webhook_detail_call(self._task_id(task_id)))

    def resend_webhook(self, webhook_id: str, webhook_url: str) -> None:
        """Deliver a task's TASK_END webhook again (``webhook_id`` from :meth:`webhook_detail`)."""
        self._send(calls.resend_webhook_call(webhook_id, webhook_url))

    def upload_lora(self, path: str | Path, lora_name: str | None = None) -> str:
        """Upload a .safetensors LoRA; returns the file name for the RHLoraLoader node."""
        src, md5 = self._lora_source(path)
        target = self._send(calls.lora_upload_url_call(lora_name or src.name, md5))
        resp = self._client().put(
            target["url"],
            content=src.iter_chunks(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(src.size)},
        )
        if resp.status_code >= 400:
            raise error_for_status(resp.status_code, "Uploading the LoRA to its presigned URL failed")
        return str(target["fileName"])


class AsyncRunningHub(_Base):
    """Awaitable twin of :class:`RunningHub`, for agents and servers that run many tasks at once.

    ``max_in_flight`` caps the requests on the wire at once (default 20); any number of tasks can
    be waited on concurrently, their polls simply queue for a slot.
    """

    def __init__(self, *args: Any, max_in_flight: int = C.MAX_IN_FLIGHT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if max_in_flight < 1:
            raise InvalidInputError("max_in_flight must be at least 1")
        self._max_in_flight = max_in_flight
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _slot(self) -> asyncio.Semaphore:
        # asyncio primitives belong to one event loop; a client reused under another gets a fresh one.
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self._max_in_flight))
        return self._slots[1]

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            limits = httpx.Limits(max_connections=self._max_in_flight, max_keepalive_connections=self._max_in_flight)
            self._http = net.make_async_client(timeout=self._timeouts(), limits=limits, transport=self._transport)
        return self._http  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> AsyncRunningHub:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, call: core.Call[T], ready: Callable[[], bool] | None = None) -> T:
        core.refuse_unsendable(call.body)
        core.refuse_unsendable(call.query)
        attempt = 0
        restore: LegacyAuth | None = None
        while True:
            t0 = time.perf_counter()
            try:
                async with self._slot():
                    if ready is not None and not ready():  # a poll that waited here may be stale
                        raise PollNotDue
                    resp = await self._request(call)
                return self._decode(call, resp, t0)
            except (httpx.TransportError, RunningHubError) as exc:
                if restore is None and (restore := self._fall_back_to_bearer(call, exc)) is not None:
                    continue
                if restore is not None and isinstance(exc, RunningHubError) and is_key_refusal(exc):
                    self._legacy_auth = restore  # Bearer-only did not help either: not that refusal
                if isinstance(exc, RunningHubError) and (ask := self._site_to_ask(exc)) is not None:
                    self._explain_key(exc, ask[0], await self._ask_site(ask[1]))
                delay = self._retry_or_raise(call, attempt, exc)
            attempt += 1
            await asyncio.sleep(delay)

    async def _request(self, call: core.Call[Any]) -> httpx.Response:
        url: str | None = None
        for hops in range(MAX_API_REDIRECTS + 1):
            kw = self._kwargs(call, async_=True)
            if url is not None:
                kw["url"] = url
            resp = await self._client().request(**kw, timeout=self._request_timeout(), follow_redirects=False)
            url = self._redirect(resp, hops)
            if url is None:
                return resp
        raise AssertionError("unreachable: _redirect raises after MAX_API_REDIRECTS")

    async def _ask_site(self, base_url: str) -> bool | None:
        call = calls.account_call()
        try:
            kw = core.request_kwargs(call, self._config, base_url=base_url, legacy_auth="both", async_=True)
            async with self._slot():
                resp = await self._client().request(**kw, timeout=min(self._config.timeout, 15.0))
            core.decode_response(call, resp.status_code, resp.headers, resp.content)
        except RunningHubError as err:
            return False if is_key_refusal(err) else None
        except Exception:  # a question about the key must never become a different failure
            return None
        return True

    async def _pause(self, task_id: str, delay: float) -> bool:
        if self._board is None:
            await asyncio.sleep(delay)
            return False
        return await self._board.asleep(task_id, delay)

    async def _wait(self, w: Waiter, call: core.Call[Task]) -> TaskResult:
        self._coord.start()
        while (delay := w.next_delay()) is not None:
            woke = await self._pause(w.task_id, delay) if delay else False
            if not w.sending(check=not woke):  # other tasks of the endpoint showed it is too early
                continue
            try:
                # asked again once a slot is free: under load a poll may wait there for seconds
                task = await self._send(call, ready=lambda: w.sending(check=not woke))  # noqa: B023
            except PollNotDue:
                continue
            except RunningHubError as err:
                w.poll_failed(err)
                continue
            self._seen(task)
            if (result := w.observe(task)) is not None:
                return await self._keep(self._own(result))
            if woke and self._board is not None:
                self._board.forget(w.task_id)
        raise w.timeout()

    async def _keep(self, result: TaskResult) -> TaskResult:
        if self._journal.library is not None and result.outputs:
            try:
                await self.download(result)
            except (RunningHubError, OSError) as exc:
                log.warning("task %s: outputs not saved to the library: %s", result.task_id, exc)
        return result

    async def submit(
        self,
        endpoint: str | Endpoint,
        params: dict[str, Any] | None = None,
        /,
        *,
        webhook_url: str | None = None,
        **kwargs: Any,
    ) -> Task:
        ep, model = self._prepare(endpoint, params, kwargs)
        return await self._submit(ep, model, webhook_url, self._slot_deadline(None, None))

    async def _take_slot(self, deadline: float) -> Slot | None:
        if self._coord.needs_limit:
            try:
                answer: QueueStatus | Exception = await self.queue_status()
            except RunningHubError as exc:
                answer = exc
            self._coord.set_limit(self._account_limit(answer))
        return await self._coord.aacquire(deadline)

    async def _submit_holding(self, call: core.Call[Task], deadline: float) -> tuple[Task, Slot | None]:
        slot = await self._take_slot(deadline)
        try:
            return await self._send(call), slot
        except BaseException:
            self._coord.drop(slot)
            raise

    async def _submit(self, ep: Endpoint, model: EndpointInput, webhook_url: str | None, deadline: float) -> Task:
        body = model.to_body()
        refs = {p.key: p.media_ref for p in ep.params}
        for key, index, source in model.media_sources():
            calls.apply_upload(body, key, index, await self.upload(source), refs.get(key, "url"))
        if webhook_url := self._webhook(webhook_url):
            body["webhookUrl"] = webhook_url
        task, slot = await self._submit_holding(calls.submit_call(ep.path, body), deadline)
        self._submitted(task, ep.path, model.to_body(), ep.tool_name, slot)
        return task

    async def submit_raw(self, path: str, body: dict[str, Any]) -> Task:
        raw_path = self._raw_path(path)
        deadline = self._slot_deadline(None, None)
        task, slot = await self._submit_holding(calls.submit_call(raw_path, dict(body)), deadline)
        self._submitted(task, raw_path, body, slot=slot)
        return task

    async def run(
        self,
        endpoint: str | Endpoint,
        params: dict[str, Any] | None = None,
        /,
        *,
        timeout: float | None = None,
        webhook_url: str | None = None,
        on_status: StatusCallback | None = None,
        **kwargs: Any,
    ) -> TaskResult:
        ep, model = self._prepare(endpoint, params, kwargs)
        started = time.monotonic()
        with net.deadline(self._call_deadline(timeout, started)):
            task = await self._submit(ep, model, webhook_url, self._slot_deadline(started, timeout))
            w = self._waiter(task.task_id, timeout, on_status, ep.path, started)
            if (result := w.observe(task, polled=False)) is not None:
                return await self._keep(self._own(result))
            return await self._wait(w, calls.query_call(task.task_id, ep.path))

    async def search(self, text: str = "", **filters: Unpack[SearchFilters]) -> list[Endpoint]:
        """Models for ``text``, best first: a local catalogue look-up (nothing is sent), async only
        to match its twin. Filters as :func:`rh_tools.catalogue.search`."""
        return catalogue.search(text, **filters)

    async def get_task(self, task_id: str) -> Task:
        task = await self._send(calls.query_call(self._task_id(task_id)))
        self._seen(task)
        return task

    async def wait(
        self,
        task_id: str,
        timeout: float | None = None,
        *,
        on_status: StatusCallback | None = None,
        endpoint: str | None = None,
        legacy_status: bool = False,
    ) -> TaskResult:
        w, call, look_now = self._resume(task_id, timeout, on_status, endpoint, legacy_status)
        with net.deadline(w.deadline + C.DEADLINE_GRACE):
            if look_now:
                try:
                    task = await self._send(call)
                except RunningHubError as err:
                    w.poll_failed(err)
                else:
                    self._seen(task)
                    if (result := self._first_look(w, task)) is not None:
                        return await self._keep(self._own(result))
            return await self._wait(w, call)

    async def tasks(
        self,
        *,
        status: str | list[str] | None = None,
        unfinished: bool = False,
        endpoint: str | None = None,
        max_age: float | None = None,
        limit: int = 20,
        all_keys: bool = False,
        require_key: bool = False,
    ) -> list[TaskRecord]:
        # A local file read of a few rows: cheaper inline than a thread hop.
        return self._list_tasks(self._query(status, unfinished, endpoint, max_age, limit, all_keys, require_key))

    async def spend(
        self, *, endpoint: str | None = None, max_age: float | None = None, all_keys: bool = False
    ) -> list[SpendRow]:
        return self._journal.spend(self._query(None, False, endpoint, max_age, 1, all_keys, False))

    async def download(
        self, task: str | Task, directory: str | Path | None = None, *, timeout: float | None = None
    ) -> list[Path]:
        result = self._own(self._finished(task if isinstance(task, Task) else await self.get_task(task)))
        paths = await result.adownload(self._download_dir(directory), timeout=timeout)
        self._journal.files(result.task_id, paths)
        return paths

    async def cancel(self, task_id: str) -> None:
        await self._send(calls.cancel_call(self._task_id(task_id)))

    async def upload(self, file: FileInput, *, name: str | None = None) -> UploadedFile:
        return await self._send(calls.upload_call(MediaSource.coerce(file, name=name)))

    async def price_preview(
        self, endpoint: str | Endpoint, params: dict[str, Any] | None = None, /, **kwargs: Any
    ) -> PricePreview:
        ep, model = self._prepare(endpoint, params, kwargs)
        return await self._send(calls.price_preview_call(ep.path, self._preview_body(model)))

    async def account(self) -> Account:
        return await self._send(calls.account_call())

    async def queue_status(self) -> QueueStatus:
        return await self._send(calls.queue_status_call())

    async def run_workflow(
        self,
        workflow_id: str | None,
        node_info_list: list[dict[str, Any]] | None = None,
        *,
        workflow: str | dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float | None = None,
        webhook_url: str | None = None,
        instance_type: str | None = None,
        use_personal_queue: bool | None = None,
        retain_seconds: int | None = None,
        access_password: str | None = None,
        add_metadata: bool | None = None,
        on_status: StatusCallback | None = None,
        legacy_status: bool = False,
    ) -> TaskResult | Task:
        call = calls.workflow_call(
            workflow_id,
            node_info_list,
            workflow=workflow,
            options=self._run_options(
                webhook_url, instance_type, use_personal_queue, retain_seconds, access_password, add_metadata
            ),
        )
        return await self._run_legacy(call, wait, timeout, on_status, legacy_status)

    async def run_ai_app(
        self,
        webapp_id: str | int,
        node_info_list: list[dict[str, Any]],
        *,
        wait: bool = True,
        timeout: float | None = None,
        webhook_url: str | None = None,
        instance_type: str | None = None,
        use_personal_queue: bool | None = None,
        retain_seconds: int | None = None,
        access_password: str | None = None,
        on_status: StatusCallback | None = None,
        legacy_status: bool = False,
    ) -> TaskResult | Task:
        call = calls.ai_app_call(
            webapp_id,
            node_info_list,
            options=self._run_options(webhook_url, instance_type, use_personal_queue, retain_seconds, access_password),
        )
        return await self._run_legacy(call, wait, timeout, on_status, legacy_status)

    async def _run_legacy(
        self,
        call: core.Call[Task],
        wait: bool,
        timeout: float | None,
        on_status: StatusCallback | None,
        legacy_status: bool,
    ) -> TaskResult | Task:
        self._config.key()
        started = time.monotonic()
        if not wait:
            task, slot = await self._submit_holding(call, self._slot_deadline(started, None))
            self._submitted(task, task.endpoint, call.body, slot=slot)
            return task
        with net.deadline(self._call_deadline(timeout, started)):
            task, slot = await self._submit_holding(call, self._slot_deadline(started, timeout))
            self._submitted(task, task.endpoint, call.body, slot=slot)
            w = self._waiter(task.task_id, timeout, on_status, task.endpoint, started)
            if (result := w.observe(task, polled=False)) is not None:
                return await self._keep(self._own(result))
            query = calls.legacy_outputs_call(task.task_id) if legacy_status else calls.query_call(task.task_id)
            return await self._wait(w, query)

    async def get_workflow_json(self, workflow_id: str) -> dict[str, Any]:
        return await self._send(calls.workflow_json_call(calls.numeric_id(workflow_id, "workflow_id")))

    async def get_ai_app(self, webapp_id: str) -> dict[str, Any]:
        return await self._send(calls.ai_app_demo_call(calls.numeric_id(webapp_id, "webapp_id")))

    async def list_ai_apps(
        self, current: int = 1, size: int = 20, sort: str = "RECOMMEND", days: int | None = None
    ) -> dict[str, Any]:
        return await self._send(calls.list_ai_apps_call(current, size, sort, days))

    async def webhook_detail(self, task_id: str) -> WebhookDetail:
        return await self._send(calls.webhook_detail_call(self._task_id(task_id)))

    async def resend_webhook(self, webhook_id: str, webhook_url: str) -> None:
        await self._send(calls.resend_webhook_call(webhook_id, webhook_url))

    async def upload_lora(self, path: str | Path, lora_name: str | None = None) -> str:
        src, md5 = await asyncio.to_thread(self._lora_source, path)
        target = await self._send(calls.lora_upload_url_call(lora_name or src.name, md5))
        resp = await self._client().put(
            target["url"],
            content=src.aiter_chunks(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(src.size)},
        )
        if resp.status_code >= 400:
            raise error_for_status(resp.status_code, "Uploading the LoRA to its presigned URL failed")
        return str(target["fileName"])


def _share_docstrings() -> None:
    """The async twin documents itself with the sync twin's docstrings (same methods, same meaning)."""
    for name, method in vars(RunningHub).items():
        twin = vars(AsyncRunningHub).get(name)
        if callable(method) and callable(twin) and not twin.__doc__ and method.__doc__:
            twin.__doc__ = method.__doc__


_share_docstrings()
