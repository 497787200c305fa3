"""The team panel's door: login attempts limited per name and per address (in the
database), security headers on every page, a Secure cookie behind HTTPS."""

import pytest
import requests
import sqlalchemy as sa

# The policy (posta/accounts.py): within 15 minutes, 5 failures per name, 20 per address.
FAILURES_PER_NAME, FAILURES_PER_ADDRESS = 5, 20


@pytest.fixture
def limits_reset(cases):
    yield
    with cases.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM posta_login_failures"))


def attempt(stack, name, password, address, proto=None):
    headers = {"X-Forwarded-For": address, **({"X-Forwarded-Proto": proto} if proto else {})}
    form = requests.get(f"{stack.panel_url}/login", headers=headers)
    token = form.cookies.get("posta_login_csrf")  # read by hand: a Secure cookie is not sent back over http
    return requests.post(
        f"{stack.panel_url}/login",
        allow_redirects=False,
        headers=headers,
        cookies={"posta_login_csrf": token},
        data={"name": name, "password": password, "csrf": token},
    )


def test_failed_logins_for_one_name_are_limited_whatever_the_address(stack, limits_reset):
    for n in range(FAILURES_PER_NAME):
        assert attempt(stack, "Bruno", f"guess-{n}", f"203.0.113.{n}").status_code == 401
    blocked = attempt(stack, "Bruno", "bruno-demo", "203.0.113.99")  # even the right password, for now
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Demasiados intentos" in blocked.text
    assert attempt(stack, "Ana", "ana-demo", "203.0.113.99").status_code == 303  # other names are not locked


def test_failed_logins_from_one_address_are_limited_whatever_the_name(stack, limits_reset):
    for n in range(FAILURES_PER_ADDRESS):
        assert attempt(stack, f"nobody-{n}", "x", "198.51.100.7").status_code == 401
    assert attempt(stack, "Ana", "ana-demo", "198.51.100.7").status_code == 429
    assert attempt(stack, "Ana", "ana-demo", "198.51.100.8").status_code == 303


def test_panel_pages_say_how_a_browser_must_treat_them(stack):
    page = requests.get(f"{stack.panel_url}/login")
    policy = page.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in policy
        and "script-src 'nonce-" in policy
        and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    )
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"  # "no-referrer" would make a form's Origin "null"


def test_the_session_cookie_is_secure_behind_https(stack, limits_reset):
    plain = attempt(stack, "Ana", "ana-demo", "192.0.2.1")
    assert plain.status_code == 303 and "secure" not in plain.headers["Set-Cookie"].lower()
    https = attempt(stack, "Ana", "ana-demo", "192.0.2.1", proto="https")
    assert https.status_code == 303
    cookie = next(c for c in https.raw.headers.getlist("Set-Cookie") if c.startswith("posta_session="))
    assert "secure" in cookie.lower() and "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def test_the_limits_hold_in_the_database(stack, cases, limits_reset):
    attempt(stack, "Carla", "wrong", "192.0.2.50")
    with cases.engine.connect() as conn:
        keys = set(conn.execute(sa.text("SELECT key FROM posta_login_failures")).scalars())
    assert {"name:carla", "address:192.0.2.50"} <= keys
