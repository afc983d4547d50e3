"""Serving result files and uploads back, behind signed ``Rh-Comfy-Auth`` links.

Why the emulator serves them itself: clients must be able to download what a task "made" and
fetch what they uploaded, and a stripped, altered or expired link must fail with HTTP 403 as a
signed CDN link does, so download code paths are tested too.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .core import Core
from .media import asset_for

__all__ = ["file_routes"]

_DENIED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>'
)
_MISSING = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code></Error>'


def _xml(body: str, status: int) -> Response:
    return Response(body, status_code=status, media_type="application/xml")


def file_routes(core: Core) -> list[Route]:
    async def media(request: Request) -> Response:
        path = request.url.path
        if not core.signer.check(path, request.query_params.get("Rh-Comfy-Auth")):
            return _xml(_DENIED, 403)
        rest = request.path_params["file"]
        if rest.startswith("output/"):
            _, task_id, name = (rest.split("/") + ["", ""])[:3]
            task = core.store.get(task_id)
            stem = name.partition(".")[0]
            if task is None or task.final != "SUCCESS" or not stem.isdigit() or int(stem) >= len(task.outputs):
                return _xml(_MISSING, 404)
            file, media_type = asset_for(task.outputs[int(stem)].ext)
            core.stats.count_download()
            return FileResponse(file, media_type=media_type)
        stored = core.uploads.get(rest)
        if stored is None:
            return _xml(_MISSING, 404)
        core.stats.count_download()
        return FileResponse(stored.path, media_type=stored.media_type)

    async def health(request: Request) -> Response:
        return Response("ok", media_type="text/plain")

    return [
        Route("/media/{file:path}", media, methods=["GET", "HEAD"]),
        Route("/__emulator__/health", health, methods=["GET"]),
    ]
