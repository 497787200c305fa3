"""A local stand-in for Meta's Graph API: messages (`POST /<version>/<phone_number_id>/messages`)
and media (`GET /<version>/<media_id>` for a short-lived download URL, the download itself,
`POST /<version>/<phone_number_id>/media` to upload).

It records every request, answers like Meta (a `wamid` on success, Meta's error JSON on
failure), checks each body against the documented limits (text 4096 characters; at most
3 reply buttons of 20 characters; lists of at most 10 rows of 24 characters; interactive
bodies 1024 characters; media sent by the id of an upload; uploads of the supported types
and sizes: image 5 MB, audio and video 16 MB, sticker 500 KB, document 100 MB), expires
download URLs after `link_seconds`, and can be told to fail the next requests with a status
code or a timeout. Tests run it in a thread; the simulator serves it to the browser.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from aiohttp import web

from posta import media as documented
from posta.whatsapp.graph import ErrorCode

LIMITS = {
    "text": 4096,
    "interactive_body": 1024,
    "buttons": 3,
    "button_title": 20,
    "button_id": 256,
    "rows": 10,
    "row_title": 24,
    "row_description": 72,
    "row_id": 200,
    "list_button": 20,
    "caption": 1024,
}
# The Cloud API's "Supported media types", by message type: MIME types and the largest size.
UPLOADS = {kind: (limit.types, limit.most) for kind, limit in documented.LIMITS.items()}
MEDIA_TYPES = tuple(UPLOADS)
CAPTIONED = ("image", "video", "document")
TYPES = (
    "text",
    "interactive",
    "image",
    "template",
    "document",
    "audio",
    "video",
    "sticker",
    "location",
    "reaction",
    "contacts",
)


@dataclass
class Recorded:
    at: float
    path: str
    authorization: Optional[str]
    body: Any
    status: int
    answer: Dict[str, Any]
    wamid: Optional[str] = None

    @property
    def accepted(self) -> bool:
        return self.status == 200


@dataclass
class Media:
    content: bytes
    mime_type: str
    filename: Optional[str] = None
    uploaded: bool = False  # by the business (sendable), or sent by a phone (downloadable)


@dataclass
class FakeGraphAPI:
    phone_number_id: str = "1122334455667"
    access_token: str = "local-token"
    requests: List[Recorded] = field(default_factory=list)
    _by_recipient: Dict[str, List[Recorded]] = field(default_factory=dict)  # so lookups stay cheap under load
    listeners: List[Callable[[Recorded], None]] = field(default_factory=list)  # called for every request
    _plan: Deque[Tuple[str, Any]] = field(default_factory=deque)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _outage: Tuple[float, float] = (0.0, 0.0)
    _outage_turn: Any = field(default_factory=lambda: itertools.count())
    media: Dict[str, Media] = field(default_factory=dict)
    uploads: List[Recorded] = field(default_factory=list)
    link_seconds: float = 300.0  # how long a download URL works (Meta: minutes)
    _links: Dict[str, Tuple[str, float]] = field(default_factory=dict)  # token -> media id, expiry
    _expired_links: int = 0

    # -- what tests and the simulator ask of it ------------------------------------------

    def fail_next(self, times: int = 1, status: int = 500, code: int = 131000) -> None:
        with self._lock:
            self._plan.extend([("status", (status, code))] * times)

    def time_out_next(self, times: int = 1, seconds: float = 30.0) -> None:
        with self._lock:
            self._plan.extend([("timeout", seconds)] * times)

    def fail_for(self, seconds: float, timeout: float = 15.0) -> None:
        """An outage: for `seconds`, every request fails, in turn with a 500, a 429 and a
        timeout (the answer comes after `timeout` seconds, also a 500)."""
        with self._lock:
            self._outage = (time.time() + seconds, timeout)

    def add_media(self, content: bytes, mime_type: str, filename: Optional[str] = None) -> str:
        """What a phone does before sending a photo: the bytes on Meta's side; their id."""
        media_id = f"{next(self._ids):015d}"
        with self._lock:
            self.media[media_id] = Media(content, mime_type, filename)
        return media_id

    def media_of(self, body: Dict[str, Any]) -> Media:
        """The media a delivered message sent, by the id it was sent by."""
        return self.media[body[body["type"]]["id"]]

    def expire_next_links(self, times: int = 1) -> None:
        """The next `times` download URLs are handed out already expired (a slow
        downloader); 0 ends that."""
        with self._lock:
            self._expired_links = times

    def receipts(self) -> List[Tuple[str, bool]]:
        """(message id, with the typing indicator) of every accepted read mark, in order."""
        return [
            (r.body["message_id"], "typing_indicator" in r.body)
            for r in self.attempts()
            if r.accepted and isinstance(r.body, dict) and r.body.get("status") == "read"
        ]

    def delivered(self, to: Optional[str] = None) -> List[Dict[str, Any]]:
        """Bodies Meta accepted, in order (optionally to one phone)."""
        return [r.body for r in self.attempts(to) if r.accepted]

    def attempts(self, to: Optional[str] = None) -> List[Recorded]:
        """Every request, in order (optionally only those to one phone)."""
        with self._lock:
            return list(self.requests if to is None else self._by_recipient.get(to, ()))

    # -- the HTTP side ---------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=UPLOADS["document"][1] + documented.MB)  # the largest upload
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        app.router.add_post("/{version}/{phone_number_id}/media", self._upload)
        app.router.add_get(r"/{version:v[0-9.]+}/{media_id}", self._media_url)
        app.router.add_get("/download/{token}", self._download)
        return app

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.access_token}"

    async def _media_url(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response(_error(190, "Invalid OAuth access token"), status=401)
        media_id = request.match_info["media_id"]
        with self._lock:
            found = self.media.get(media_id)
            if found is None:
                return web.json_response(_error(100, "Unsupported get request. Object does not exist"), status=400)
            token = f"{next(self._ids):012d}"
            expired = self._expired_links > 0
            self._expired_links -= 1 if expired else 0
            self._links[token] = (media_id, 0.0 if expired else time.time() + self.link_seconds)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{request.scheme}://{request.host}/download/{token}",
                "mime_type": found.mime_type,
                "sha256": hashlib.sha256(found.content).hexdigest(),
                "file_size": len(found.content),
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response(_error(190, "Invalid OAuth access token"), status=401)
        with self._lock:
            media_id, expires = self._links.get(request.match_info["token"], ("", 0.0))
            found = self.media.get(media_id)
        if found is None or time.time() > expires:
            return web.Response(status=404, text="URL signature expired")
        return web.Response(body=found.content, content_type=found.mime_type)

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        file = form.get("file")
        status, answer = 200, {}
        if not self._authorized(request):
            status, answer = 401, _error(190, "Invalid OAuth access token")
        elif request.match_info["phone_number_id"] != self.phone_number_id:
            status, answer = 400, _error(100, "Unsupported post request. Object with ID does not exist")
        else:
            problem = check_upload(form.get("messaging_product"), form.get("type"), file)
            if problem:
                status, answer = 400, _error(131053, "Media upload error", problem)
            else:
                content = file.file.read()
                media_id = f"{next(self._ids):015d}"
                with self._lock:
                    self.media[media_id] = Media(content, str(form["type"]), file.filename, uploaded=True)
                answer = {"id": media_id}
        recorded = Recorded(time.time(), request.path, request.headers.get("Authorization"), {}, status, answer)
        with self._lock:
            self.uploads.append(recorded)
        return web.json_response(answer, status=status)

    async def _messages(self, request: web.Request) -> web.Response:
        planned = None
        with self._lock:
            if self._plan:
                planned = self._plan.popleft()
            elif time.time() < self._outage[0]:
                planned = [
                    ("status", (500, ErrorCode.SOMETHING_WENT_WRONG)),
                    ("status", (429, ErrorCode.THROUGHPUT_LIMIT)),
                    ("timeout", self._outage[1]),
                ][next(self._outage_turn) % 3]
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        if planned and planned[0] == "timeout":
            await asyncio.sleep(planned[1])
            planned = ("status", (500, 131000))  # if the caller is still waiting
        status, answer = self._answer(request, body, planned)
        wamid = answer.get("messages", [{}])[0].get("id") if status == 200 else None
        recorded = Recorded(
            time.time(), request.path, request.headers.get("Authorization"), body, status, answer, wamid
        )
        with self._lock:
            self.requests.append(recorded)
            if isinstance(body, dict):
                self._by_recipient.setdefault(str(body.get("to")), []).append(recorded)
        for listener in self.listeners:
            listener(recorded)
        return web.json_response(answer, status=status)

    def _answer(self, request: web.Request, body: Any, planned) -> Tuple[int, Dict[str, Any]]:
        if planned and planned[0] == "status":
            status, code = planned[1]
            return status, _error(code, "Service temporarily unavailable" if status >= 500 else "Rate limit hit")
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return 401, _error(190, "Invalid OAuth access token - Cannot parse access token")
        if request.match_info["phone_number_id"] != self.phone_number_id:
            return 400, _error(100, "Unsupported post request. Object with ID does not exist")
        problem = check_body(body) or self._check_media(body) or self._check_quote(body)
        if problem:
            return 400, _error(131009, "Parameter value is not valid", problem)
        if "status" in body:
            return 200, {"success": True}
        to = body["to"]
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": f"wamid.FAKE{next(self._ids):08d}"}],
        }

    def _check_quote(self, body: Dict[str, Any]) -> Optional[str]:
        """A quote (or a reaction) must be on a message of the same chat: one this number
        sent to that phone, or one the phone sent (ids the fake never issued)."""
        quoted = (body.get("context") or {}).get("message_id") or (body.get("reaction") or {}).get("message_id")
        read = body.get("message_id") if "status" in body else None
        if not (quoted or read):
            return None
        with self._lock:
            issued = {r.wamid: str(r.body.get("to")) for r in self.requests if r.wamid}
        if read:
            return f"{read} was sent by this number: only received messages are marked read" if read in issued else None
        if quoted in issued and issued[quoted] != str(body.get("to")):
            return f"{quoted} is a message of another chat"
        return None

    def _check_media(self, body: Dict[str, Any]) -> Optional[str]:
        """A media message must send an upload of the business number, of its own type."""
        type_ = body.get("type")
        if type_ not in MEDIA_TYPES or "link" in body[type_]:
            return None
        with self._lock:
            found = self.media.get(str(body[type_].get("id")))
        if found is None or not found.uploaded:
            return f"{type_}.id is not media this number uploaded"
        if found.mime_type not in UPLOADS[type_][0]:
            return f"{found.mime_type} cannot be sent as {type_}"
        return None

    # -- running it -----------------------------------------------------------------------

    def start_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> "RunningServer":
        return RunningServer(self.app(), host, port)


