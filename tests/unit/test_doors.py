"""What every server checks at its door."""

import pytest

from posta import web


@pytest.mark.parametrize(
    "method, headers, refused",
    [
        ("POST", {}, False),  # a program: Meta, curl, another server
        ("POST", {"Origin": "http://127.0.0.1:5005", "Host": "127.0.0.1:5005"}, False),
        ("POST", {"Origin": "https://evil.example", "Host": "127.0.0.1:5005"}, True),
        ("POST", {"Origin": "http://127.0.0.1:5006", "Host": "127.0.0.1:5005"}, True),  # another port is another origin
        ("POST", {"Origin": "null", "Host": "127.0.0.1:5005"}, True),
        ("POST", {"Origin": "null", "Sec-Fetch-Site": "same-origin"}, False),  # a form on a no-referrer page
        ("POST", {"Origin": "null", "Sec-Fetch-Site": "cross-site"}, True),
        ("GET", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}, True),  # an <img> pointed at the API
        ("GET", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, False),  # following a link
        ("POST", {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "navigate"}, True),  # a form posted from elsewhere
        ("GET", {"Sec-Fetch-Site": "same-origin"}, False),
    ],
)
def test_cross_site(method, headers, refused):
    assert web.cross_site(method, headers) is refused


def test_secrets_are_compared_as_bytes_and_refused_when_missing():
    assert web.same_secret("abc", "abc") and not web.same_secret("abd", "abc")
    assert not web.same_secret("ñ" * 3, "abc") and not web.same_secret("\ud800", "abc")
    assert not web.same_secret("", "") and not web.same_secret(None, "abc")
    with pytest.raises(web.NotConfigured, match="TOKEN is not set"):
        web.secret("TOKEN", "it guards", {})
    with pytest.raises(web.NotConfigured, match="shorter than 16"):
        web.secret("TOKEN", "it guards", {"TOKEN": "change-me"})
    assert web.secret("TOKEN", "it guards", {"TOKEN": "x" * 16}) == "x" * 16
