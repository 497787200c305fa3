"""What every Posta server checks at its door, whatever web framework it runs on.

- A request made by another site's page is refused: a browser lets any page send a
  text/plain POST without asking, so a server on loopback is not out of reach.
- Secrets (the API token, the action server's secret, signatures) are compared in
  constant time, as bytes, so odd characters are a refusal rather than an error.
- A server binds to loopback unless a setting says otherwise, and never starts without
  the secret that guards it.
"""

from __future__ import annotations

import hmac
import os
from typing import Mapping, Optional
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"
MIN_SECRET = 16  # characters; "change-me" is not a secret


class NotConfigured(SystemExit):
    """A server refuses to start: the message says what to set."""


def cross_site(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a browser sent this on behalf of a page from another origin.

    `Origin` (sent with every cross-origin request and with POSTs) must name this host;
    `Sec-Fetch-Site` catches what carries no Origin, like an `<img>` pointed at the API.
    Following a link here from elsewhere (a GET navigation) is allowed. Requests from
    programs (Meta, curl, other servers) carry neither header and are not concerned.
    """
    origin = _header(headers, "origin")
    site = _header(headers, "sec-fetch-site")
    if origin == "null":  # an opaque origin: a sandbox, a file, or a page that sends no referrer
        return site not in ("same-origin", "none")
    if origin is not None:
        return urlsplit(origin).netloc.lower() != (_header(headers, "host") or "").lower()
    if site in (None, "same-origin", "none"):
        return False
    navigation = _header(headers, "sec-fetch-mode") == "navigate" and method.upper() in ("GET", "HEAD")
    return not navigation


def same_secret(given: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison; an empty expected secret matches nothing."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def secret(variable: str, what: str, env: Mapping[str, str] = os.environ) -> str:
    """The secret in `variable` (of `env`), or a refusal to start that says how to set it."""
    value = env.get(variable, "")
    if len(value) < MIN_SECRET:
        problem = "is not set" if not value else f"is shorter than {MIN_SECRET} characters"
        raise NotConfigured(
            f"{variable} {problem}: {what}. `make run` keeps one in .posta/secrets.env; "
            f"elsewhere set it, e.g. {variable}=$(openssl rand -hex 24)"
        )
    return value


def bind_address(variable: str) -> str:
    """Where a server listens: loopback unless `variable` says otherwise."""
    return os.environ.get(variable) or LOOPBACK


def _header(headers: Mapping[str, str], name: str) -> Optional[str]:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value.strip() if isinstance(value, str) else value