def check_body(body: Any) -> Optional[str]:
    """What in a message body breaks the Cloud API's documented rules, or None."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be 'whatsapp'"
    if "status" in body:  # marking a received message read, maybe with the typing indicator
        if body["status"] != "read" or not isinstance(body.get("message_id"), str):
            return "status must be 'read', with the message_id of a received message"
        if body.get("typing_indicator", {"type": "text"}) != {"type": "text"}:
            return "typing_indicator must be {type: text}"
        return None
    if not str(body.get("to", "")).lstrip("+").isdigit():
        return "'to' must be a phone number"
    context = body.get("context")
    if context is not None and not (isinstance(context, dict) and isinstance(context.get("message_id"), str)):
        return "context must be {message_id: ...}"
    type_ = body.get("type", "text")
    if type_ == "contacts":  # a list of people, not an object
        people = body.get("contacts")
        if not isinstance(people, list) or not people:
            return "contacts must be a list of people"
        if not all(isinstance(p, dict) and (p.get("name") or {}).get("formatted_name") for p in people):
            return "contacts need a name.formatted_name each"
        return None
    if type_ not in TYPES or not isinstance(body.get(type_), dict):
        return f"unknown or missing type {type_!r}"
    content = body[type_]
    if type_ == "text":
        text = content.get("body")
        if not isinstance(text, str) or not text or len(text) > LIMITS["text"]:
            return f"text.body must have 1-{LIMITS['text']} characters"
    elif type_ == "interactive":
        return _check_interactive(content)
    elif type_ in MEDIA_TYPES:
        if not (content.get("link") or content.get("id")):
            return f"{type_} needs a link or an id"
        if "caption" in content and type_ not in CAPTIONED:
            return f"{type_} cannot have a caption"
        if len(content.get("caption") or "") > LIMITS["caption"]:
            return "caption too long"
    elif type_ == "reaction":
        if not isinstance(content.get("message_id"), str) or not isinstance(content.get("emoji"), str):
            return "reaction needs a message_id and an emoji"
    elif type_ == "location":
        if not all(isinstance(content.get(k), (int, float)) for k in ("latitude", "longitude")):
            return "location needs a latitude and a longitude"

    elif type_ == "template":
        if not content.get("name") or not (content.get("language") or {}).get("code"):
            return "template needs a name and a language code"
    return None


def check_upload(product: Any, mime_type: Any, file: Any) -> Optional[str]:
    """What in an upload breaks the documented rules, or None."""
    if product != "whatsapp":
        return "messaging_product must be 'whatsapp'"
    if not hasattr(file, "file"):
        return "the file is missing"
    kind = next((k for k, (types, _) in UPLOADS.items() if mime_type in types), None)
    if kind is None:
        return f"{mime_type} is not a supported media type"
    size = len(file.file.read())
    file.file.seek(0)
    if size > UPLOADS[kind][1]:
        return f"{size} bytes is over the {UPLOADS[kind][1]} bytes {kind} limit"
    return None


def _check_interactive(content: Dict[str, Any]) -> Optional[str]:
    text = (content.get("body") or {}).get("text") or ""
    if not text or len(text) > LIMITS["interactive_body"]:
        return f"interactive body must have 1-{LIMITS['interactive_body']} characters"
    action = content.get("action") or {}
    if content.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= LIMITS["buttons"]:
            return f"1-{LIMITS['buttons']} buttons"
        replies = [b.get("reply") or {} for b in buttons]
        if any(not r.get("title") or len(r["title"]) > LIMITS["button_title"] for r in replies):
            return f"button titles must have 1-{LIMITS['button_title']} characters"
        if any(not r.get("id") or len(r["id"]) > LIMITS["button_id"] for r in replies):
            return "button ids must have 1-256 characters"
        if len({r["id"] for r in replies}) != len(replies):
            return "button ids must be unique"
        return None
    if content.get("type") == "list":
        if not action.get("button") or len(action["button"]) > LIMITS["list_button"]:
            return "list button text must have 1-20 characters"
        rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
        if not 1 <= len(rows) <= LIMITS["rows"]:
            return f"1-{LIMITS['rows']} rows"
        for row in rows:
            if not row.get("title") or len(row["title"]) > LIMITS["row_title"]:
                return f"row titles must have 1-{LIMITS['row_title']} characters"
            if len(row.get("description") or "") > LIMITS["row_description"]:
                return "row description too long"
            if not row.get("id") or len(row["id"]) > LIMITS["row_id"]:
                return "row ids must have 1-200 characters"
        return None
    return f"unknown interactive type {content.get('type')!r}"


def _error(code: int, message: str, details: Optional[str] = None) -> Dict[str, Any]:
    error: Dict[str, Any] = {
        "message": f"(#{code}) {message}",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "FAKEtrace",
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


class RunningServer:
    """An aiohttp app on its own event loop in a daemon thread."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.runner = web.AppRunner(app)

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, host, port)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(10)
        self.url = f"http://{host}:{self.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
