"""How many SMS segments a text costs (GSM 03.38 7-bit alphabet, else UCS-2)."""

from __future__ import annotations

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"  # each costs two septets (escape + char)
SEGMENT_GSM7, PART_GSM7 = 160, 153
SEGMENT_UCS2, PART_UCS2 = 70, 67


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def sms_length(text: str) -> int:
    """Septets for a GSM-7 text, UTF-16 code units otherwise."""
    if is_gsm7(text):
        return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """1 for a text that fits one SMS; long texts are split into concatenated parts."""
    length = sms_length(text)
    single, part = (SEGMENT_GSM7, PART_GSM7) if is_gsm7(text) else (SEGMENT_UCS2, PART_UCS2)
    if length <= single:
        return 1
    return -(-length // part)
