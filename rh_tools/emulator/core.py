"""The emulator's engine: keys, task planning and creation, and rendering tasks into API answers.

Why one object: the route modules stay declarative (parse, check, call the core, answer) while
everything with state — config, tasks, accounts, uploads, faults, counters, webhooks — lives here
and is shared by the v2 routes, the legacy routes and the file routes alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import re
import secrets
import string
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .codes import legacy_msg, v2_message
from .config import EmulatorConfig, parse_duration_dist
from .faults import Faults
from .limits import RateLimiter
from .media import Signer, UploadStore
from .shapes import json_response, key_refused, legacy_error, unknown_key, upload_error, v2_error
from .state import Output, Task, TaskStore, new_task_id
from .stats import Stats
from .webhooks import WebhookRecord, Webhooks
from .workflows import SAMPLE_WEBAPPS, SAMPLE_WORKFLOWS

__all__ = ["Core", "Refusal"]

_log = logging.getLogger(__name__)
_BEARER = re.compile(r"^\s*(?:bearer\s+)?(\S+)\s*$", re.IGNORECASE)
_COUNT_KEYS = ("maxImages", "imageNum", "numImages", "numberOfImages", "num_images", "batchSize", "n")
_FORMAT_KEY = re.compile(r"(format|file_type|fileType)$", re.IGNORECASE)
_IMAGE_EXTS = {"png", "jpg", "jpeg", "webp"}
_AUDIO_EXTS = {"mp3", "wav"}


class Refusal(Exception):
    """A request refused before any task exists; ``response`` is the answer to send."""

    def __init__(self, response: Response) -> None:
        super().__init__("refused")
        self.response = response


class Core:
    """State and behaviour shared by all routes of one emulator instance."""

    def __init__(self, config: EmulatorConfig, catalogue: Any) -> None:
        self._config = config
        self._config_lock = threading.Lock()
        self.stats = Stats()
        self.faults = Faults(self.stats)
        self.limiter = RateLimiter()
        self.uploads = UploadStore()
        self.signer_secret = secrets.token_bytes(32)
        self.signer = Signer(self.signer_secret)
        self.rng = random.Random(config.seed)
        # Run times draw from their own generators, one per key and endpoint (see duration_for).
        self._duration_rngs: dict[tuple[str, str], random.Random] = {}
        self._rng_lock = threading.Lock()
        self.store = TaskStore(
            limits=lambda key: (
                int(self.config.key_setting(key, "concurrency")),
                int(self.config.key_setting(key, "queue_limit")),
            ),
            opening_balance=lambda key: float(self.config.key_setting(key, "balance")),
            on_end=self._on_end,
            max_tasks=lambda: self.config.max_tasks,
        )
        self.webhooks = Webhooks(self.stats, lambda: (self.config.webhook_timeout, self.config.webhook_retry_delays))
        self.endpoints: dict[str, Any] = {}
        self.set_catalogue(catalogue)
        #: Origin of the file ("CDN") listener, set by the server that runs one.
        self.cdn_origin: str | None = None

    # ---- configuration --------------------------------------------------------------------------
    @property
    def config(self) -> EmulatorConfig:
        return self._config

    def set_config(self, **changes: Any) -> EmulatorConfig:
        with self._config_lock:
            self._config = self._config.replace(**changes)
            if "seed" in changes:
                with self._rng_lock:
                    self.rng.seed(changes["seed"])
                    self._duration_rngs.clear()
            self.store.advance()  # a raised concurrency lets queued tasks start now
            return self._config

    def set_catalogue(self, catalogue: Any) -> None:
        eps = catalogue.all() if hasattr(catalogue, "all") else list(catalogue or [])
        self.endpoints = {ep.path: ep for ep in eps}

    @property
    def workflows(self) -> Mapping[str, Mapping[str, Any]]:
        return self.config.workflows if self.config.workflows is not None else SAMPLE_WORKFLOWS

    @property
    def webapps(self) -> Mapping[str, Mapping[str, Any]]:
        return self.config.webapps if self.config.webapps is not None else SAMPLE_WEBAPPS

    def random(self) -> float:
        with self._rng_lock:
            return self.rng.random()

    def hex32(self) -> str:
        with self._rng_lock:
            return f"{self.rng.getrandbits(128):032x}"

    # ---- keys -------------------------------------------------------------------------------------
    @staticmethod
    def bearer(request: Request) -> str | None:
        """The key from ``Authorization``; "Bearer " is optional (aiapp/list sends the bare key)."""
        m = _BEARER.match(request.headers.get("authorization", ""))
        return m.group(1) if m else None

    def _rate_headers(self, wait: float) -> dict[str, str] | None:
        ra = self.config.rate_limit_retry_after
        if ra is None:
            return None
        return {"Retry-After": str(max(1, int(-(-max(ra, wait) // 1))))}

    def auth_v2(self, request: Request, *, family: str = "v2") -> str:
        """The caller's key for a v2 call, or raise ``Refusal`` (key of the other site: HTTP 401 -1;
        unknown key: 806 in the route family's shape; rate limit: 1003)."""
        key = self.bearer(request)
        cfg = self.config
        self._refuse_key(key, family, request.url.path)
        assert key is not None
        wait = self.limiter.check(key, cfg.rate_limit, cfg.rate_limit_burst)
        if wait is not None:
            self.stats.count_code(1003)
            status, headers = cfg.rate_limit_http_status, self._rate_headers(wait)
            if family == "upload":
                raise Refusal(upload_error(1003, status_code=status, headers=headers))
            if family == "legacy":
                raise Refusal(legacy_error(1003, status_code=status, headers=headers))
            raise Refusal(v2_error("1003", status_code=status, headers=headers))
        return key

    def _refuse_key(self, key: str | None, family: str, path: str) -> None:
        cfg = self.config
        if key is not None and key in cfg.foreign_keys:
            self.stats.count_code(-1)
            raise Refusal(key_refused())
        if not cfg.accepts_key(key):
            self.stats.count_code(806)
            raise Refusal(unknown_key(family, path))

    def auth_legacy(self, request: Request, body: Mapping[str, Any] | None, field: str = "apiKey") -> str:
        """The caller's key for a legacy call (body field, else Bearer), or raise ``Refusal``."""
        cfg = self.config
        body_key = None
        if isinstance(body, Mapping):
            body_key = body.get(field)
            if body_key is None and field == "apikey" and cfg.account_status_accepts_camel_key:
                body_key = body.get("apiKey")
        key = str(body_key) if body_key else self.bearer(request)
        self._refuse_key(key, "legacy", request.url.path)
        assert key is not None
        if body_key and key in cfg.bearer_only_keys:
            # INFERRED (S09): an Enterprise-Shared key is refused when it also travels in the body.
            self.stats.count_code(-1)
            raise Refusal(key_refused())
        wait = self.limiter.check(key, cfg.rate_limit, cfg.rate_limit_burst)
        if wait is not None:
            self.stats.count_code(1003)
            raise Refusal(legacy_error(1003, status_code=cfg.rate_limit_http_status, headers=self._rate_headers(wait)))
        return key

    def is_wrong_kind(self, key: str) -> bool:
        """Whether ``key`` may not call the Standard Model API (1014): only Enterprise-Shared keys may."""
        return self.config.key_kind(key) != "enterprise-shared"

    # ---- planning ---------------------------------------------------------------------------------
    def duration_for(self, endpoint: str, kind: str, key: str = "") -> float:
        """The run time of a new task: the configured value, spread by ``duration_dist``.

        Each key and endpoint draws from its own generator seeded with ``seed``: the n-th task a key
        submits to an endpoint gets the same run time in every run, whatever else draws random
        numbers, and clients under different keys can be compared on identical run times.
        """
        cfg = self.config
        base = cfg.endpoint_durations.get(endpoint, cfg.durations.get(kind, cfg.durations["image"]))
        dist, spread = parse_duration_dist(cfg.duration_dist, cfg.jitter)
        if dist == "fixed" or not spread:
            return max(0.0, float(base))
        with self._rng_lock:
            rng = self._duration_rngs.get((key, endpoint))
            if rng is None:
                if len(self._duration_rngs) >= 10_000:  # bounded: forget the oldest stream
                    del self._duration_rngs[next(iter(self._duration_rngs))]
                seed = None if cfg.seed is None else f"{cfg.seed}/{endpoint}"  # the same for every key
                rng = self._duration_rngs[(key, endpoint)] = random.Random(seed)
            draw = rng.random() * 2 - 1 if dist == "uniform" else rng.gauss(0.0, 1.0)
        factor = 1 + draw * spread if dist == "uniform" else math.exp(spread * draw)
        return max(0.0, float(base) * factor)

    def plan_outputs(self, kind: str, body: Mapping[str, Any], endpoint: str) -> list[Output]:
        """What a standard task will return, from its output kind and the body's hints."""
        cfg = self.config
        if kind == "text":
            if "character" in endpoint:
                letters = string.ascii_lowercase
                with self._rng_lock:
                    text = (
                        "".join(self.rng.choice(letters) for _ in range(9))
                        + "."
                        + "".join(self.rng.choice(letters) for _ in range(10))
                    )
            else:
                prompt = str(body.get("prompt") or body.get("text") or "")[:120]
                text = f"Emulated answer from {endpoint}" + (f" to: {prompt}" if prompt else ".")
            return [Output("text", text=text)]
        ext = str(cfg.output_formats.get(kind, "png")).lower()
        for k, v in body.items():  # honour an explicit output format where the body asks for one
            if isinstance(v, str) and _FORMAT_KEY.search(k):
                want = v.lower().removeprefix("image/").removeprefix("audio/")
                if kind == "image" and want in _IMAGE_EXTS:
                    ext = "jpg" if want == "jpeg" else want
                elif kind == "audio" and want in _AUDIO_EXTS:
                    ext = want
        count = 1
        if kind == "image":
            for k in _COUNT_KEYS:
                v = body.get(k)
                try:
                    n = int(v) if v is not None and not isinstance(v, bool) else 0
                except (TypeError, ValueError):
                    n = 0
                if n > 1:
                    count = min(n, max(1, cfg.max_results))
                    break
        outs = [Output(ext) for _ in range(count)]
        if kind == "video" and body.get("returnLastFrame") is True:
            outs.append(Output(str(cfg.output_formats.get("image", "png"))))
        return outs

    def price_for(self, kind: str, body: Mapping[str, Any], n_outputs: int) -> float:
        base = float(self.config.prices.get(kind, 0.1))
        if kind == "video":
            try:
                secs = float(body.get("duration") or 5)
            except (TypeError, ValueError):
                secs = 5.0
            return round(base * max(1.0, secs) / 5.0, 2)
        if kind == "image":
            return round(base * max(1, n_outputs), 2)
        return round(base, 2)

    def _pick_failure(self, path: str, family: str) -> tuple[str, str, Any] | None:
        """(errorCode, errorMessage, failedReason) if the task should fail: an armed fault, else the
        configured failure rate. Model-API failures carry ``failedReason`` {} (there is no ComfyUI
        node); workflow/AI-app failures the ComfyUI detail of the failing node."""
        cfg = self.config
        for kind, code in _MODEL_FAULTS.items():
            fault = self.faults.take(kind, path)
            if fault is not None:
                code = str(fault.params.get("code") or code)
                message = fault.params.get("message") or v2_message(code)
                return code, message, {} if family == "standard" else _failed_reason(message)
        fault = self.faults.take("fail_tasks", path)
        if fault is not None:
            code = str(fault.params["code"])
            message = fault.params["message"] or v2_message(code)
            default = {} if family == "standard" else _failed_reason(message)
            return code, message, fault.params["reason"] or default
        if cfg.failure_rate and self.random() < cfg.failure_rate:
            msg = v2_message(cfg.failure_code)
            return cfg.failure_code, msg, {} if family == "standard" else _failed_reason(msg)
        return None

    # ---- creation ---------------------------------------------------------------------------------
    def create_task(
        self,
        *,
        key: str,
        family: str,
        api: str,
        endpoint: str,
        submit_path: str,
        kind: str,
        outputs: list[Output],
        price: float,
        origin: str,
        webhook_url: str | None,
        unknown_keys: Iterable[str] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> Task:
        """Admit a new task or raise ``Refusal`` (416 empty wallet, 421 queue full) in ``api``'s shape."""
        cfg = self.config
        acct = self.store.account(key)
        if acct.balance <= 0 or acct.balance < price:
            self.stats.count_code(416)
            if api == "legacy":
                raise Refusal(legacy_error(416))
            raise Refusal(v2_error(cfg.insufficient_balance_code))
        task = Task(
            task_id=new_task_id(),
            key=key,
            family=family,
            endpoint=endpoint,
            output_type=kind,
            client_id=self.hex32(),
            duration=self.duration_for(endpoint if family == "standard" else family, kind, key),
            origin=origin,
            outputs=outputs,
            price=price,
            webhook_url=webhook_url or None,
            unknown_keys=tuple(unknown_keys),
            meta={"api": api, **(meta or {})},
        )
        task.fail = self._pick_failure(submit_path, family)
        task.never_finish = self.faults.take("never_finish", submit_path) is not None
        if self.faults.take("empty_outputs", submit_path) is not None:
            task.outputs = []
        instant = cfg.instant_success
        if task.fail and task.fail[0] in REFUSED_AT_ONCE:
            # Moderation refuses at once: the task exists, is FAILED in the submit answer and costs
            # nothing (S11: taskId + status FAILED + 1501, every cost field null).
            self.store.add_finished(task, "FAILED")
        elif (instant is True or (isinstance(instant, frozenset) and endpoint in instant)) and not task.never_finish:
            self.store.add_finished(task, "FAILED" if task.fail else "SUCCESS")
        elif not self.store.admit(task, queue_seconds=cfg.queue_seconds):
            self.stats.count_code(421)
            if api == "legacy":
                raise Refusal(legacy_error(421, status_code=cfg.queue_full_http_status))
            raise Refusal(v2_error("421", status_code=cfg.queue_full_http_status))
        self.stats.count_task(key, endpoint)
        self.stats.count_unknown_keys(endpoint, task.unknown_keys)
        running, waiting = self.store.counts(key)
        self.stats.note_in_flight(key, running + waiting)
        return task

    def _on_end(self, task: Task) -> None:
        """Called by the store (under its lock) when a task becomes terminal: charge for success."""
        if task.final == "SUCCESS" and self.config.charge and task.price:
            acct = self.store.account(task.key)
            acct.balance = round(acct.balance - task.price, 4)
            acct.spent = round(acct.spent + task.price, 4)

    # ---- rendering --------------------------------------------------------------------------------
    def files_origin(self, api_origin: str) -> str:
        """Where result and upload files are served: the storage ("CDN") listener when there is one,
        as the real service serves them from storage hosts, not from the API host (S06, S11)."""
        return self.cdn_origin if self.cdn_origin and self.config.separate_cdn else api_origin

    def result_url(self, task: Task, index: int, ext: str) -> str:
        path = f"/media/output/{task.task_id}/{index}.{ext}"
        finished = task.wall(task.finished_at if task.finished_at is not None else task.created)
        token = self.signer.sign(path, finished + self.config.url_ttl_seconds)
        return f"{self.files_origin(task.origin)}{path}?Rh-Comfy-Auth={token}"

    def results(self, task: Task) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for i, out in enumerate(task.outputs):
            if out.ext == "text":
                item: dict[str, Any] = {"url": None, "outputType": "text", "text": out.text}
            else:
                item = {"url": self.result_url(task, i, out.ext), "outputType": out.ext, "text": None}
            if out.node_id is not None:
                item["nodeId"] = out.node_id
            items.append(item)
        return items

    def usage(self, task: Task) -> dict[str, Any] | None:
        """Cost of a terminal task as the service reports it, None before. Failed and cancelled tasks
        cost nothing (every field null, S11). Model-API tasks report the API money and
        ``taskCostTime`` "0" (S06); workflow/AI-app tasks their run seconds and, by key kind, coins
        (consumer, S14/S17) or money (enterprise)."""
        if task.final is None:
            return None
        if task.final != "SUCCESS":
            return dict.fromkeys(("consumeMoney", "consumeCoins", "taskCostTime", "thirdPartyConsumeMoney"))
        money = money_text(task.price)
        if task.family == "standard":
            return {"consumeMoney": None, "consumeCoins": None, "taskCostTime": "0", "thirdPartyConsumeMoney": money}
        secs = max(0, int(round(task.cost_seconds())))
        if self.config.key_kind(task.key) == "consumer":
            coins = str(max(1, math.ceil(secs * self.config.coins_per_second)))
            return {
                "consumeMoney": None,
                "consumeCoins": coins,
                "taskCostTime": str(secs),
                "thirdPartyConsumeMoney": None,
            }
        return {"consumeMoney": money, "consumeCoins": None, "taskCostTime": str(secs), "thirdPartyConsumeMoney": None}

    def prompt_tips(self, task: Task) -> str:
        nodes = [o.node_id for o in task.outputs if o.node_id] or ["4"]
        return json.dumps(
            {
                "result": True,
                "error": None,
                "outputs_to_execute": list(dict.fromkeys(nodes)),
                "node_errors": {},
            }
        )

    def task_object(self, task: Task, *, submit: bool = False) -> dict[str, Any]:
        """The v2 task object. The submit answer is the documented one (S02: clientId and promptTips
        set, no failedReason/usage); a query answer also carries ``failedReason`` ({} unless a node
        failed), ``usage``, ``parentTaskId`` and ``taskUsageList`` (S06 webhook, S07), and for model-API
        tasks an empty clientId and promptTips (S06, S07)."""
        status = task.status(self.store.clock())
        standard = task.family == "standard"
        obj: dict[str, Any] = {
            "taskId": task.task_id,
            "status": status,
            "errorCode": "",
            "errorMessage": "",
            "results": None,
            "clientId": "" if standard and not submit else task.client_id,
            "promptTips": "" if standard and not submit else self.prompt_tips(task),
        }
        failed_reason: Any = {}
        if status == "SUCCESS":
            obj["results"] = self.results(task)
        elif status == "FAILED" and task.fail:
            obj["errorCode"], obj["errorMessage"], failed_reason = task.fail
        if not submit or status in ("SUCCESS", "FAILED"):
            usage = self.usage(task)
            obj["failedReason"] = failed_reason
            obj["usage"] = usage
            obj["parentTaskId"] = None
            obj["taskUsageList"] = (
                [{"taskId": int(task.task_id), "parentTaskId": None, "taskStatus": status, "usage": usage}]
                if task.final
                else None
            )
        return obj

    def legacy_outputs(self, task: Task, *, numeric_cost_time: bool = False) -> tuple[int, Any]:
        """(code, data) of /task/openapi/outputs for ``task`` (S01, S04, S14): 813 queued, 804 running
        (``data.netWssUrl``), 805 failed (``data.failedReason``), 0 with one item per output file
        (``[]`` when the task produced none). Items carry ``consumeCoins`` for consumer keys (S14).
        ``numeric_cost_time``: the legacy webhook's eventData gives taskCostTime as a number (S01)."""
        status = task.status(self.store.clock())
        if status == "QUEUED":
            return 813, None
        if status == "RUNNING":
            return 804, {"netWssUrl": self._wss_url(task)}
        if status in ("FAILED", "CANCEL"):
            if task.fail and task.fail[2]:
                reason = task.fail[2]
            else:
                reason = _failed_reason((task.fail[1] if task.fail else None) or "Task was cancelled|任务已取消")
            return 805, {"failedReason": reason}
        usage = self.usage(task) or {}
        items = []
        for r in self.results(task):
            item: dict[str, Any] = {
                "fileUrl": r["url"] if r["url"] is not None else "",
                "fileType": "txt" if r["outputType"] == "text" else r["outputType"],
                "taskCostTime": int(usage["taskCostTime"]) if numeric_cost_time else usage["taskCostTime"],
                "nodeId": r.get("nodeId", "9"),
            }
            if usage.get("consumeCoins") is not None:
                item["consumeCoins"] = usage["consumeCoins"]
            if r["text"] is not None:
                item["text"] = r["text"]
            items.append(item)
        return 0, items

    def _wss_url(self, task: Task) -> str:
        """The progress WebSocket a running workflow task reports (the emulator serves none: the docs
        call it unstable and advise polling)."""
        host = task.origin.split("://", 1)[-1]
        token = self.signer.sign("/ws", 0)
        return f"wss://{host}/ws/c_instance?clientId={task.client_id}&Rh-Comfy-Auth={token}"

    def legacy_submit_data(self, task: Task) -> dict[str, Any]:
        status = task.status(self.store.clock())
        return {
            "netWssUrl": self._wss_url(task) if status == "RUNNING" else None,
            "taskId": task.task_id,
            "clientId": task.client_id,
            "taskStatus": status,
            "promptTips": self.prompt_tips(task),
        }

    # ---- webhooks ---------------------------------------------------------------------------------
    def webhook_record(self, task: Task) -> WebhookRecord:
        if task.meta.get("api") == "legacy":
            code, data = self.legacy_outputs(task, numeric_cost_time=True)
            event_data: Any = json.dumps(
                {"code": code, "msg": legacy_msg(code), "data": data},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            event_str = event_data
        else:
            obj = self.task_object(task)
            event_data = obj
            event_str = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        payload = {"event": "TASK_END", "taskId": task.task_id, "eventData": event_data}
        return WebhookRecord(task.task_id, task.key, task.webhook_url or "", payload, event_str)

    def tick(self) -> None:
        """Advance the clock and send webhooks for tasks that ended (runs on the server loop)."""
        self.store.advance()
        for task in self.store.drain_ended():
            if task.webhook_url:
                self.webhooks.dispatch(self.webhook_record(task))

    async def run_ticker(self, interval: float = 0.05) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # pragma: no cover - a bug here must not stop the clock
                _log.exception("emulator tick failed")
            nxt = self.store.next_event_in()
            await asyncio.sleep(min(interval, nxt) if nxt is not None else interval)

    # ---- misc ---------------------------------------------------------------------------------------
    def json_ok(self, data: Any) -> Response:
        return json_response({"code": 0, "msg": "success", "data": data})

    def close(self) -> None:
        self.uploads.close()


def _failed_reason(message: str) -> dict[str, Any]:
    """ComfyUI-style failure detail, the shape the legacy outputs call and v2 ``failedReason`` use."""
    en = message.split("|", 1)[0]
    return {
        "node_id": "4",
        "node_name": "RHModelNode",
        "exception_type": "RuntimeError",
        "exception_message": en,
        "traceback": json.dumps([f"RuntimeError: {en}\n"]),
        "current_inputs": "{}",
        "current_outputs": "{}",
    }


#: Named model-API failure faults and their codes (the 15xx range is only partly published:
#: ``model_error`` takes any code and message).
_MODEL_FAULTS = {
    "content_refused": "1501",
    "real_person_refused": "1505",
    "model_timeout": "1504",
    "model_error": "1015",
}
#: Failures the service reports in the submit answer itself: moderation happens before any run.
REFUSED_AT_ONCE = frozenset({"1501", "1505"})


def money_text(v: float) -> str:
    s = f"{v:.3f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"
