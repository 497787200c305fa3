"""Photos, voice notes, documents, locations and contact cards, both ways, through the real
servers: the bytes a customer's phone sent are the bytes the agent's phone gets (and back),
kept with the conversation and erased with the customer. The Graph API fake hands out
download URLs that expire, accepts only uploads within WhatsApp's limits, and refuses a
media message that does not send an upload of the business number."""

import os

from harness import phones
from harness.phones import Phone, agent_phone, case_of, shown, taken
from posta import media

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(2048)  # a "photo": random bytes, so equal means the same
VOICE = b"OggS" + os.urandom(4096)
PDF = b"%PDF-1.4\n" + os.urandom(8192)


def kept(database_url, conversation_id):
    return media.MediaStore(database_url).of_conversation(conversation_id)


def test_a_photo_sent_to_the_bot_reaches_the_agent_after_the_summary(stack, cases, database_url, customer, ana):
    customer.send_media("image", PNG, "image/png", caption="se me rompió la patilla, miren")
    assert "Te paso con" in shown(customer.wait_for_text("Te paso con")[-1])
    case = case_of(cases, customer)
    [photo] = kept(database_url, customer.number)
    assert (photo.direction, photo.kind, photo.mime_type, photo.size) == ("in", "image", "image/png", len(PNG))
    assert case.summary.messages[-1].media["posta_media"] == photo.id  # the summary lists it

    notification = ana.wait_for_text(f"Tomar #{case.id}")
    [image] = [b for b in notification if b["type"] == "image"]
    assert stack.graph.media_of(image).content == PNG  # re-uploaded to the business number, same bytes
    assert image["image"]["caption"] == "Lucía: [adjunto: image] se me rompió la patilla, miren"


def test_media_both_ways_while_a_person_owns_the_chat(stack, cases, database_url, customer, ana):
    taken(cases, customer, ana)

    customer.send_media("audio", VOICE, "audio/ogg; codecs=opus", voice=True)
    line, audio = ana.wait(count=2)
    assert shown(line) == "Lucía: [adjunto: voice]" and audio["type"] == "audio" and "caption" not in audio["audio"]
    assert stack.graph.media_of(audio).content == VOICE
    customer.send_media("document", PDF, "application/pdf", caption="la receta", filename="receta.pdf")
    [document] = ana.wait()
    assert document["document"]["filename"] == "receta.pdf" and stack.graph.media_of(document).content == PDF
    place = {"latitude": -34.6037, "longitude": -58.3816, "name": "Obelisco", "address": "Av. 9 de Julio"}
    customer.post(customer.message("location", place))
    line, location = ana.wait(count=2)
    assert location["location"] == place

    ana.send_media("document", PDF, "application/pdf", caption="Tu presupuesto", filename="presupuesto.pdf")
    [sent] = customer.wait()
    assert sent["type"] == "document" and sent["document"]["filename"] == "presupuesto.pdf"
    assert sent["document"]["caption"] == "Tu presupuesto" and stack.graph.media_of(sent).content == PDF
    ana.send_media("image", PNG, "image/jpeg")
    [photo] = customer.wait()
    assert photo["type"] == "image" and stack.graph.media_of(photo).content == PNG
    assert [(m.direction, m.kind) for m in kept(database_url, customer.number)] == [
        ("in", "voice"),
        ("in", "document"),
        ("out", "document"),
        ("out", "image"),
    ]

    # Erasing the customer erases their media too.
    carla = agent_phone(stack, phones.CARLA, "Carla")
    carla.text(f"borrar {customer.number}")
    carla.wait_for_text("borré todo")
    assert kept(database_url, customer.number) == []


def test_what_whatsapp_would_refuse_is_refused_with_the_reason(stack, cases, database_url, customer, ana):
    taken(cases, customer, ana)

    too_big = b"\xff\xd8" + bytes(6 * media.MB)  # WhatsApp takes images of up to 5 MB
    ana.send_media("image", too_big, "image/jpeg", caption="mirá")
    assert "pesa 6 MB y WhatsApp acepta hasta 5 MB" in shown(ana.wait_for_text("No se lo pasé")[-1])
    assert customer.quiet(2) == []  # nothing half-sent
    assert kept(database_url, customer.number) == []


def test_an_expired_download_url_is_asked_for_again_and_a_lost_one_is_said(stack, cases, database_url, ana):
    customer = Phone(stack, name="Marta")
    taken(cases, customer, ana)

    stack.graph.expire_next_links(1)  # the first URL is already stale: a fresh one is asked for
    customer.send_media("image", PNG, "image/png", caption="así quedó")
    [image] = ana.wait()
    assert stack.graph.media_of(image).content == PNG

    stack.graph.expire_next_links(10)  # Meta never lets us have it: the agent still hears of it
    try:
        customer.send_media("image", PNG, "image/png", caption="otra")
        [line] = ana.wait()
    finally:
        stack.graph.expire_next_links(0)
    assert shown(line).startswith("Marta: [adjunto: image] otra")
    assert len(kept(database_url, customer.number)) == 1


KINDS = [  # (message type, MIME type, a voice note?) of every kind WhatsApp carries
    ("image", "image/jpeg", False),
    ("audio", "audio/mpeg", False),
    ("audio", "audio/ogg; codecs=opus", True),
    ("video", "video/mp4", False),
    ("document", "application/pdf", False),
    ("sticker", "image/webp", False),
]


def test_every_kind_both_ways_the_same_bytes(stack, cases, database_url, customer, ana):
    taken(cases, customer, ana)
    for type_, mime_type, voice in KINDS:
        content = os.urandom(3000)
        customer.send_media(type_, content, mime_type, voice=voice)
        [copy] = [b for b in ana.wait(lambda new, t=type_: any(b["type"] == t for b in new)) if b["type"] == type_]
        assert stack.graph.media_of(copy).content == content, type_
        back = os.urandom(3000)
        ana.send_media(type_, back, mime_type, voice=voice)
        [sent] = [b for b in customer.wait(lambda new, t=type_: any(b["type"] == t for b in new)) if b["type"] == type_]
        assert stack.graph.media_of(sent).content == back, type_
    assert len(kept(database_url, customer.number)) == 2 * len(KINDS)


def test_a_customers_file_too_large_to_forward_stays_in_the_panel_and_both_hear_why(
    stack, cases, database_url, customer, ana
):
    taken(cases, customer, ana)
    video = os.urandom(17 * media.MB)  # WhatsApp sends videos of up to 16 MB
    customer.send_media("video", video, "video/mp4", caption="el video del problema")
    told = shown(customer.wait_for_text("más grande de lo que WhatsApp deja reenviar")[-1])
    assert "hasta 16 MB" in told
    [line] = ana.wait()
    assert line["type"] == "text" and "está en el panel" in shown(line)
    [stored] = kept(database_url, customer.number)
    assert stored.size == len(video)  # kept whole, for the panel
