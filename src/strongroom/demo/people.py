# ruff: noqa: RUF001
# (Cyrillic and accented names are the point of this module's data.)
"""The fictional cast of the demo dump: one organisation, its staff and outside correspondents.

Every name is assembled from seeded lists; no entry refers to a real person. Outside
correspondents use domains under the reserved ``.example`` TLD (RFC 2606).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ORG_NAME = "Northwind Civic Party"
ORG_DOMAIN = "northwind-civic.org"


@dataclass(frozen=True)
class Zone:
    """A time zone with a fixed daylight-saving rule ("us", "eu" or "none")."""

    name: str
    std_minutes: int
    dst_minutes: int
    rule: str

    def offset_at(self, when: datetime) -> timedelta:
        """UTC offset in force at the aware instant ``when``."""
        if self.rule == "none":
            return timedelta(minutes=self.std_minutes)
        start, end = _dst_window(self, when.year)
        in_dst = start <= when.astimezone(UTC) < end
        return timedelta(minutes=self.dst_minutes if in_dst else self.std_minutes)


def _nth_sunday(year: int, month: int, n: int) -> datetime:
    first = datetime(year, month, 1, tzinfo=UTC)
    days = (6 - first.weekday()) % 7
    return first + timedelta(days=days + 7 * (n - 1))


def _last_sunday(year: int, month: int) -> datetime:
    nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _dst_window(zone: Zone, year: int) -> tuple[datetime, datetime]:
    if zone.rule == "us":  # 02:00 local, second Sunday of March to first Sunday of November
        start = _nth_sunday(year, 3, 2) + timedelta(hours=2, minutes=-zone.std_minutes)
        end = _nth_sunday(year, 11, 1) + timedelta(hours=2, minutes=-zone.dst_minutes)
        return start, end
    # EU: 01:00 UTC, last Sunday of March to last Sunday of October
    return (
        _last_sunday(year, 3) + timedelta(hours=1),
        _last_sunday(year, 10) + timedelta(hours=1),
    )


US_EAST = Zone("US-East", -300, -240, "us")
US_WEST = Zone("US-West", -480, -420, "us")
LONDON = Zone("London", 0, 60, "eu")
PARIS = Zone("Paris", 60, 120, "eu")
MOSCOW = Zone("Moscow", 180, 180, "none")
UTC_ZONE = Zone("UTC", 0, 0, "none")


@dataclass(frozen=True)
class Profile:
    """How one mail client writes a message."""

    mailer_header: str
    mailer: str
    charset: str  # charset for non-ASCII text
    ascii_charset: str  # label used when the text is pure ASCII
    cte: str  # transfer encoding for non-ASCII text: quoted-printable | base64 | 8bit
    header_charset: str  # charset of RFC 2047 encoded-words
    html: bool  # sends multipart/alternative
    outlook_quote: bool  # quotes with "-----Original Message-----" instead of "> "


def _profile(mailer: str, charset: str, ascii_charset: str, cte: str, **kw: object) -> Profile:
    header, _, value = mailer.partition(": ")
    return Profile(
        mailer_header=header,
        mailer=value,
        charset=charset,
        ascii_charset=ascii_charset,
        cte=cte,
        header_charset=str(kw.get("header_charset", charset)),
        html=bool(kw.get("html", False)),
        outlook_quote=bool(kw.get("outlook_quote", False)),
    )


OUTLOOK = _profile(
    "X-Mailer: Microsoft Outlook 15.0",
    "utf-8",
    "us-ascii",
    "quoted-printable",
    html=True,
    outlook_quote=True,
)
APPLE = _profile("X-Mailer: Apple Mail (2.3124)", "utf-8", "us-ascii", "quoted-printable")
THUNDERBIRD = _profile(
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:38.0) Gecko/20100101 Thunderbird/38.5.0",
    "utf-8",
    "utf-8",
    "8bit",
)
WEBMAIL = _profile("X-Mailer: Webmail 4.2", "utf-8", "utf-8", "base64", html=True)
THE_BAT = _profile("X-Mailer: The Bat! (v6.8.8) Professional", "koi8-r", "koi8-r", "8bit")
OUTLOOK_RU = _profile(
    "X-Mailer: Microsoft Outlook 14.0",
    "windows-1251",
    "us-ascii",
    "quoted-printable",
    html=True,
    outlook_quote=True,
)
EUROPE = _profile(
    "User-Agent: Roundcube Webmail/1.1.4",
    "iso-8859-1",
    "us-ascii",
    "quoted-printable",
)


@dataclass(frozen=True)
class Person:
    name: str
    address: str
    zone: Zone
    lang: str  # en | ru | fr | de
    profile: Profile
    staff: bool
    title: str

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]

    @property
    def local(self) -> str:
        return self.address.split("@", 1)[0]


STAFF_FIRST = (
    "Avery", "Blake", "Carmen", "Dana", "Elliot", "Fiona", "Gideon", "Harriet", "Imogen",
    "Jasper", "Keira", "Lionel", "Marisol", "Nolan", "Odette", "Percy", "Quinn", "Rosalind",
    "Silas", "Tamsin", "Ulric", "Verity", "Wendell", "Yvette", "Zane", "Renée", "José",
    "Zoë", "Søren", "Inés",
)  # fmt: skip
STAFF_LAST = (
    "Ashdown", "Brightwater", "Calloway", "Dunmore", "Ellery", "Fairclough", "Garrow",
    "Hollis", "Ingram", "Jessop", "Kettering", "Lowther", "Marchbank", "Northcott",
    "Oakhurst", "Pennington", "Quarles", "Redfern", "Stanwick", "Thorley", "Underhill",
    "Whitcombe", "Yardley", "Østergaard", "Müller-Lind", "Peña",
)  # fmt: skip
TITLES = (
    "Finance Director", "Deputy Communications Director", "Press Secretary", "Research Analyst",
    "Digital Organizer", "Field Director", "Finance Associate", "Scheduler", "Policy Advisor",
    "Data Manager", "Volunteer Coordinator", "Counsel", "Events Manager", "Chief of Staff",
)  # fmt: skip

# (display name, local part, title) per outside group
RUSSIAN = (
    ("Алексей Воронов", "a.voronov"), ("Вера Климова", "v.klimova"),
    ("Дмитрий Лебедев", "d.lebedev"), ("Елена Морозова", "e.morozova"),
    ("Игорь Орлов", "i.orlov"), ("Ксения Соколова", "k.sokolova"),
    ("Леонид Тихонов", "l.tikhonov"), ("Марина Зайцева", "m.zaitseva"),
)  # fmt: skip
EUROPEAN = (
    ("Françoise Lefèvre", "f.lefevre", "rive-gauche-media.example", "fr", PARIS),
    ("Hélène Girard", "h.girard", "rive-gauche-media.example", "fr", PARIS),
    ("Amélie Rousseau", "a.rousseau", "rive-gauche-media.example", "fr", PARIS),
    ("Jürgen Weiß", "j.weiss", "nordlicht-verlag.example", "de", PARIS),
    ("Björn Schäfer", "b.schaefer", "nordlicht-verlag.example", "de", PARIS),
    ("Günter Hoffmann", "g.hoffmann", "nordlicht-verlag.example", "de", PARIS),
)
AMERICAN_GROUPS = (
    ("harborview-press.example", US_EAST, "Reporter", OUTLOOK),
    ("capitol-ledger.example", US_EAST, "Editor", APPLE),
    ("lakeshore-strategies.example", US_WEST, "Consultant", THUNDERBIRD),
    ("mailbox.example", UTC_ZONE, "", WEBMAIL),
    ("londonwire.example", LONDON, "Correspondent", THUNDERBIRD),
)
RUSSIAN_DOMAINS = ("volga-courier.example", "nevsky-post.example")

STAFF_COUNT = 36
OUTSIDER_PER_GROUP = 4


def ascii_fold(text: str) -> str:
    """Lower-case ASCII rendering of a Latin name, for addresses and file names."""
    table = {"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae"}
    text = "".join(table.get(ch, ch) for ch in text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii()).lower()


@dataclass(frozen=True)
class Directory:
    staff: tuple[Person, ...]
    outsiders: tuple[Person, ...]
    mailbox_owners: tuple[Person, ...]  # staff whose mailboxes are exported as Maildirs

    @property
    def everyone(self) -> tuple[Person, ...]:
        return self.staff + self.outsiders


def _staff(rng: random.Random) -> list[Person]:
    pairs = [(f, la) for f in STAFF_FIRST for la in STAFF_LAST]
    chosen = rng.sample(pairs, STAFF_COUNT)
    zones = [US_EAST] * 25 + [US_WEST] * 5 + [UTC_ZONE] * 4 + [LONDON] * 2
    profiles = [OUTLOOK] * 18 + [APPLE] * 8 + [THUNDERBIRD] * 6 + [WEBMAIL] * 4
    rng.shuffle(zones)
    rng.shuffle(profiles)
    people = []
    seen: set[str] = set()
    for k, (first, last) in enumerate(chosen):
        local = f"{ascii_fold(first)}.{ascii_fold(last)}".replace(" ", "")
        if local in seen:
            local = f"{local}{k}"
        seen.add(local)
        people.append(
            Person(
                name=f"{first} {last}",
                address=f"{local}@{ORG_DOMAIN}",
                zone=zones[k],
                lang="en",
                profile=profiles[k],
                staff=True,
                title=TITLES[k % len(TITLES)],
            )
        )
    return people


def _outsiders(rng: random.Random) -> list[Person]:
    people = []
    pairs = [(f, la) for f in STAFF_FIRST[:25] for la in STAFF_LAST[:23]]
    chosen = iter(rng.sample(pairs, OUTSIDER_PER_GROUP * len(AMERICAN_GROUPS)))
    for domain, zone, title, profile in AMERICAN_GROUPS:
        for _ in range(OUTSIDER_PER_GROUP):
            first, last = next(chosen)
            if title:
                local = ascii_fold(f"{first[0]}{last}")
            else:
                local = ascii_fold(f"{first}.{last}{rng.randrange(10, 99)}")
            person = Person(
                f"{first} {last}", f"{local}@{domain}", zone, "en", profile, False, title
            )
            people.append(person)
    for k, (name, local) in enumerate(RUSSIAN):
        profile = THE_BAT if k % 2 == 0 else OUTLOOK_RU
        domain = RUSSIAN_DOMAINS[k % len(RUSSIAN_DOMAINS)]
        people.append(
            Person(name, f"{local}@{domain}", MOSCOW, "ru", profile, False, "Корреспондент")
        )
    for name, local, domain, lang, zone in EUROPEAN:
        title = "Journaliste" if lang == "fr" else "Redakteur"
        people.append(Person(name, f"{local}@{domain}", zone, lang, EUROPE, False, title))
    return people


def build_directory(seed: int) -> Directory:
    rng = random.Random(f"strongroom-demo/{seed}/people")
    staff = _staff(rng)
    outsiders = _outsiders(rng)
    owners = tuple(staff[:4])
    return Directory(tuple(staff), tuple(outsiders), owners)
