"""The production profile (`make run-prod`: two replicas behind nginx) exposes only what
Meta and the team need; the demo passwords do not work there; the login limit holds
across replicas; and it does not start without a token."""

import os

import pytest
import requests
import sqlalchemy as sa

from deploy.profile import ProductionProfile
from harness.phones import Phone
from tests.conftest import CARLA_PASSWORD


def test_through_nginx_only_the_webhook_the_panel_and_health_answer(production):
    profile, url = production.profile, production.url
    token = f"token={profile.token}"
    victim = Phone(production).number
    for method, path in [
        ("GET", f"/conversations/{victim}/tracker?{token}"),
        ("GET", f"/status?{token}"),
        ("POST", f"/conversations/{victim}/tracker/events?{token}"),
        ("PUT", f"/model?{token}"),
        ("DELETE", f"/model?{token}"),
        ("POST", f"/webhooks/rest/webhook?{token}"),
        ("GET", "/"),
        ("GET", f"/version?{token}"),
    ]:
        answer = requests.request(method, url + path, json={"sender": victim, "message": "hola"}, timeout=10)
        assert answer.status_code == 404, (method, path, answer.status_code)
    assert requests.get(f"{url}/health", timeout=10).json() == {"status": "ok"}
    assert requests.get(f"{url}/webhooks/panel/login", timeout=10).status_code == 200
    assert requests.get(f"{url}/webhooks/whatsapp/webhook", timeout=10).status_code == 403  # no verify token
    with sa.create_engine(profile.env["POSTA_DATABASE_URL"]).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": victim}).scalar() == 0


def test_on_a_replica_the_api_needs_the_token_and_there_is_no_rest_channel(production):
    profile = production.profile
    live = next(n for n, replica in enumerate(profile.replicas) if replica.alive)  # one may have been killed
    port = profile.rasa_ports[live]
    assert requests.get(f"http://127.0.0.1:{port}/status", timeout=10).status_code == 401
    assert requests.get(profile.api(live, "/status"), timeout=10).status_code == 200
    rest = requests.post(
        profile.api(live, "/webhooks/rest/webhook"), json={"sender": "5491155557777", "message": "hola"}, timeout=10
    )
    assert rest.status_code == 404


def login(url, name, password):
    session = requests.Session()
    session.get(f"{url}/webhooks/panel/login")
    return session.post(
        f"{url}/webhooks/panel/login",
        allow_redirects=False,
        data={"name": name, "password": password, "csrf": session.cookies.get("posta_login_csrf")},
    )


def test_demo_passwords_do_not_open_the_panel_with_a_real_number(production):
    refused = login(production.url, "Ana", "ana-demo")
    assert refused.status_code == 401 and "contraseña de demostración" in refused.text
    assert login(production.url, "Carla", CARLA_PASSWORD).status_code == 303  # her own password works
    for replica in production.profile.replicas:
        assert "Ana still has a demo password" in replica.log.read_text(errors="replace")


def test_the_login_limit_holds_across_replicas(production):
    for n in range(5):  # nginx spreads them over both replicas
        assert login(production.url, "Bruno", f"guess-{n}").status_code == 401
    blocked = login(production.url, "Bruno", "anything")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_the_profile_does_not_start_without_a_token(tmp_path):
    env = {"POSTA_API_TOKEN": ""}
    with pytest.raises(SystemExit, match="POSTA_API_TOKEN is not set"):
        ProductionProfile(
            os.environ.get("POSTA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/x"), tmp_path, env=env
        )
    assert list(tmp_path.iterdir()) == []  # nothing was started
