"""deploy/compose.yaml (two rh-mcp replicas, Redis, nginx): docker cannot run here, so its parts are
checked by reading, and the replicas' own commands run as processes against the emulator and a
real redis-server, sharing one journal and one account's slots."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from redis_support import RedisServer, free_port
from test_replicas import _wait_port, data, mcp

from mcp_server.config import parse_args
from mcp_server.http import allowed_hosts
from rh_tools.emulator import Emulator

DEPLOY = ROOT / "deploy"
KEY = "d" * 32
GROK = {"prompt": "a fox", "imageUrl": "https://example.com/a.png"}


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def substitute(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == ":-":
            return arg or ""
        raise AssertionError(f"compose needs {name}: {arg}")

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, text)


def test_the_compose_file_wires_redis_two_replicas_and_a_balancer() -> None:
    services = compose()["services"]
    replicas = {n: s for n, s in services.items() if s.get("command", [""])[0] == "rh-mcp"}
    assert set(services) == {"redis", "balancer", *replicas} and len(replicas) == 2
    commands = {tuple(s["command"]) for s in replicas.values()}
    assert len(commands) == 1  # the same server twice
    (command,) = commands
    assert "--stateless" in command and command[command.index("--store") + 1] == "redis://redis:6379/0"
    assert "--appendonly" in services["redis"]["command"]
    nginx = (DEPLOY / "nginx.conf").read_text()
    operator = {"PUBLIC_URL": "https://mcp.example.com"}
    config, _ = parse_args([substitute(a, operator) for a in command[1:]], {"RH_MCP_TOKEN": "t"})
    (host,) = re.findall(r"proxy_set_header Host (\S+);", nginx)
    assert host in allowed_hosts(config) and config.stateless and config.auth_token  # HostGuard lets nginx in
    port = command[command.index("--port") + 1]
    assert sorted(re.findall(r"server (\S+);", nginx)) == sorted(f"{n}:{port}" for n in replicas)
    assert "proxy_buffering off" in nginx and services["balancer"]["volumes"][0].startswith("./nginx.conf:")
    build = services["rh-mcp-1"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert '"/src[mcp,redis]"' in (DEPLOY / "Dockerfile").read_text()
    secrets = ("RUNNINGHUB_API_KEY", "RH_MCP_TOKEN", "RH_MCP_WEBHOOK_SECRET")
    for replica in replicas.values():  # secrets come from the operator's environment, never the file
        assert all(str(replica["environment"][k]).startswith("${") for k in secrets)
    with pytest.raises(AssertionError, match="PUBLIC_URL"):
        substitute(" ".join(command), {})


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


async def test_the_replicas_commands_share_one_account(redis_server: RedisServer, tmp_path: Path) -> None:
    services = compose()["services"]
    ports = [free_port(), free_port()]
    operator = {  # what the operator exports before `docker compose up`
        "RUNNINGHUB_API_KEY": KEY,
        "RH_MCP_TOKEN": "t0ken",
        "RH_MCP_WEBHOOK_SECRET": "s3cret-s3cret",
        "PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",  # the balancer; here the first replica stands in
        "RUNNINGHUB_MAX_CONCURRENCY": "2",
    }
    rh_mcp = str(Path(sys.executable).with_name("rh-mcp"))
    procs = []
    with Emulator(port=0, durations={"image": 0.3}, concurrency=2, queue_limit=0) as emu:
        try:
            for i, name in enumerate(("rh-mcp-1", "rh-mcp-2")):
                args = [substitute(str(a), operator) for a in services[name]["command"]]
                args[0] = rh_mcp
                args[args.index("--host") + 1] = "127.0.0.1"  # 0.0.0.0 inside a container
                args[args.index("--port") + 1] = str(ports[i])
                args[args.index("--store") + 1] = redis_server.url  # the compose service name "redis"
                env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNNINGHUB_", "RH_MCP_"))}
                env.update({k: substitute(str(v), operator) for k, v in services[name]["environment"].items()})
                env["RUNNINGHUB_STORE_FALLBACK"] = str(tmp_path / f"{name}.sqlite3")  # /state in the container
                env["RUNNINGHUB_BASE_URL"] = emu.base_url
                log = tmp_path / f"{name}.log"
                with open(log, "wb") as err:
                    procs.append(subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err))
                _wait_port(ports[i], procs[-1], log)
            headers = {"Authorization": "Bearer t0ken"}
            async with mcp(f"http://127.0.0.1:{ports[1]}", headers=headers) as client:
                ran = data(await client.call_tool("run_model", {"name": "grok_image_to_image", "params": GROK}))
            async with mcp(f"http://127.0.0.1:{ports[0]}", headers=headers) as client:
                listed = data(await client.call_tool("list_tasks", {}))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
        assert ran["status"] == "SUCCESS" and [t["task_id"] for t in listed["tasks"]] == [ran["task_id"]]
        assert emu.webhooks[0].webhook_url == f"http://127.0.0.1:{ports[0]}/rh-webhook/s3cret-s3cret"
        assert emu.stats.requests_by_path.get("/openapi/v2/queue/status") is None  # N given: no "auto" look-up
