"""One call to the Graph API (a message, a media download or upload), with a timeout and
typed errors.

Retries are not done here: the outbox retries with backoff and keeps the message across
restarts. `GraphError.retryable` says whether trying again can help (429, 5xx, timeouts,
Meta's throttling codes) or not (a bad request, an expired token, a closed window).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Dict, Optional, Tuple

import aiohttp

logger = logging.getLogger(__name__)


class ErrorCode(IntEnum):
    """The Cloud API error codes Posta acts on (Meta's "Error codes" reference)."""

    API_UNKNOWN = 1
    API_SERVICE = 2  # temporary
    API_TOO_MANY_CALLS = 4
    API_USER_TOO_MANY_CALLS = 17
    ACCOUNT_RATE_LIMIT = 80007
    THROUGHPUT_LIMIT = 130429  # messages per second of the number
    SOMETHING_WENT_WRONG = 131000
    SERVICE_UNAVAILABLE = 131016
    SPAM_RATE_LIMIT = 131048
    PAIR_RATE_LIMIT = 131056  # too many messages to one recipient in a short time
    REENGAGEMENT = 131047  # more than 24 hours since the user last wrote: only a template


# Where waiting and trying again can succeed.
RETRYABLE_CODES = frozenset(
    {
        ErrorCode.API_UNKNOWN,
        ErrorCode.API_SERVICE,
        ErrorCode.API_TOO_MANY_CALLS,
        ErrorCode.API_USER_TOO_MANY_CALLS,
        ErrorCode.ACCOUNT_RATE_LIMIT,
        ErrorCode.THROUGHPUT_LIMIT,
        ErrorCode.SOMETHING_WENT_WRONG,
        ErrorCode.SERVICE_UNAVAILABLE,
        ErrorCode.SPAM_RATE_LIMIT,
        ErrorCode.PAIR_RATE_LIMIT,
    }
)


# A document may be 100 MB: its download and upload get longer than a message's call.
MEDIA_TIMEOUT = aiohttp.ClientTimeout(total=180)


@dataclass(frozen=True)
class GraphSettings:
    base_url: str  # https://graph.facebook.com, or a local fake
    version: str  # v21.0
    phone_number_id: str
    access_token: str
    timeout: float = 10.0

    @property
    def messages_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.version}/{self.phone_number_id}/messages"

    @property
    def upload_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.version}/{self.phone_number_id}/media"

    def media_url(self, media_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/{self.version}/{media_id}"


class GraphError(Exception):
    def __init__(self, message: str, status: Optional[int] = None, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500 or self.code in RETRYABLE_CODES

    @property
    def window_closed(self) -> bool:
        return self.code == ErrorCode.REENGAGEMENT


class GraphClient:
    def __init__(self, settings: GraphSettings) -> None:
        self.settings = settings
        self._session: Optional[aiohttp.ClientSession] = None

    async def send(self, body: Dict[str, Any]) -> str:
        """Posts one message; returns its id (wamid). Raises GraphError."""
        payload = await self._call("POST", self.settings.messages_url, json=body)
        if body.get("status") == "read" and payload.get("success"):
            return ""  # a read mark (and typing indicator) is not a message: no id
        try:
            return str(payload["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise GraphError(f"unexpected answer: {str(payload)[:200]}") from None

    async def download(self, media_id: str) -> Tuple[bytes, str]:
        """The bytes and MIME type of a media id a message carried: its URL first (valid for
        minutes, so asked for right before), then the bytes, with the same token."""
        info = await self._call("GET", self.settings.media_url(media_id))
        if not info.get("url"):
            raise GraphError(f"no URL for media {media_id}: {str(info)[:200]}")
        content = await self._call("GET", info["url"], raw=True, timeout=MEDIA_TIMEOUT)
        return content, str(info.get("mime_type") or "application/octet-stream")

    async def upload(self, content: bytes, mime_type: str, filename: Optional[str] = None) -> str:
        """Uploads bytes to the business number; returns the media id to send them by."""
        mime_type = mime_type.split(";")[0].strip()  # "audio/ogg; codecs=opus" is uploaded as audio/ogg
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime_type)
        form.add_field("file", content, filename=filename or "file", content_type=mime_type)
        payload = await self._call("POST", self.settings.upload_url, data=form, timeout=MEDIA_TIMEOUT)
        if not payload.get("id"):
            raise GraphError(f"unexpected answer: {str(payload)[:200]}")
        return str(payload["id"])

    async def _call(self, method: str, url: str, raw: bool = False, **request: Any) -> Any:
        """One request: the JSON answer (or the bytes, `raw`), or a GraphError."""
        session = await self._get_session()
        try:
            async with session.request(method, url, **request) as response:
                status = response.status
                content = await response.read()
        except asyncio.TimeoutError:
            raise GraphError(f"{method} {url.split('?')[0]} timed out") from None
        except aiohttp.ClientError as error:
            raise GraphError(f"connection failed: {error}") from None
        if raw and status < 400:
            return content
        text = content.decode("utf-8", errors="replace")
        payload = _json(text)
        if status >= 400 or "error" in payload:
            error = payload.get("error") or {}
            raise GraphError(f"{status} {error.get('message') or text[:200]}", status, error.get("code"))
        return payload

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout),
                headers={"Authorization": f"Bearer {self.settings.access_token}"},
            )
        return self._session


def _json(text: str) -> Dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
