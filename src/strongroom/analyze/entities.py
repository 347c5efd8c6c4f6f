"""Pattern entities in an item's text, with their offsets: email addresses, phone numbers,
URLs, IBANs, money amounts and dates; and the text analyses run after each ingest.

Offsets are Python character offsets into the text the catalog holds for the item (`texts.body`:
an email's body, an attachment's or document's extracted text), so `text[start:end]` is the
entity as written. Each kind has a normalised value to group by: a lower-case address, an E.164
phone number, a URL with its scheme, an IBAN without spaces, "USD 1500.00", an ISO date.

What is found, and what is not:
- phone numbers: the `phonenumbers` library's matcher at its "valid" leniency, numbers without a
  country code read as DEFAULT_REGION's (US); a number that overlaps a date or an IBAN is dropped;
- IBANs: only those whose ISO 13616 check digits are right;
- money: an amount with a currency sign or code before it, or a currency word after it
  ("5,000 dollars"), scaled by "million"/"bn"/"k"; a bare number is not money;
- dates: ISO (2016-05-03), "May 3, 2016", "3 May 2016" and numeric M/D/YYYY (read US-style;
  a day over 12 in the first place is read D/M); impossible dates are dropped.
"""

from __future__ import annotations

import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from strongroom.analyze.language import detect_many
from strongroom.catalog import tables_entities as te
from strongroom.catalog.index_rows import texts_for
from strongroom.catalog.store import Catalog
from strongroom.index.store import SearchIndex

VERSION = 1
DEFAULT_REGION = "US"
MAX_CHARS = 500_000  # longer texts are analysed up to here (a book-length attachment)
KINDS = ("email", "phone", "url", "iban", "money", "date")

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'\[\]{}|\\^`]+", re.IGNORECASE)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_CODES = "USD|EUR|GBP|CHF|RUB|JPY|CAD|AUD|CNY|UAH"
_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₽": "RUB"}
_WORDS = {"dollars": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP", "roubles": "RUB"}
_AMOUNT = r"\d{1,3}(?:[,.\u00a0 ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_SCALE = r"(?:\s?(?P<scale>million|billion|thousand|mn|bn|m|k)\b)?"
# The lookahead names every character a match can start with (a sign, a code's first letter,
# a digit): it finds the same matches, and halves the time of a scan, most of whose positions
# it rejects at once instead of trying every alternative there.
_MONEY_STARTS = "[$€£¥₽\\d" + "".join(sorted({code[0] for code in _CODES.split("|")})) + "]"
MONEY = re.compile(
    rf"(?={_MONEY_STARTS})"
    rf"(?:(?:(?P<sign>[$€£¥₽])\s?|\b(?P<code>{_CODES})\s?)(?P<amount>{_AMOUNT}){_SCALE}"
    rf"|\b(?P<amount2>{_AMOUNT}){_SCALE.replace('scale', 'scale2')}\s?"
    rf"(?P<word>dollars|euros?|pounds|roubles|(?:{_CODES})\b))",
    re.IGNORECASE,
)
_SCALES = {"thousand": 1000, "k": 1000, "million": 10**6, "mn": 10**6, "m": 10**6}
_SCALES |= {"billion": 10**9, "bn": 10**9}
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        )
    )
    for m in names.split()
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
DATES = (
    re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<mnum>\d{2})-(?P<day>\d{2})\b"),
    re.compile(r"\b(?P<mnum>\d{1,2})/(?P<day>\d{1,2})/(?P<year>(?:19|20)\d{2})\b"),
)
# Dates written with a month name end in a year: found by looking back from each year, which
# is far faster than trying the month names at every position of a long text.
_YEAR = re.compile(r"\b(?:1[89]|20)\d{2}\b")
WORD_DATES = (
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\Z", re.I),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>\d{{4}})\Z", re.I),
)


@dataclass(frozen=True)
class Entity:
    kind: str
    start: int
    end: int
    text: str
    value: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


_MONEY_HINTS = (*_SIGNS, *_WORDS, *(code.lower() for code in _CODES.split("|")))


def find_entities(text: str) -> list[Entity]:
    text = text[:MAX_CHARS]
    # Substring checks first: most long texts hold no address, link or amount at all, and
    # `in` is far cheaper than a regex scan.
    folded = text.lower()
    found = [
        *(_emails(text) if "@" in text else []),
        *(_urls(text) if "http" in folded or "www." in folded else []),
        *_ibans(text),
        *(_money(text) if any(hint in folded for hint in _MONEY_HINTS) else []),
        *_dates(text),
    ]
    taken = [(e.start, e.end) for e in found if e.kind in ("iban", "date", "url", "email")]
    found += [p for p in _phones(text) if not any(p.start < b and a < p.end for a, b in taken)]
    return sorted(found, key=lambda e: (e.start, e.kind))


def _emails(text: str) -> list[Entity]:
    return [Entity("email", m.start(), m.end(), m[0], m[0].lower()) for m in EMAIL.finditer(text)]


def _urls(text: str) -> list[Entity]:
    out = []
    for m in URL.finditer(text):
        written = m[0].rstrip(".,;:!?)'\"")
        if written.count("(") > written.count(")") and m[0][len(written) :].startswith(")"):
            written += ")"  # a URL that itself ends in a bracket, as Wikipedia's do
        value = written if "://" in written else "http://" + written
        out.append(Entity("url", m.start(), m.start() + len(written), written, value))
    return out


def iban_valid(iban: str) -> bool:
    if not 15 <= len(iban) <= 34:
        return False
    moved = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def _ibans(text: str) -> list[Entity]:
    out = []
    for m in IBAN.finditer(text):
        compact = m[0].replace(" ", "")
        if iban_valid(compact):
            out.append(Entity("iban", m.start(), m.end(), m[0], compact))
    return out


