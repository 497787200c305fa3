"""The Graph API fake holds Posta to the Cloud API's rules: what it refuses, Meta would."""

import pytest
import requests

from simulator.graph_api import FakeGraphAPI


@pytest.fixture
def graph():
    fake = FakeGraphAPI()
    server = fake.start_in_thread()
    fake.url = server.url
    yield fake
    server.stop()


def post(graph, path, **request):
    return requests.post(
        f"{graph.url}/v21.0/{graph.phone_number_id}/{path}",
        headers={"Authorization": f"Bearer {graph.access_token}"},
        timeout=10,
        **request,
    )


def text(to, body, **extra):
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}, **extra}


def test_a_quote_or_a_reaction_must_be_on_a_message_of_the_same_chat(graph):
    anas = post(graph, "messages", json=text("5491155550001", "Comandos")).json()["messages"][0]["id"]
    other_chat = post(graph, "messages", json=text("5491100000000", "hola", context={"message_id": anas}))
    assert other_chat.status_code == 400 and "another chat" in other_chat.json()["error"]["error_data"]["details"]
    same_chat = post(graph, "messages", json=text("5491155550001", "sí", context={"message_id": anas}))
    assert same_chat.status_code == 200
    reaction = {"messaging_product": "whatsapp", "to": "5491100000000", "type": "reaction"}
    refused = post(graph, "messages", json={**reaction, "reaction": {"message_id": anas, "emoji": "👍"}})
    assert refused.status_code == 400


def test_only_a_received_message_is_marked_read(graph):
    ours = post(graph, "messages", json=text("5491100000000", "hola")).json()["messages"][0]["id"]
    mark = {"messaging_product": "whatsapp", "status": "read"}
    refused = post(graph, "messages", json={**mark, "message_id": ours})
    assert refused.status_code == 400 and "only received messages" in refused.json()["error"]["error_data"]["details"]
    typing = post(
        graph, "messages", json={**mark, "message_id": "wamid.FROMTHEPHONE", "typing_indicator": {"type": "text"}}
    )
    assert typing.json() == {"success": True} and graph.receipts() == [("wamid.FROMTHEPHONE", True)]


def test_uploads_within_the_documented_limits_and_media_sent_by_their_id(graph):
    def upload(content, mime_type):
        files = {"file": ("f", content, mime_type)}
        return post(graph, "media", data={"messaging_product": "whatsapp", "type": mime_type}, files=files)

    assert upload(b"\xff" * (5 * 1024 * 1024 + 1), "image/jpeg").status_code == 400  # images: 5 MB
    assert upload(b"GIF89a", "image/gif").status_code == 400  # not a supported type
    photo = upload(b"\x89PNG...", "image/png").json()["id"]
    image = {"messaging_product": "whatsapp", "to": "5491100000000", "type": "image"}
    assert post(graph, "messages", json={**image, "image": {"id": photo}}).status_code == 200
    someone_elses = graph.add_media(b"\x89PNG...", "image/png")  # a phone's, not this number's upload
    assert post(graph, "messages", json={**image, "image": {"id": someone_elses}}).status_code == 400
    voice = {"messaging_product": "whatsapp", "to": "5491100000000", "type": "audio"}
    assert post(graph, "messages", json={**voice, "audio": {"id": photo, "caption": "x"}}).status_code == 400


def test_download_urls_expire(graph):
    media_id = graph.add_media(b"OggS", "audio/ogg")
    auth = {"Authorization": f"Bearer {graph.access_token}"}
    graph.expire_next_links(1)
    stale = requests.get(f"{graph.url}/v21.0/{media_id}", headers=auth, timeout=10).json()["url"]
    assert requests.get(stale, headers=auth, timeout=10).status_code == 404
    fresh = requests.get(f"{graph.url}/v21.0/{media_id}", headers=auth, timeout=10).json()
    assert requests.get(fresh["url"], headers=auth, timeout=10).content == b"OggS" and fresh["file_size"] == 4
    assert requests.get(fresh["url"], timeout=10).status_code == 401  # the token is needed to download
