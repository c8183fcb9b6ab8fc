"""Webhook signing: the header a receiver checks."""

from __future__ import annotations

from services.inference_worker.webhook import encode_payload, send_webhook, sign, verify


def test_signature_is_hex_hmac_sha256_of_the_exact_body() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign(b"what do ya want for nothing?", "Jefe") == f"sha256={expected}"


def test_verify_rejects_a_changed_body_or_secret() -> None:
    body = encode_payload({"status": "succeeded", "analysis_id": "a"})
    header = sign(body, "s3cret")
    assert verify(body, "s3cret", header)
    assert not verify(body + b" ", "s3cret", header)
    assert not verify(body, "other", header)


def test_payload_encoding_is_stable() -> None:
    assert encode_payload({"b": 1, "a": None}) == b'{"a":null,"b":1}'


def test_only_http_urls_are_called() -> None:
    assert send_webhook("file:///etc/passwd", {"a": 1}, "s") is False
    assert send_webhook("ftp://127.0.0.1/x", {"a": 1}, "s") is False
