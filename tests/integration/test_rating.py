"""How did we do? Through the real servers: after a person hands back, the customer gets
one rating question with reply buttons, inside the 24-hour window only; the answer is kept
on the case once, a low one reaches the admins, and a button Posta never sent is words.
After the bot alone, a low answer puts the conversation on the review page."""

from datetime import timedelta

from harness import phones
from harness.phones import Phone, agent_phone, shown, taken
from posta import config as business_config
from posta import jobs
from posta.db import utcnow
from posta.schema import contacts
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.outbox import Outbox


def handled_by_ana(cases, customer, ana):
    case = taken(cases, customer, ana)
    ana.text("Listo, ya te lo reservé")
    customer.wait()
    return case


def test_one_question_per_case_kept_once_and_a_low_one_reaches_the_admins(stack, cases, customer, ana):
    carla = agent_phone(stack, phones.CARLA, "Carla")  # the admin
    case = handled_by_ana(cases, customer, ana)
    ana.text("listo")
    follow_up, question = customer.wait(count=2)
    assert "¿Hay algo más" in shown(follow_up) and "¿cómo te atendimos?" in shown(question)
    buttons = question["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == [f"posta:rate:{case.id}:{score}" for score in (3, 2, 1)]

    customer.press(f"posta:rate:{case.id}:1", "😞 Mal")
    assert shown(customer.wait()[0]) == "¡Gracias por contarnos!"
    rated = cases.get(case.id)
    assert rated.rating == 1 and rated.rated_at is not None
    assert f"calificó mal la atención del caso #{case.id} (Ana)" in shown(carla.wait_for_text("calificó mal")[-1])

    customer.press(f"posta:rate:{case.id}:3", "😀 Bien")  # a second tap changes nothing, says nothing
    assert customer.quiet(2) == [] and cases.get(case.id).rating == 1


def test_no_question_once_the_window_has_closed(stack, cases, ana):
    customer = Phone(stack, name="Tardía")
    case = handled_by_ana(cases, customer, ana)
    with cases.engine.begin() as conn:  # the customer's last message, 25 hours ago
        conn.execute(
            contacts.update()
            .where(contacts.c.phone == customer.number)
            .values(last_inbound_at=utcnow() - timedelta(hours=25))
        )
    ana.text("listo")
    ana.wait_for_text("devuelto al bot")
    assert not any("atendimos" in shown(b) for b in customer.quiet(3))
    assert cases.get(case.id).rating is None


def test_a_rating_button_posta_never_sent_is_only_words(stack, cases, customer):
    customer.text("hola")
    customer.wait()
    customer.press("posta:rate:1:3", "😀 Bien")
    customer.wait()  # the bot answers the words
    assert all(c.rating is None for c in cases.cases(conversation_id=customer.number))


def test_after_the_bot_alone_the_customer_is_asked_once_and_a_low_answer_goes_to_review(stack, cases, database_url):
    """The timed job (run here at a moved clock: the stack's worker does not run jobs), the
    question through the real worker and fake Graph API, the tap through the real webhook."""
    customer = Phone(stack, name="Sola")
    customer.text("donde estan ubicados?")
    customer.wait()
    later = utcnow() + timedelta(minutes=31)
    config = business_config.current()
    asked = jobs.bot_ratings(config, cases, Outbox(database_url), Contacts(database_url), later)
    assert f"rate-bot:{customer.number}" in asked
    question = customer.wait_for_text("¿te sirvieron mis respuestas?")[-1]
    low = question["interactive"]["action"]["buttons"][-1]["reply"]["id"]
    assert jobs.bot_ratings(config, cases, Outbox(database_url), Contacts(database_url), later) == []  # once

    customer.press(low, "😞 Mal")
    assert shown(customer.wait()[0]) == "¡Gracias por contarnos!"
    admin = stack.panel_session("Carla", "carla-demo")
    items = admin.get(f"{stack.panel_url}/api/review").json()["items"]
    mine = [i for i in items if i["customer"] == customer.number]
    assert [(i["because"], i["turns"][0]["text"]) for i in mine] == [("miss_low_rating", "donde estan ubicados?")]
    assert cases.latest_case_for(customer.number) is None  # no case: the bot handled it alone
