"""The business number's Cloud API settings: credentials.yml first, then the environment.

Read by the WhatsApp channel (app secret, verify token) and by the outbox worker (access
token, phone number id, Graph API version and base URL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

from posta.whatsapp.graph import GraphSettings

ENV = {
    "access_token": "WHATSAPP_ACCESS_TOKEN",
    "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID",
    "app_secret": "WHATSAPP_APP_SECRET",
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
    "api_version": "WHATSAPP_API_VERSION",
    "base_url": "WHATSAPP_API_BASE_URL",
}
DEFAULTS = {"api_version": "v21.0", "base_url": "https://graph.facebook.com"}


@dataclass(frozen=True)
class WhatsAppSettings:
    access_token: str = ""
    phone_number_id: str = ""
    app_secret: str = ""
    verify_token: str = ""
    api_version: str = DEFAULTS["api_version"]
    base_url: str = DEFAULTS["base_url"]

    @classmethod
    def load(cls, credentials: Optional[Dict[str, Any]] = None) -> "WhatsAppSettings":
        """credentials.yml first, then the environment, then the defaults."""
        credentials = credentials or {}
        values = {
            key: str(credentials.get(key) or os.environ.get(env) or DEFAULTS.get(key, "")) for key, env in ENV.items()
        }
        return cls(**values)

    @property
    def graph(self) -> GraphSettings:
        return GraphSettings(self.base_url, self.api_version, self.phone_number_id, self.access_token)
