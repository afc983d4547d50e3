"""rh-mcp settings: command-line flags over ``RH_MCP_*`` environment variables over defaults.

Kept free of MCP imports so ``rh-mcp --help`` works (and says how to install the extra) even
when the ``mcp`` package is missing.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rh_tools._version import __version__

__all__ = ["API_KEY_HEADER", "DEFAULT_MAX_WAIT", "ServerConfig", "build_parser", "parse_args"]

API_KEY_HEADER = "X-RunningHub-Api-Key"
# Many MCP clients abandon a tool call after ~60 s unless progress resets their timer, and an
# abandoned call loses the task id the agent needs to collect a paid result. So by default a tool
# returns the task id (and how to resume) before that point; raise it for clients that wait longer.
DEFAULT_MAX_WAIT = 50.0
DEFAULT_HEARTBEAT = 5.0
DEFAULT_PREVIEW_KB = 256
# HTTP transport: how many sessions may be open at once (a client flooding them evicts its own idle
# ones first and may hold at most half), how long an idle one lives, and how long a client may
# take to send one request's headers and body (slow clients must not hold connections forever).
DEFAULT_MAX_SESSIONS = 200
DEFAULT_SESSION_IDLE = 600.0
DEFAULT_READ_TIMEOUT = 10.0
CATEGORIES = ("image", "video", "audio", "3d", "text")

_EPILOG = f"""\
Tool surface
  By default rh-mcp lists 13 generic tools (search_models, describe_model, run_model, price_model,
  get_task, wait_task, list_tasks, cancel_task, upload_file, get_account, run_workflow, run_ai_app,
  describe_workflow), about 1,950 tokens of tools/list, which reach every RunningHub model.
  Per-model tools such as grok_image_to_image are opt-in with --tools, --categories,
  --output-types or --all-tools. MCP clients cap how many tools they use (Cursor sends only the
  first ~40, Windsurf ~50; OpenAI refuses over 128) and every tool costs context: --all-tools
  means ~335 tools (~130,000 tokens). Prefer a short --tools list.

Local files
  Media parameters accept URLs, data URIs and local paths. Local paths are read only inside
  --allow-dir folders and the MCP roots your client shares (stdio only, unless --client-roots on);
  with neither, local files are refused.

Time limits
  A run waits at most --max-wait seconds (default {DEFAULT_MAX_WAIT:g}), sending progress notifications
  every --heartbeat seconds to clients that asked for them, then returns the task id; the agent
  collects the result with wait_task. Many clients time tool calls out after ~60 s.

Environment
  RUNNINGHUB_API_KEY (required to run models), RUNNINGHUB_BASE_URL / RUNNINGHUB_SITE, and
  RH_MCP_<FLAG> for every flag below (e.g. RH_MCP_TOOLS, RH_MCP_ALLOW_DIRS with '{os.pathsep}' between
  folders, RH_MCP_TOKEN for --auth-token). In HTTP mode a client may send its own key in the
  {API_KEY_HEADER} header.
