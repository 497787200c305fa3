"""What WhatsApp takes (posta.media.problem) and where Posta keeps it (MediaStore)."""

import pytest

from posta import media, privacy
from posta.media import MB, MediaStore


@pytest.mark.parametrize(
    "kind, mime_type, size, why",
    [
        ("image", "image/png", 4 * MB, None),
        ("image", "image/jpeg", 5 * MB + 1, "size"),
        ("image", "image/gif", 1000, "type"),
        ("voice", "audio/ogg; codecs=opus", 2 * MB, None),  # a voice note is audio
        ("video", "video/mp4", 17 * MB, "size"),
        ("sticker", "image/webp", 600 * 1024, "size"),
        ("document", "application/pdf", 99 * MB, None),
        ("document", "application/zip", 1000, "type"),
        ("location", "", 0, "kind"),
    ],
)
def test_what_whatsapp_takes(kind, mime_type, size, why):
    found = media.problem(kind, mime_type, size)
    assert (found or {}).get("why") == why


def test_the_reason_says_sizes_a_person_reads():
    assert media.problem("image", "image/jpeg", 6 * MB + 2) == {
        "why": "size",
        "kind": "image",
        "size_mb": "6",
        "most_mb": "5",
    }


def test_kept_with_the_conversation_and_erased_with_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'media.db'}"
    kept = MediaStore(url)
    voice = kept.save("5215599990001", media.IN, "voice", "audio/ogg", b"OggS...", source_id="wamid-media-1")
    kept.save("5215599990002", media.IN, "image", "image/png", b"png")
    assert kept.get(voice.id, with_content=True).content == b"OggS..."
    assert [m.kind for m in kept.of_conversation("5215599990001")] == ["voice"]
    assert privacy.erase(kept.engine, "5215599990001")["media"] == 1
    assert kept.of_conversation("5215599990001") == [] and len(kept.of_conversation("5215599990002")) == 1
