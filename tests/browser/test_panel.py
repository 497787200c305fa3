"""The team panel and the WhatsApp simulator in headless Chromium, against the real servers."""

import time

import requests
import yaml
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from harness.phones import Phone, judged_in_panel, taken_over

WAIT = 25


def until(driver, condition, timeout=WAIT):
    """Pages re-render as they poll, so an element may go stale between two looks: look again."""
    return WebDriverWait(
        driver, timeout, poll_frequency=0.25, ignored_exceptions=(StaleElementReferenceException,)
    ).until(lambda d: condition(d))


def log_in(driver, stack, name, password):
    driver.get(f"{stack.panel_url}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login").click()
    until(driver, lambda d: d.current_url.endswith("/queue"))


def phone_texts(driver, role):
    return driver.execute_script(f"return [...document.querySelectorAll('#phone-{role} .msg')].map(e => e.innerText)")


def test_unauthenticated_requests_are_refused(stack):
    assert requests.get(f"{stack.panel_url}/api/queue").status_code == 401
    assert requests.get(f"{stack.panel_url}/api/cases/1").status_code == 401
    assert requests.post(f"{stack.panel_url}/cases/1/take").status_code == 401
    assert requests.get(f"{stack.panel_url}/api/reports").status_code == 401
    page = requests.get(f"{stack.panel_url}/queue", allow_redirects=False)
    assert page.status_code == 302 and page.headers["Location"].endswith("/login")
    forged = requests.Session()
    forged.cookies.set("posta_session", "made-up.0000", path="/webhooks/panel")
    assert forged.get(f"{stack.panel_url}/api/queue").status_code == 401


def test_login_needs_the_right_password_and_a_login_token(stack, chrome):
    chrome.get(f"{stack.panel_url}/login")
    chrome.find_element(By.ID, "name").send_keys("Ana")
    chrome.find_element(By.ID, "password").send_keys("wrong")
    chrome.find_element(By.ID, "login").click()
    until(chrome, lambda d: d.find_elements(By.ID, "login-error"))
    without_token = requests.post(f"{stack.panel_url}/login", data={"name": "Ana", "password": "ana-demo"})
    assert without_token.status_code == 403


def test_a_handoff_from_the_simulator_to_the_panel_and_back(stack, cases, chrome, second_chrome, screenshots):
    # The customer writes from the simulator's phone.
    chrome.get(stack.graph_server.url)
    customer_box = until(chrome, lambda d: d.find_element(By.CSS_SELECTOR, "#phone-customer .compose input.text"))
    number = f"54911{int(time.time()) % 100_000_000:08d}"
    stack.simulator.customer = {"phone": number, "name": "Lucía"}
    chrome.refresh()
    # Ana has written to the business number today (so her 24-hour window is open).
    agent_box = until(chrome, lambda d: d.find_element(By.CSS_SELECTOR, "#phone-agent .compose input.text"))
    agent_box.send_keys("ayuda", Keys.ENTER)
    until(chrome, lambda d: any("Comandos" in t for t in phone_texts(d, "agent")))
    customer_box = chrome.find_element(By.CSS_SELECTOR, "#phone-customer .compose input.text")
    customer_box.send_keys("hola, quiero hablar con una persona", Keys.ENTER)
    until(chrome, lambda d: any("Te paso con una persona" in t for t in phone_texts(d, "customer")))
    case = cases.open_case_for(number)
    assert case is not None and case.agent == "Ana"
    until(chrome, lambda d: any(f"Tomar #{case.id}" in t for t in phone_texts(d, "agent")))
    chrome.save_screenshot(str(screenshots / "simulator-handoff.png"))
    simulator = chrome.current_window_handle

    # Ana, in the panel, sees it in her queue, opens it, takes it and answers.
    chrome.switch_to.new_window("tab")
    log_in(chrome, stack, "Ana", "ana-demo")
    row = until(chrome, lambda d: d.find_element(By.CSS_SELECTOR, f'tr[data-case="{case.id}"]'))
    assert "Lucía" in row.text and "requested" in row.text
    chrome.save_screenshot(str(screenshots / "panel-queue.png"))
    row.find_element(By.CSS_SELECTOR, "a.case").click()
    until(chrome, lambda d: "Caso #" in d.find_element(By.ID, "summary").text)
    chrome.find_element(By.ID, "take").click()
    until(chrome, lambda d: "active" in d.find_element(By.ID, "status").text)
    reply = until(
        chrome, lambda d: d.find_element(By.ID, "reply") if d.find_element(By.ID, "reply").is_displayed() else None
    )
    reply.send_keys("Hola Lucía, soy Ana. ¿Qué necesitás?", Keys.ENTER)

    # The reply shows on the customer's phone, from the business number.
    chrome.switch_to.window(simulator)
    until(chrome, lambda d: any("soy Ana. ¿Qué necesitás?" in t for t in phone_texts(d, "customer")))
    box = chrome.find_element(By.CSS_SELECTOR, "#phone-customer .compose input.text")
    box.send_keys("quiero unos multifocales", Keys.ENTER)
    until(chrome, lambda d: any("quiero unos multifocales" in t for t in phone_texts(d, "customer")))
    chrome.save_screenshot(str(screenshots / "simulator.png"))

    # The customer's answer appears in the panel without reloading; then Ana hands back.
    chrome.switch_to.window(chrome.window_handles[1])
    until(chrome, lambda d: "quiero unos multifocales" in d.find_element(By.ID, "thread").text)
    assert stack.tracker(number)["paused"]
    chrome.save_screenshot(str(screenshots / "panel-case.png"))
    chrome.find_element(By.ID, "handback").click()
    until(chrome, lambda d: "closed" in d.find_element(By.ID, "status").text)

    chrome.switch_to.window(simulator)
    until(chrome, lambda d: any("¿Hay algo más en lo que te pueda ayudar?" in t for t in phone_texts(d, "customer")))
    assert cases.get(case.id).status == "closed"

    # The panel fits a phone's screen.
    phone_browser = second_chrome
    phone_browser.set_window_size(390, 844)
    log_in(phone_browser, stack, "Ana", "ana-demo")
    phone_browser.get(f"{stack.panel_url}/cases/{case.id}")
    until(phone_browser, lambda d: "Caso #" in d.find_element(By.ID, "summary").text)
    assert phone_browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    phone_browser.save_screenshot(str(screenshots / "panel-phone.png"))
    phone_browser.delete_all_cookies()
    phone_browser.set_window_size(1280, 900)

    # Bruno cannot see or act on Ana's case.
    log_in(second_chrome, stack, "Bruno", "bruno-demo")
    assert f'data-case="{case.id}"' not in second_chrome.page_source
    second_chrome.get(f"{stack.panel_url}/cases/{case.id}")
    assert "Not found" in second_chrome.page_source