"""


@dataclass
class ServerConfig:
    """Everything that shapes one rh-mcp server. Tests build it directly; the CLI via :func:`parse_args`."""

    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    path: str = "/mcp"
    auth_token: str | None = field(default=None, repr=False)
    allowed_hosts: list[str] = field(default_factory=list)  # extra Host header values (host or host:port)
    allow_unauthenticated: bool = False  # start on a non-loopback address without a token
    max_sessions: int = DEFAULT_MAX_SESSIONS
    session_idle_timeout: float = DEFAULT_SESSION_IDLE
    read_timeout: float = DEFAULT_READ_TIMEOUT
    tools: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    output_types: list[str] = field(default_factory=list)
    all_tools: bool = False
    generic: bool = True
    max_wait: float | None = DEFAULT_MAX_WAIT
    heartbeat: float = DEFAULT_HEARTBEAT
    allow_dirs: list[Path] = field(default_factory=list)
    client_roots: str = "auto"  # auto: trusted over stdio only (over HTTP they name the client's disk)
    output_dir: Path | None = None
    inline_preview: bool = False
    preview_max_kb: int = DEFAULT_PREVIEW_KB
    cancel_on_abort: bool = False
    # Spending limits in the account's currency (None: RUNNINGHUB_MAX_COST_* or none). See rh_tools._budget.
    max_cost_per_call: float | None = None
    max_cost_per_session: float | None = None
    max_cost_per_day: float | None = None
    log_level: str = "WARNING"
    # Client settings; None means the RUNNINGHUB_* environment (tests point these at the emulator).
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    poll_interval: float | None = None
    # Several replicas (issue #15): a shared journal/limiter, stateless HTTP, callbacks through a balancer.
    store: str | None = None  # None: RUNNINGHUB_STORE
    max_concurrency: str | None = None  # None: RUNNINGHUB_MAX_CONCURRENCY
    stateless: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_poll: float = 10.0  # a lost callback costs at most this much lag

    @property
    def use_client_roots(self) -> bool:
        return self.client_roots == "on" or (self.client_roots == "auto" and self.transport == "stdio")


def _split(values: Sequence[str] | str | None, sep: str = ",") -> list[str]:
    if not values:
        return []
    items = [values] if isinstance(values, str) else list(values)
    return [part.strip() for item in items for part in item.split(sep) if part.strip()]


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get("RH_MCP_" + name, "").strip().lower() in ("1", "true", "yes", "on")


def build_parser(env: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    env = os.environ if env is None else env

    def e(name: str, default: str | None = None) -> str | None:
        return env.get("RH_MCP_" + name) or default

    p = argparse.ArgumentParser(
        prog="rh-mcp",
        description="MCP server for RunningHub: every RunningHub image, video, audio, 3D and text model "
        "as MCP tools (stdio by default, or streamable HTTP).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"rh-mcp {__version__}")
    t = p.add_argument_group("transport")
    t.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default=e("TRANSPORT", "stdio"),
        help="stdio (default; the client starts rh-mcp) or http (streamable HTTP server).",
    )
    t.add_argument(
        "--host",
        default=e("HOST", "127.0.0.1"),
        help="HTTP bind address (default 127.0.0.1; [::1] for IPv6 loopback). Any other address needs "
        "--auth-token (or --allow-unauthenticated).",
    )
    t.add_argument("--port", type=int, default=int(e("PORT", "8000") or 8000), help="HTTP port (default 8000).")
    t.add_argument("--path", default=e("PATH", "/mcp"), help="HTTP endpoint path (default /mcp).")
    t.add_argument(
        "--auth-token",
        default=e("TOKEN"),
        metavar="TOKEN",
        help="HTTP: require 'Authorization: Bearer TOKEN' (prefer the RH_MCP_TOKEN variable).",
    )
    t.add_argument(
        "--allowed-host",
        action="append",
        default=_split(e("ALLOWED_HOSTS")),
        metavar="HOST[:PORT]",
        help="HTTP: also accept requests whose Host header names this host (repeatable; the bind address "
        "and, on loopback, localhost are always accepted). Guards against DNS rebinding.",
    )
    t.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        default=_flag(env, "ALLOW_UNAUTHENTICATED"),
        help="HTTP: start on a non-loopback address without --auth-token (anyone who reaches the port "
        "can spend your credits). Without this flag rh-mcp refuses to start that way.",
    )
    t.add_argument(
        "--max-sessions",
        type=int,
        default=int(e("MAX_SESSIONS", str(DEFAULT_MAX_SESSIONS)) or DEFAULT_MAX_SESSIONS),
        metavar="N",
        help=f"HTTP: open sessions at most (default {DEFAULT_MAX_SESSIONS}); at the cap the least recently "
        "used idle session of the client holding most is closed, and no client holds more than half.",
    )
    t.add_argument(
        "--session-idle-timeout",
        type=float,
        default=float(e("SESSION_IDLE_TIMEOUT", str(DEFAULT_SESSION_IDLE)) or DEFAULT_SESSION_IDLE),
        metavar="SECONDS",
        help=f"HTTP: close a session after this long without requests (default {DEFAULT_SESSION_IDLE:g}).",
    )
    t.add_argument(
        "--read-timeout",
        type=float,
        default=float(e("READ_TIMEOUT", str(DEFAULT_READ_TIMEOUT)) or DEFAULT_READ_TIMEOUT),
        metavar="SECONDS",
        help=f"HTTP: a client must send a request's headers and body within this time (default "
        f"{DEFAULT_READ_TIMEOUT:g}); slower connections are closed.",
    )

    s = p.add_argument_group("tool surface")
    s.add_argument(
        "--tools",
        action="append",
        default=_split(e("TOOLS")),
        metavar="NAMES",
        help="Comma-separated tool names to add, e.g. grok_image_to_image (generic names allowed "
        "with --no-generic to pick a subset).",
    )
    s.add_argument(
        "--categories",
        action="append",
        default=_split(e("CATEGORIES")),
        metavar="LIST",
        help=f"Add the per-model tools of these categories ({','.join(CATEGORIES)}).",
    )
    s.add_argument(
        "--output-types",
        action="append",
        default=_split(e("OUTPUT_TYPES")),
        metavar="LIST",
        help="Add the per-model tools that make these outputs (image,video,audio,3d,text).",
    )
    s.add_argument(
        "--all-tools",
        action="store_true",
        default=_flag(env, "ALL_TOOLS"),
        help="Add all ~325 per-model tools (~130k tokens; most clients cap tool counts).",
    )
    s.add_argument(
        "--no-generic",
        action="store_true",
        default=_flag(env, "NO_GENERIC"),
        help="Drop the generic tools.",
    )

    r = p.add_argument_group("runs")
    r.add_argument(
        "--max-wait",
        type=float,
        default=float(e("MAX_WAIT", str(DEFAULT_MAX_WAIT)) or DEFAULT_MAX_WAIT),
        metavar="SECONDS",
        help=f"Longest a tool call waits before returning the task id "
        f"(default {DEFAULT_MAX_WAIT:g}; keep it under your client's tool timeout).",
    )
    r.add_argument(
        "--heartbeat",
        type=float,
        default=float(e("HEARTBEAT", str(DEFAULT_HEARTBEAT)) or 5),
        metavar="SECONDS",
        help=f"Progress notification interval while waiting (default {DEFAULT_HEARTBEAT:g}).",
    )
    r.add_argument(
        "--cancel-on-abort",
        action="store_true",
        default=_flag(env, "CANCEL_ON_ABORT"),
        help="When the client cancels a run, also cancel the RunningHub task (default: leave it running).",
    )

    m = p.add_argument_group("spending limits (in the account's currency; refused before submit)")
    for name, what in (("call", "one run"), ("session", "this server's runs"), ("day", "runs since midnight")):
        env_name = f"MAX_COST_PER_{name.upper()}"
        m.add_argument(
            f"--max-cost-per-{name}",
            type=float,
            default=e(env_name),  # argparse applies type= to a string default
            metavar="AMOUNT",
            help=f"Most that {what} may cost (default: RUNNINGHUB_{env_name}, else no limit).",
        )

    f = p.add_argument_group("files")
    f.add_argument(
        "--allow-dir",
        action="append",
        default=_split(e("ALLOW_DIRS"), os.pathsep),
        metavar="DIR",
        help="Folder whose files may be uploaded as inputs (repeatable).",
    )
    f.add_argument(
        "--client-roots",
        choices=("auto", "on", "off"),
        default=e("CLIENT_ROOTS", "auto"),
        help="Also allow the client's MCP roots: auto = over stdio only (default).",
    )
    f.add_argument(
        "--output-dir",
        default=e("OUTPUT_DIR"),
        metavar="DIR",
        help="Also download outputs here (sanitized names); links to the files are returned.",
    )
    f.add_argument(
        "--inline-preview",
        action="store_true",
        default=_flag(env, "INLINE_PREVIEW"),
        help="Add thumbnails of image outputs (JPEG, <= 1,024 px) for the model to look at "
        "(needs rh-tools[preview]; off: results carry links, not base64).",
    )
    f.add_argument(
        "--preview-max-kb",
        type=int,
        default=int(e("PREVIEW_MAX_KB", str(DEFAULT_PREVIEW_KB)) or 256),
        metavar="KB",
        help=f"Largest thumbnail --inline-preview adds, in KB (default {DEFAULT_PREVIEW_KB}).",
    )

    m = p.add_argument_group("several replicas (docs/replicas.md)")
    m.add_argument(
        "--store",
        default=e("STORE"),
        metavar="URL",
        help="Task journal: a file path, or redis://host:port/db to share tasks, task slots and callbacks "
        "with every replica on that Redis (default: RUNNINGHUB_STORE, else a local SQLite file).",
    )
    m.add_argument(
        "--max-concurrency",
        default=e("MAX_CONCURRENCY"),
        metavar="N",
        help="Tasks in flight per account across all replicas on the same --store (a number, or auto to "
        "read the account's limit); others wait their turn instead of hitting queue-full refusals.",
    )
    m.add_argument(
        "--stateless",
        action="store_true",
        default=_flag(env, "STATELESS"),
        help="HTTP: no MCP sessions, so any replica behind a load balancer can serve any request.",
    )
    m.add_argument(
        "--webhook-url",
        default=e("WEBHOOK_URL"),
        metavar="URL",
        help="HTTP: public base URL of this server (or its load balancer); RunningHub POSTs task ends to "
        "URL/rh-webhook/<RH_MCP_WEBHOOK_SECRET>, which ends waits on any replica at once.",
    )
    m.add_argument(
        "--webhook-poll",
        type=float,
        default=float(e("WEBHOOK_POLL", "10") or 10),
        metavar="SECONDS",
        help="With --webhook-url: poll every SECONDS as a fallback for lost callbacks (default 10).",
    )

    p.add_argument(
        "--log-level",
        default=e("LOG_LEVEL", "WARNING"),
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="stderr log level (default WARNING).",
    )
    p.add_argument(
        "--list-tools",
        action="store_true",
        help="Print the selected tools and the tools/list size in tokens, then exit.",
    )
    return p


def parse_args(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[ServerConfig, argparse.Namespace]:
    parser = build_parser(env)
    ns = parser.parse_args(argv)
    if ns.max_wait is not None and ns.max_wait <= 0:
        parser.error("--max-wait must be > 0")
    if ns.heartbeat <= 0:
        parser.error("--heartbeat must be > 0")
    bad = [c for c in _split(ns.categories) + _split(ns.output_types) if c not in CATEGORIES]
    if bad:
        parser.error(f"unknown categories/output types {bad}; choose from {', '.join(CATEGORIES)}")
    if not ns.path.startswith("/"):
        parser.error("--path must start with '/'")
    if ns.max_sessions < 1 or not ns.session_idle_timeout > 0 or not ns.read_timeout > 0:
        parser.error("--max-sessions must be >= 1, --session-idle-timeout and --read-timeout > 0")
    limits = (ns.max_cost_per_call, ns.max_cost_per_session, ns.max_cost_per_day)
    if any(v is not None and v < 0 for v in limits):
        parser.error("--max-cost-* must be >= 0")
    if ns.webhook_url and not ns.webhook_url.startswith(("http://", "https://")):
        parser.error("--webhook-url must start with http:// or https://")
    if ns.webhook_poll <= 0:
        parser.error("--webhook-poll must be > 0")
    config = ServerConfig(
        transport=ns.transport,
        host=ns.host,
        port=ns.port,
        path=ns.path,
        auth_token=ns.auth_token or None,
        allowed_hosts=_split(ns.allowed_host),
        allow_unauthenticated=ns.allow_unauthenticated,
        max_sessions=ns.max_sessions,
        session_idle_timeout=ns.session_idle_timeout,
        read_timeout=ns.read_timeout,
        tools=_split(ns.tools),
        categories=_split(ns.categories),
        output_types=_split(ns.output_types),
        all_tools=ns.all_tools,
        generic=not ns.no_generic,
        max_wait=ns.max_wait,
        heartbeat=ns.heartbeat,
        allow_dirs=[Path(d.strip()) for d in ns.allow_dir if d.strip()],
        client_roots=ns.client_roots,
        output_dir=Path(ns.output_dir) if ns.output_dir else None,
        inline_preview=ns.inline_preview,
        preview_max_kb=ns.preview_max_kb,
        cancel_on_abort=ns.cancel_on_abort,
        max_cost_per_call=ns.max_cost_per_call,
        max_cost_per_session=ns.max_cost_per_session,
        max_cost_per_day=ns.max_cost_per_day,
        log_level=ns.log_level,
        store=ns.store or None,
        max_concurrency=ns.max_concurrency or None,
        stateless=ns.stateless,
        webhook_url=ns.webhook_url or None,
        webhook_secret=(env if env is not None else os.environ).get("RH_MCP_WEBHOOK_SECRET") or None,
        webhook_poll=ns.webhook_poll,
    )
    return config, ns
