"""Test-only personal data to plant: published test card numbers and reserved SSNs.

Card numbers are the well-known processor test numbers, plus numbers in the 4000 0000 0000
test range completed with a Luhn check digit. SSNs come only from 987-65-4320..987-65-4329,
the range reserved for advertising and never issued.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

TEST_CARDS = (
    "4111111111111111",
    "5555555555554444",
    "378282246310005",
    "4012888888881881",
    "5105105105105100",
    "371449635398431",
    "6011111111111117",
    "3530111333300000",
    "4242424242424242",
)
GENERATED_CARD_PREFIX = "400000000000"
SSN_RANGE = tuple(f"98765432{d}" for d in range(10))


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 12:
        return False
    total = 0
    for k, ch in enumerate(reversed(digits)):
        n = int(ch)
        if k % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def luhn_complete(partial: str) -> str:
    """Append the check digit that makes ``partial`` Luhn-valid."""
    for check in "0123456789":
        if luhn_valid(partial + check):
            return partial + check
    raise AssertionError("unreachable: one check digit always fits")


def format_card(digits: str, style: str) -> str:
    groups = [4, 6, 5] if len(digits) == 15 else [4, 4, 4, 4]
    chunks, pos = [], 0
    for size in groups:
        chunks.append(digits[pos : pos + size])
        pos += size
    if style == "spaces":
        return " ".join(chunks)
    if style == "dashes":
        return "-".join(chunks)
    return digits


def format_ssn(digits: str, style: str) -> str:
    sep = " " if style == "spaces" else "-"
    return f"{digits[:3]}{sep}{digits[3:5]}{sep}{digits[5:]}"


@dataclass(frozen=True)
class PiiValue:
    kind: str  # "card" | "ssn"
    value: str  # exactly as written
    digits: str


class PiiSource:
    """Hands out planted values in a deterministic rotation."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._n = 0

    def next(self) -> PiiValue:
        n, self._n = self._n, self._n + 1
        style = ("spaces", "dashes", "plain")[n // 2 % 3]
        if n % 2 == 1:
            digits = SSN_RANGE[self._rng.randrange(len(SSN_RANGE))]
            return PiiValue("ssn", format_ssn(digits, "spaces" if n % 6 == 5 else "dashes"), digits)
        if n % 4 == 2:
            tail = f"{self._rng.randrange(1000):03d}"
            digits = luhn_complete(GENERATED_CARD_PREFIX + tail)
        else:
            digits = TEST_CARDS[(n // 4) % len(TEST_CARDS)]
        return PiiValue("card", format_card(digits, style), digits)

    @staticmethod
    def sentence(value: PiiValue) -> str:
        if value.kind == "card":
            return f"Card on file: {value.value}"
        return f"SSN for the background form: {value.value}"