def test_a_second_agent_cannot_act_on_anothers_open_case(stack, cases):
    customer = Phone(stack, name="Otro")
    customer.text("necesito hablar con un asesor")
    customer.wait()
    case = cases.open_case_for(customer.number)
    bruno = requests.Session()
    login = bruno.get(f"{stack.panel_url}/login")
    token = bruno.cookies.get("posta_login_csrf")
    bruno.post(f"{stack.panel_url}/login", data={"name": "Bruno", "password": "bruno-demo", "csrf": token})
    assert bruno.get(f"{stack.panel_url}/api/queue").status_code == 200
    assert bruno.get(f"{stack.panel_url}/api/cases/{case.id}").status_code == 404
    assert (
        bruno.post(
            f"{stack.panel_url}/cases/{case.id}/reply", json={"text": "hola"}, headers={"X-CSRF-Token": "x"}
        ).status_code
        == 403
    )  # no valid CSRF token
    # Even with a valid token, Ana's case is out of Bruno's reach.
    page = bruno.get(f"{stack.panel_url}/queue").text
    csrf = page.split('const CSRF = "')[1].split('"')[0]
    assert (
        bruno.post(
            f"{stack.panel_url}/cases/{case.id}/reply", json={"text": "hola"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 404
    )
    assert login.status_code == 200


def test_reports_page_draws_without_a_network(stack, chrome, screenshots):
    log_in(chrome, stack, "Carla", "carla-demo")
    chrome.get(f"{stack.panel_url}/reports")
    until(chrome, lambda d: d.find_element(By.ID, "chart-reasons"))
    handoffs = chrome.find_element(By.ID, "handoffs").text
    assert handoffs.split()[0].isdigit()
    chrome.save_screenshot(str(screenshots / "panel-reports.png"))
    chrome.find_element(By.ID, "logout").click()
    until(chrome, lambda d: d.current_url.endswith("/login"))
    chrome.get(f"{stack.panel_url}/reports")
    until(chrome, lambda d: d.current_url.endswith("/login"))


def test_only_an_admin_can_erase_a_customer_and_then_nothing_of_them_remains(stack, cases):
    from posta import rasa_events
    from posta.schema import inbox

    customer = Phone(stack, name="Borrar")
    customer.text("me duele el ojo izquierdo desde ayer")
    customer.wait()
    assert cases.open_case_for(customer.number) is not None
    ana = stack.panel_session("Ana", "ana-demo")
    assert ana.post(f"{stack.panel_url}/customers/{customer.number}/erase").status_code == 403
    carla = stack.panel_session("Carla", "carla-demo")
    erased = carla.post(f"{stack.panel_url}/customers/{customer.number}/erase")
    assert erased.status_code == 200 and erased.json()["rows"] > 5
    assert cases.cases(conversation_id=customer.number) == []
    assert rasa_events.load(cases.engine, customer.number) == []
    with cases.engine.connect() as conn:
        assert conn.execute(inbox.select().where(inbox.c.sender == customer.number)).first() is None


def png(width=160, height=90):
    """A real PNG (red pixels), so the browser has a picture to decode."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_the_panel_shows_a_photo_offers_a_voice_note_and_sends_a_document(stack, cases, chrome, screenshots, tmp_path):
    from harness.phones import case_of

    customer = Phone(stack, name="Sofía")
    customer.text("quiero hablar con una persona")
    customer.wait()
    case = case_of(cases, customer)
    picture, voice = png(), b"OggS\x00\x02" + bytes(4096)
    customer.send_media("image", picture, "image/png", caption="así quedó el armazón")
    customer.send_media("audio", voice, "audio/ogg; codecs=opus", voice=True)

    log_in(chrome, stack, "Ana", "ana-demo")
    chrome.get(f"{stack.panel_url}/cases/{case.id}")
    until(chrome, lambda d: d.find_element(By.ID, "take").is_displayed())
    chrome.find_element(By.ID, "take").click()
    decoded = "const i = document.querySelector('#thread img.media'); return i && i.complete && i.naturalWidth"
    until(chrome, lambda d: d.execute_script(decoded) == 160)  # the photo itself, decoded
    source = until(
        chrome, lambda d: d.execute_script("const a = document.querySelector('#thread audio.media'); return a && a.src")
    )
    signed_in = requests.Session()
    for cookie in chrome.get_cookies():
        signed_in.cookies.set(cookie["name"], cookie["value"])
    heard = signed_in.get(source, timeout=10)
    assert heard.content == voice and heard.headers["Content-Type"].startswith("audio/ogg")  # what the player plays
    assert requests.get(source, timeout=10, allow_redirects=False).status_code in (
        302,
        303,
        401,
    )  # not without signing in
    chrome.save_screenshot(str(screenshots / "panel-media.png"))

    document = tmp_path / "presupuesto.pdf"
    document.write_bytes(b"%PDF-1.4\n" + bytes(1000))
    attach = chrome.find_element(By.ID, "attach")
    chrome.execute_script("arguments[0].hidden = false", attach)  # the 📎 label opens it for a person
    attach.send_keys(str(document))
    [sent] = customer.wait(lambda new: any(b["type"] == "document" for b in new))[-1:]
    assert sent["document"]["filename"] == "presupuesto.pdf"
    assert stack.graph.media_of(sent).content == document.read_bytes()


def test_an_admin_turns_judged_and_flagged_cases_into_lessons_on_the_review_page(
    stack, cases, ana, chrome, screenshots
):
    # Asked for a person at once, then asked them what the bot knows; judged so in the panel.
    question = "a que hora abren los sabados? soy Lucía, mi cel 11 4455 6677"
    case = judged_in_panel(stack, cases, Phone(stack, name="Lucía Paz"), ana, question, "bot:hours", "ana-demo")
    # The bot answered a return as policy; a person stepped in without an escalation.
    flagged = taken_over(cases, Phone(stack, name="Sin escalar"), ana, "si no me gustan los puedo cambiar?")
    admin = stack.panel_session("Carla", "carla-demo")
    panel = stack.panel_session("Ana", "ana-demo")

    assert panel.get(f"{stack.panel_url}/review").status_code == 403  # admins only
    log_in(chrome, stack, "Carla", "carla-demo")
    chrome.get(f"{stack.panel_url}/review")
    card = until(chrome, lambda d: d.find_element(By.CSS_SELECTOR, f'.review[data-subject="case-{flagged.id}"]'))
    assert "Espera una elección" in card.text and "si no me gustan los puedo cambiar?" in card.text
    Select(card.find_element(By.CSS_SELECTOR, "select.intent")).select_by_visible_text("return_request")
    card.find_element(By.CSS_SELECTOR, 'button[data-choice="both"]').click()
    until(chrome, lambda d: "Escrito" in d.find_element(By.ID, "flash").text)
    judged = chrome.find_element(By.CSS_SELECTOR, f'.review[data-subject="case-{case.id}"]')
    assert "a que hora abren los sabados? soy <name>, mi cel <phone>" in judged.text  # masked as written
    chrome.save_screenshot(str(screenshots / "panel-review.png"))

    day = admin.get(f"{stack.panel_url}/api/review").json()["day"]
    written = stack.work / "review"
    stories = yaml.safe_load((written / "tests" / "stories" / f"test_review_{day}.yml").read_text())
    steps = {s["story"].split(":")[0]: s["steps"] for s in stories["stories"]}
    assert steps[f"case-{flagged.id}"][-2:] == [
        {"user": "si no me gustan los puedo cambiar?", "intent": "return_request"},
        {"action": "action_handoff"},
    ]
    assert steps[f"case-{case.id}"] == [
        {"user": "a que hora abren los sabados? soy <name>, mi cel <phone>", "intent": "ask_hours"},
        {"action": "action_answer_hours"},
    ]
    nlu = (written / "data" / "review" / f"review-{day}.yml").read_text()
    assert "# - intent: return_request\n#   examples: |\n#     - si no me gustan los puedo cambiar?" in nlu
    assert "Lucía" not in nlu and "4455" not in nlu
    assert cases.history(flagged.id)[-1].actor == "Carla"  # the choice is kept on the case

    chrome.get(f"{stack.panel_url}/reports")
    until(chrome, lambda d: d.find_element(By.ID, "chart-precision"))
    chrome.execute_script("arguments[0].scrollIntoView()", chrome.find_element(By.ID, "precision"))
    chrome.save_screenshot(str(screenshots / "panel-precision.png"))