def _amount(written: str) -> Decimal | None:
    digits = written.replace("\u00a0", "").replace(" ", "")
    if "," in digits and "." in digits:
        decimal_mark = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", digits):
        decimal_mark = None  # 5,000 / 5.000: thousands
    else:
        decimal_mark = "," if "," in digits else "."
    thousands = {",", "."} - {decimal_mark}
    for mark in thousands:
        digits = digits.replace(mark, "")
    if decimal_mark == ",":
        digits = digits.replace(",", ".")
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def _money(text: str) -> list[Entity]:
    out = []
    for m in MONEY.finditer(text):
        written_amount = m["amount"] or m["amount2"]
        currency = (
            _SIGNS.get(m["sign"] or "")
            or (m["code"] or "").upper()
            or _WORDS.get((m["word"] or "").lower())
            or (m["word"] or "").upper()
        )
        amount = _amount(written_amount)
        if amount is None or not currency:
            continue
        scale = (m["scale"] or m["scale2"] or "").lower()
        amount *= _SCALES.get(scale, 1)
        end = m.end()
        while end > m.start() and text[end - 1].isspace():
            end -= 1
        out.append(
            Entity("money", m.start(), end, text[m.start() : end], f"{currency} {amount:.2f}")
        )
    return out


def _dates(text: str) -> list[Entity]:
    out: list[Entity] = []

    def add(m: re.Match[str], offset: int, numeric: bool) -> None:
        groups = m.groupdict()
        month = _MONTHS.get((groups.get("month") or "").lower()) or int(groups.get("mnum") or 0)
        day = int(m["day"])
        if numeric and month > 12 >= day:  # 25/12/2016 is D/M
            month, day = day, month
        try:
            value = date(int(m["year"]), month, day).isoformat()
        except ValueError:
            return
        start, end = m.start() + offset, m.end() + offset
        if not any(e.start < end and start < e.end for e in out):
            out.append(Entity("date", start, end, m[0], value))

    for pattern in DATES:
        for m in pattern.finditer(text):
            add(m, 0, pattern is DATES[1])
    for year in _YEAR.finditer(text):
        begin = max(0, year.start() - 24)
        window = text[begin : year.end()]
        for pattern in WORD_DATES:
            if found := pattern.search(window):
                add(found, begin, False)
                break
    return sorted(out, key=lambda e: e.start)


# A phone number is 7 to 15 digits with separators: only such spans are handed to the
# phonenumbers matcher, whose own scan of a long text costs far more (2 us a character).
_PHONE_SPAN = re.compile(r"(?<!\w)[+(]?\d[\d \t().\-/]{5,24}\d(?!\w)")


def _phones(text: str) -> list[Entity]:
    import phonenumbers

    out = []
    for span in _PHONE_SPAN.finditer(text):
        if not 7 <= sum(ch.isdigit() for ch in span[0]) <= 15:
            continue
        begin = max(0, span.start() - 2)
        window = text[begin : span.end() + 2]
        matcher = phonenumbers.PhoneNumberMatcher(
            window, DEFAULT_REGION, leniency=phonenumbers.Leniency.VALID
        )
        for match in matcher:
            value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            start = begin + match.start
            out.append(
                Entity("phone", start, start + len(match.raw_string), match.raw_string, value)
            )
    return out


# -- the case ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextStats:
    analysed: int
    entities: int
    languages: dict[str, int]
    nums: list[int]

    def to_json(self) -> dict[str, Any]:
        return {"analysed": self.analysed, "entities": self.entities, "languages": self.languages}


def _entities_json(text: str) -> list[dict[str, Any]]:
    return [e.to_json() for e in find_entities(text)]


def analyse_texts(catalog: Catalog, workers: int = 1) -> TextStats:
    """Entities and language of every item with text not yet analysed by this version.
    With workers > 1 and more than one batch, entities are found in worker processes while
    this one detects languages (lingua's models, 600 MB, stay in one process)."""
    analysed = entities = 0
    languages: dict[str, int] = {}
    nums: list[int] = []
    batches = te.pending(catalog, VERSION)
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 and len(batches) > 1 else None
    try:
        for batch in batches:
            texts = texts_for(catalog, batch)
            bodies = [texts.get(num) or "" for num in batch]
            # submitted before the first language detection, so workers fork before lingua
            # starts its threads
            found = pool.map(_entities_json, bodies, chunksize=10) if pool else None
            langs = detect_many(bodies)
            results = []
            for num, body, lang, in_worker in zip(
                batch, bodies, langs, found or [None] * len(batch), strict=True
            ):
                extracted = in_worker if in_worker is not None else _entities_json(body)
                results.append((num, extracted, lang))
                entities += len(extracted)
                languages[lang or "none"] = languages.get(lang or "none", 0) + 1
            te.write(catalog, VERSION, results)
            analysed += len(batch)
            nums += batch
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return TextStats(analysed, entities, dict(sorted(languages.items())), nums)


def item_entities(catalog: Catalog, num: int) -> dict[str, Any]:
    return te.item_entities(catalog, num)


def analyse_case(catalog: Catalog, index: SearchIndex, workers: int = 1) -> dict[str, Any]:
    """What ingest runs: entities and language of new texts, people regrouped (cheap: only new
    emails' records are read), and the index told of items already indexed whose facts
    changed (a merge renumbers the people of old mail)."""
    from strongroom.analyze.people import analyse_people

    texts = analyse_texts(catalog, workers)
    people = analyse_people(catalog)
    index.refresh(catalog, sorted(set(texts.nums) | set(people.changed)))
    return {"texts": texts.to_json(), "people": people.to_json()}
