"""The local WhatsApp simulator: two phones and the business number, with no Meta account.

It is the Graph API the channel sends to (`FakeGraphAPI`), and the phones that write to
the business: what you type is posted to Posta's real WhatsApp webhook, signed with the
app secret, shaped like Meta's payloads. So what the phones show is what WhatsApp would
deliver: text, reply buttons, lists, templates, the agent's case notifications.

    WHATSAPP_APP_SECRET=... python -m simulator --webhook http://localhost:5005/webhooks/whatsapp/webhook

The app secret and the access token come from the environment (WHATSAPP_APP_SECRET,
WHATSAPP_ACCESS_TOKEN), never the command line, where any user of the machine can read
them. The page's API answers only the page itself: a request from another site's page
(which could make an agent's phone write `borrar <phone>`) is refused.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
from aiohttp import web

from posta import config as posta_config
from posta import media as documented_media
from posta import web as posta_web
from posta.whatsapp.inbound import sign
from simulator.graph_api import FakeGraphAPI, RunningServer

logger = logging.getLogger(__name__)
PAGE = Path(__file__).with_name("page.html")
BUSINESS_NUMBER = "5491150000000"


@dataclass
class Simulator:
    webhook_url: str
    app_secret: str
    graph: FakeGraphAPI = field(default_factory=FakeGraphAPI)
    customer: Dict[str, str] = field(default_factory=lambda: {"phone": "5491155550123", "name": "Lucía"})
    panel_url: Optional[str] = None
    sent: List[Dict[str, Any]] = field(default_factory=list)  # what the phones wrote
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def phones(self) -> List[Dict[str, str]]:
        agents = [{"phone": a.phone, "name": a.name, "role": "agent"} for a in posta_config.current().agents]
        return [{**self.customer, "role": "customer"}] + agents

    def timeline(self) -> List[Dict[str, Any]]:
        """Every message to or from a phone, in time order."""
        delivered = [
            {"at": r.at, "phone": r.body.get("to"), "direction": "in", "body": r.body, "id": r.wamid}
            for r in self.graph.attempts()
            if r.accepted and "status" not in r.body  # read marks are not messages
        ]
        return sorted(delivered + self.sent, key=lambda m: m["at"])

    async def write(self, phone: str, name: str, message: Dict[str, Any]) -> int:
        """Posts what a phone wrote to the business number, as Meta would; returns the status."""
        message = {
            "from": phone,
            "id": f"wamid.SIM{int(time.time() * 1000)}{next(self._ids)}",
            "timestamp": str(int(time.time())),
            **message,
        }
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "SIM",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": BUSINESS_NUMBER,
                                        "phone_number_id": self.graph.phone_number_id,
                                    },
                                    "contacts": [{"profile": {"name": name}, "wa_id": phone}],
                                    "messages": [message],
                                },
                            }
                        ],
                    }
                ],
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, self.app_secret)}
        async with aiohttp.ClientSession() as session:
            async with session.post(self.webhook_url, data=body, headers=headers) as response:
                status = response.status
        self.sent.append({"at": time.time(), "phone": phone, "direction": "out", "body": message, "id": message["id"]})
        return status

    # -- HTTP -------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = self.graph.app()
        app.middlewares.append(_same_site_only)
        app.router.add_get("/", self._page)
        app.router.add_get("/api/state", self._state)
        app.router.add_post("/api/send", self._send)
        return app

    async def _page(self, _: web.Request) -> web.Response:
        return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")

    async def _state(self, _: web.Request) -> web.Response:
        receipts = self.graph.receipts()
        typing_at = max((r.at for r in self.graph.attempts() if r.accepted and "typing_indicator" in r.body), default=0)
        return web.json_response(
            {
                "phones": self.phones(),
                "messages": self.timeline(),
                "panel": self.panel_url,
                "read": [message_id for message_id, _ in receipts],
                "typing_at": typing_at,
            }
        )

    async def _send(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.json_response({"error": "send JSON"}, status=415)
        data = await request.json()
        phone = str(data.get("phone", ""))
        known = {p["phone"]: p for p in self.phones()}
        if phone not in known:
            return web.json_response({"error": "unknown phone"}, status=400)
        status = await self.write(phone, data.get("name") or known[phone]["name"], self._message(data))
        return web.json_response({"webhook_status": status}, status=200 if status == 200 else 502)

    def start_in_thread(self, port: int = 0) -> RunningServer:
        return RunningServer(self.app(), "127.0.0.1", port)

    def _message(self, data: Dict[str, Any]) -> Dict[str, Any]:
        """A Cloud API message for what the page sent; a file's bytes (or a sample voice
        note's) go to the Graph API fake first, as a phone uploads them to Meta."""
        if data.get("file") or data.get("media") == "voice":
            if data.get("media") == "voice":
                content, mime_type, name = SAMPLE_VOICE, "audio/ogg; codecs=opus", None
            else:
                file = data["file"]
                content, mime_type, name = base64.b64decode(file["data"]), file.get("type") or "", file.get("name")
            kind = documented_media.kind_for(mime_type)
            media: Dict[str, Any] = {"id": self.graph.add_media(content, mime_type, name), "mime_type": mime_type}
            if kind == "audio" and data.get("media") == "voice":
                media["voice"] = True
            if kind in ("image", "video", "document") and data.get("text"):
                media["caption"] = data["text"]
            if kind == "document" and name:
                media["filename"] = name
            return {"type": kind, kind: media}
        return _message(data)


@web.middleware
async def _same_site_only(request: web.Request, handler):
    if posta_web.cross_site(request.method, request.headers):
        logger.warning("simulator: refused a cross-site %s %s", request.method, request.path)
        return web.json_response({"error": "requests from other sites are refused"}, status=403)
    return await handler(request)


def _message(data: Dict[str, Any]) -> Dict[str, Any]:
    """A Cloud API message object for what the page sent."""
    context = {"context": {"from": BUSINESS_NUMBER, "id": data["reply_to"]}} if data.get("reply_to") else {}
    if data.get("button"):
        button = data["button"]
        kind = "list_reply" if button.get("list") else "button_reply"
        return {
            "type": "interactive",
            "interactive": {"type": kind, kind: {"id": button["id"], "title": button["title"]}},
            **context,
        }
    return {"type": "text", "text": {"body": str(data.get("text", ""))}, **context}


# A voice note for the 🎤 button: an Ogg page header and silence, not a recording.
SAMPLE_VOICE = b"OggS\x00\x02" + bytes(2048)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--webhook", required=True, help="Posta's WhatsApp webhook URL")
    parser.add_argument("--port", type=int, default=5006)
    parser.add_argument("--panel", default=None, help="the team panel's URL, for a link on the page")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    secret = os.environ.get("WHATSAPP_APP_SECRET")
    if not secret:
        sys.exit("simulator: set WHATSAPP_APP_SECRET (the app secret Posta checks signatures with)")
    graph = FakeGraphAPI(access_token=os.environ.get("WHATSAPP_ACCESS_TOKEN") or "local-token")
    simulator = Simulator(args.webhook, secret, graph, panel_url=args.panel)
    web.run_app(simulator.app(), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
