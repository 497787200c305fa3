"""The Rasa server's doors: only the WhatsApp webhook and the team panel open without the
API token, and nothing opens for another site's page.

Rasa's HTTP API reads, rewrites and sends on any conversation, and its REST channel lets
a caller speak as any customer, so both need `POSTA_API_TOKEN` (`?token=`). The webhook
checks Meta's signature and the panel its sessions; the rest of the server is closed by
default, whatever routes Rasa adds. The channels install this as the server starts, so
any way of starting Rasa with Posta's channels gets it: without a token, or listening
beyond loopback when `POSTA_HOST` does not say so, the server refuses to start.
"""

from __future__ import annotations

import logging
import os

from sanic import response
from sanic.request import Request

from posta import web

logger = logging.getLogger(__name__)

OPEN = ("/webhooks/whatsapp", "/webhooks/panel")  # they check their own credentials
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def attach(blueprint) -> None:
    """Guards the server that serves `blueprint`, before it loads the model."""
    blueprint.listener("before_server_start")(lambda app, _loop: install(app))


def install(app) -> None:
    """Refuses to serve unless configured safely, then guards every request (idempotent)."""
    if getattr(app.ctx, "posta_guard", False):
        return
    token = web.secret("POSTA_API_TOKEN", "it guards Rasa's HTTP API and the REST channel")
    host = app.state.host or ""
    if host not in LOOPBACK_HOSTS and host != os.environ.get("POSTA_HOST"):
        raise web.NotConfigured(
            f"the Rasa server would listen on {host or 'every interface'}: pass "
            f"--interface 127.0.0.1, or set POSTA_HOST={host} to mean it"
        )
    app.register_middleware(_door(token), "request")
    app.register_middleware(_headers, "response")
    app.ctx.posta_guard = True


def is_open(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in OPEN)


def _door(token: str):
    async def door(request: Request):
        if web.cross_site(request.method, request.headers):
            logger.warning("refused a cross-site %s %s", request.method, request.path)
            return response.json({"error": "requests from other sites are refused"}, status=403)
        if not is_open(request.path) and not web.same_secret(request.args.get("token"), token):
            return response.json({"error": "this needs the API token: add ?token=<POSTA_API_TOKEN>"}, status=401)
        return None

    return door


async def _headers(_: Request, resp) -> None:
    for name, value in HEADERS.items():
        resp.headers.setdefault(name, value)
