"""Phone numbers in logs: a leaf every layer may import."""

from __future__ import annotations

from typing import Optional


def mask_phone(phone: Optional[str]) -> str:
    """Only the last four digits, so logs identify a chat without exposing the number."""
    phone = str(phone or "")
    return f"…{phone[-4:]}" if len(phone) > 4 else phone
