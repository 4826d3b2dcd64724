"""What the portal's and the console's cookies are made of: payloads signed with the server
secret under a label of their own (so one kind of cookie can never pass for another), in
unpadded URL-safe base64."""

from __future__ import annotations

import base64
import hashlib
import hmac


def mac(secret: bytes, label: bytes, payload: str) -> bytes:
    """HMAC-SHA256 of ``payload`` under a key derived from ``secret`` and ``label``."""
    key = hmac.new(secret, label, hashlib.sha256).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    """The bytes of :func:`b64`'s text; ValueError (binascii.Error) when it is not base64."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
