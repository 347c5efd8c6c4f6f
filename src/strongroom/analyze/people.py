"""Correspondents grouped into people, with the reason for every grouping (docs/people.md).

An address is one person unless the evidence says two addresses are the same person:

1. Same name. Two addresses written with the same normalised display name (accents, case,
   punctuation, initials and titles ignored; "Kean, Steven" reads as "Steven Kean"; at least a
   first and a last name) are one person when both belong to one organisation (the same
   registered mail domain), or one of them is at a personal mail provider and the name appears
   at only one organisation. The same name at two organisations is only *suggested*: two
   people can share a name, and the demo's own cast does.
2. Reply. A reply (its In-Reply-To names a message in the case) sent from address B to a
   message whose only recipient was address A, where B did not write that message, and A's and
   B's names share the last name and a compatible first name ("Vince"/"Vincent", "V."): the
   person A wrote to answered from B.
3. Users decide last: `merge A B` joins two people, `split ADDRESS` takes an address out of
   every automatic grouping; decisions survive re-analysis and can be undone.

Names come from the address headers and, where those carry none, from the X-From/X-To/X-cc/
X-bcc headers some mail-system exports add (read only when they line up with the addresses).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from strongroom.analyze.forensics import organizational_domain
from strongroom.catalog import people_store
from strongroom.catalog.audit import record
from strongroom.catalog.store import Catalog
from strongroom.errors import NotFound, UsageError

VERSION = 1
X_HEADERS = {"x-from": "from", "x-to": "to", "x-cc": "cc", "x-bcc": "bcc"}
RECIPIENT_ROLES = ("to", "cc", "bcc")
HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "jr", "sr", "ii", "iii", "iv", "phd", "esq"}
)
# Mail providers whose users are private persons, not members of one organisation.
PERSONAL_PROVIDERS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "hotmail.com",
        "hotmail.co.uk", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
        "mac.com", "gmx.de", "gmx.net", "gmx.com", "web.de", "mail.ru", "yandex.ru", "bk.ru",
        "list.ru", "inbox.ru", "rambler.ru", "protonmail.com", "proton.me", "pm.me",
        "comcast.net", "earthlink.net", "att.net", "verizon.net", "sbcglobal.net", "juno.com",
        "netzero.net", "excite.com", "mail.com", "zoho.com", "orange.fr", "free.fr",
        "laposte.net", "wanadoo.fr", "t-online.de", "libero.it", "qq.com", "163.com", "126.com",
    }
)  # fmt: skip
_ADDRESS_IN = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


# -- names -----------------------------------------------------------------------------------------
def clean_name(raw: str) -> str:
    """A display name as people read it: no <address>, quotes, "(E-mail)" or Notes domain."""
    name = re.sub(r"<[^>]*>", " ", raw)
    name = re.sub(r"\((?:e-?mail|business fax)\)", " ", name, flags=re.IGNORECASE)
    name = " ".join(name.split()).strip("\"' ")
    name = name.strip("\"' ")
    if "/" in name and " " in name:  # Lotus Notes "Lysa Akin/Enron@EnronXGate"
        name = name.split("/", 1)[0]
    if "@" in name:
        if " " not in name.strip():  # an address, not a name
            return ""
        name = re.sub(r"@\S*$", "", name)  # Notes "Joe Hartsoe@ENRON"
        if "@" in name:
            return ""
    return " ".join(name.split()).strip("\"' ,")


def name_tokens(name: str) -> list[str]:
    """Name words, first name first, folded to unaccented lower case; initials kept."""
    name = clean_name(name)
    if name.count(",") == 1:  # "Kaminski, Vince J"
        last, first = name.split(",")
        name = f"{first} {last}"
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    folded = folded.casefold().replace("'", "").replace("\u2019", "")
    words = re.findall(r"[^\W\d_]+", folded)
    return [w for w in words if w not in HONORIFICS]


def name_key(name: str) -> str | None:
    """What the same-name rule compares: the name's words without initials; None unless there
    are at least two (a first and a last name)."""
    words = [w for w in name_tokens(name) if len(w) > 1]
    return " ".join(words) if len(words) >= 2 else None


def names_compatible(a: str, b: str) -> bool:
    """Same last name, and first names one of which starts the other ("v", "vince", "vincent")."""
    ta, tb = name_tokens(a), name_tokens(b)
    if len(ta) < 2 or len(tb) < 2 or ta[-1] != tb[-1] or len(ta[-1]) < 2:
        return False
    return ta[0].startswith(tb[0]) or tb[0].startswith(ta[0])


def organisation(address_key: str) -> str | None:
    """The registered domain of an address; None for something that is not an address."""
    _, at, domain = address_key.rpartition("@")
    if not at or "." not in domain:
        return None
    return organizational_domain(domain)


def is_personal(address_key: str) -> bool:
    _, _, domain = address_key.rpartition("@")
    return domain in PERSONAL_PROVIDERS or organisation(address_key) in PERSONAL_PROVIDERS


# -- one email -------------------------------------------------------------------------------------
def x_header_names(record: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(role, position, name) from X-From/X-To/X-cc/X-bcc, for addresses written without a
    name; only when the header's entries line up one to one with the addresses."""
    addresses = record.get("addresses") or {}
    found: list[tuple[str, int, str]] = []
    for header, value in record.get("headers") or []:
        role = X_HEADERS.get(str(header).lower())
        entries = addresses.get(role) if role else None
        if not entries or not str(value).strip():
            continue
        parts = _aligned(str(value), [str(e.get("address", "")) for e in entries])
        for position, (entry, part) in enumerate(zip(entries, parts, strict=True)):
            name = clean_name(part)
            if name and not entry.get("name"):
                found.append((str(role), position, name))
    return found


def _aligned(value: str, addresses: list[str]) -> list[str]:
    if len(addresses) == 1:
        candidates = [[value]]
    else:
        candidates = [_split_top(value), re.split(r"(?<=>)\s*,\s*", value.strip())]
    for parts in candidates:
        if len(parts) == len(addresses) and all(
            _consistent(part, address) for part, address in zip(parts, addresses, strict=True)
        ):
            return parts
    return [""] * len(addresses)


def _consistent(part: str, address: str) -> bool:
    """An entry that names an address must name this one."""
    written = {m.lower() for m in _ADDRESS_IN.findall(part)}  # "Joe Hartsoe@Enron" names none
    return not written or address.lower() in written


def _split_top(value: str) -> list[str]:
    """Split at commas outside quotes and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quote, angle = False, 0
    for ch in value:
        if ch == '"':
            quote = not quote
        elif ch == "<" and not quote:
            angle += 1
        elif ch == ">" and not quote and angle:
            angle -= 1
        elif ch == "," and not quote and not angle:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def reply_ids(record: dict[str, Any]) -> list[str]:
    value = record.get("in_reply_to") or []
    ids = [value] if isinstance(value, str) else list(value)
    return [str(i).strip().strip("<>") for i in ids if str(i).strip()]


# -- grouping (pure) -------------------------------------------------------------------------------
@dataclass
class Link:
    a: str
    b: str
    rule: str  # same-name | reply | user
    reason: str
    detail: dict[str, Any]


@dataclass
class Grouping:
    persons: list[dict[str, Any]]
    links: list[dict[str, Any]]
    retired: dict[int, int | None]
    facts: dict[int, set[tuple[str, str]]]
    person_of: dict[str, int] = field(default_factory=dict)


def group(
    rows: list[tuple[int, str, str, str]],
    reply_pairs: list[tuple[int, int]],
    user_decisions: list[dict[str, Any]],
    previous: dict[str, int],
    highest: int,
) -> Grouping:
    """rows: (item, role, address_key, name). Returns people, links, retired ids and facts."""
    items: dict[str, set[int]] = defaultdict(set)
    names: dict[str, Counter[str]] = defaultdict(Counter)
    roles: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for num, role, key, raw in rows:
        items[key].add(num)
        roles[num][role].append(key)
        name = clean_name(raw)
        if name and name.lower() != key:
            names[key][name] += 1
    automatic = _same_name_links(names) + _reply_links(reply_pairs, roles, names)
    links, detached = _decided(user_decisions)
    parent = {key: key for key in items}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    applied: list[tuple[Link, bool]] = []
    for link in links + [lk for lk in automatic if not ({lk.a, lk.b} & detached)]:
        if link.a not in parent or link.b not in parent:
            continue
        if link.rule == "suggested":
            applied.append((link, False))
            continue
        ra, rb = find(link.a), find(link.b)
        if ra != rb:
            parent[rb] = ra
            applied.append((link, True))
    components: dict[str, list[str]] = defaultdict(list)
    for key in sorted(items):
        components[find(key)].append(key)
    return _assign(components, items, names, applied, previous, highest, roles)


def _same_name_links(names: dict[str, Counter[str]]) -> list[Link]:
    by_key: dict[str, set[str]] = defaultdict(set)
    written: dict[tuple[str, str], str] = {}
    for address, counts in names.items():
        for name in counts:
            key = name_key(name)
            if key:
                by_key[key].add(address)
                written.setdefault((key, address), name)
    links = []
    for key, members in sorted(by_key.items()):
        if len(members) < 2:
            continue
        by_org: dict[str, list[str]] = defaultdict(list)
        personal: list[str] = []
        for address in sorted(members):
            org = organisation(address)
            if org is None:
                continue
            (personal if is_personal(address) else by_org[org]).append(address)
        groups = list(by_org.values())
        if len(groups) <= 1:
            groups = [(groups[0] if groups else []) + personal]
        elif personal:
            groups.append(personal)
        for members_of_org in groups:
            for other in members_of_org[1:]:
                first = members_of_org[0]
                reason = f"both written with the name “{written[(key, first)]}”" + (
                    f" / “{written[(key, other)]}”"
                    if written[(key, other)] != written[(key, first)]
                    else ""
                )
                links.append(Link(first, other, "same-name", reason, {"name_key": key}))
        heads = [g[0] for g in groups if g]
        for other in heads[1:]:
            links.append(
                Link(
                    heads[0],
                    other,
                    "suggested",
                    f"the same name “{written[(key, other)]}” at different organisations: "
                    "possibly two people; merge them if they are one",
                    {"name_key": key},
                )
            )
    return links


def _reply_links(
    pairs: list[tuple[int, int]],
    roles: dict[int, dict[str, list[str]]],
    names: dict[str, Counter[str]],
) -> list[Link]:
    seen: set[tuple[str, str]] = set()
    links = []
    for reply, original in pairs:
        recipients = {k for role in RECIPIENT_ROLES for k in roles[original].get(role, [])}
        senders = roles[reply].get("from", [])
        if len(recipients) != 1 or not senders:
            continue
        (a,), b = tuple(recipients), senders[0]
        if a == b or b in roles[original].get("from", []) or (a, b) in seen:
            continue
        pair = next(
            ((na, nb) for na in names[a] for nb in names[b] if names_compatible(na, nb)), None
        )
        if pair is None:
            continue
        seen.add((a, b))
        links.append(
            Link(
                a,
                b,
                "reply",
                f"item {reply}, from {b} (“{pair[1]}”), answers item {original}, "
                f"which was sent only to {a} (“{pair[0]}”)",
                {"reply": reply, "replied_to": original},
            )
        )
    return links


def _decided(user_decisions: list[dict[str, Any]]) -> tuple[list[Link], set[str]]:
    """Users' merges as links, and the addresses users split off (later decisions win)."""
    forced: list[Link] = []
    detached: set[str] = set()
    for d in user_decisions:
        if d["action"] == "split":
            detached.add(d["a"])
            forced = [lk for lk in forced if d["a"] not in (lk.a, lk.b)]
        else:
            who = f"{d['actor']} on {str(d['at'])[:10]}" + (f": {d['note']}" if d["note"] else "")
            reason = f"merged by {who} (decision {d['id']})"
            forced.append(Link(d["a"], d["b"], "user", reason, {"decision": d["id"]}))
    return forced, detached


def _assign(
    components: dict[str, list[str]],
    items: dict[str, set[int]],
    names: dict[str, Counter[str]],
    applied: list[tuple[Link, bool]],
    previous: dict[str, int],
    highest: int,
    roles: dict[int, dict[str, list[str]]],
) -> Grouping:
    """Give each component a person id, keeping the id most of its addresses had."""
    ordered = sorted(components.values(), key=lambda c: (-len(c), c[0]))
    # An old id goes to the component holding most of that person's mail, so a split leaves
    # the id (and links to it) with the larger part.
    weights = sorted(
        (
            (-sum(len(items[a]) for a in members if previous.get(a) == old), index, old)
            for index, members in enumerate(ordered)
            for old in {previous[a] for a in members if a in previous}
        )
    )
    chosen: dict[int, int] = {}  # component index -> old id
    taken: set[int] = set()
    for _, index, old in weights:
        if index not in chosen and old not in taken:
            chosen[index] = old
            taken.add(old)
    person_of: dict[str, int] = {}
    persons = []
    for index, members in enumerate(ordered):
        pid = chosen.get(index)
        if pid is None:
            highest += 1
            pid = highest
        entries = []
        for address in sorted(members, key=lambda a: (-len(items[a]), a)):
            person_of[address] = pid
            entries.append(
                {
                    "address_key": address,
                    "messages": len(items[address]),
                    "names": [[n, c] for n, c in names[address].most_common(10)],
                }
            )
        everyone: Counter[str] = Counter()
        for address in members:
            everyone.update(names[address])
        full = [n for n, _ in everyone.most_common() if name_key(n)]
        label = full[0] if full else (everyone.most_common(1)[0][0] if everyone else "")
        if label.count(",") == 1 and label.split(",")[1].strip():  # "Kean, Steven J."
            last, first = label.split(",")
            label = f"{first.strip()} {last.strip()}"
        persons.append(
            {
                "id": pid,
                "name": label or entries[0]["address_key"],
                "address": entries[0]["address_key"],
                "addresses": entries,
            }
        )
    retired: dict[int, int | None] = {}
    for old in sorted(set(previous.values()) - set(taken)):
        heirs = Counter(person_of.get(a) for a, p in previous.items() if p == old)
        retired[old] = heirs.most_common(1)[0][0] if heirs else None
    links = [
        {
            "person_id": person_of[link.a] if ok else None,
            "a": link.a,
            "b": link.b,
            "rule": link.rule,
            "applied": ok,
            "reason": link.reason,
            "detail": link.detail,
        }
        for link, ok in applied
    ]
    facts: dict[int, set[tuple[str, str]]] = {}
    for num, by_role in roles.items():
        keys = {k for ks in by_role.values() for k in ks}
        wanted = {("person", str(person_of[k])) for k in keys}
        wanted |= {("org", org) for k in keys if (org := organisation(k))}
        facts[num] = wanted
    return Grouping(persons, links, retired, facts, person_of)


# -- the case --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeopleStats:
    emails_read: int
    addresses: int
    people: int
    merged_people: int
    links: dict[str, int]
    suggestions: int
    changed: list[int]

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "changed"}
        out["items_with_changed_facts"] = len(self.changed)
        return out


def analyse_people(catalog: Catalog) -> PeopleStats:
    """Read new emails' names and replies, regroup every address, rewrite changed facts."""
    read = 0
    for batch in people_store.pending_emails(catalog, VERSION):
        people_store.write_extraction(
            catalog,
            VERSION,
            [(i["num"], reply_ids(i["record"]), x_header_names(i["record"])) for i in batch],
        )
        read += len(batch)
    previous, highest = people_store.previous_grouping(catalog)
    grouping = group(
        people_store.address_rows(catalog),
        people_store.replies(catalog),
        people_store.decisions(catalog),
        previous,
        highest,
    )
    people_store.write_grouping(catalog, grouping.persons, grouping.links, grouping.retired)
    changed = people_store.write_item_facts(catalog, grouping.facts)
    rules = Counter(link["rule"] for link in grouping.links if link["applied"])
    return PeopleStats(
        emails_read=read,
        addresses=len(grouping.person_of),
        people=len(grouping.persons),
        merged_people=sum(1 for p in grouping.persons if len(p["addresses"]) > 1),
        links=dict(sorted(rules.items())),
        suggestions=sum(1 for link in grouping.links if not link["applied"]),
        changed=changed,
    )


def list_people(catalog: Catalog, scope: people_store.Scope = None) -> list[dict[str, Any]]:
    """Everyone, or (`scope`: collections) everyone seen on items in those collections, with
    only what those items show of them."""
    return people_store.person_rows(catalog, scope)


def person(catalog: Catalog, person_id: int, scope: people_store.Scope = None) -> dict[str, Any]:
    """One person: addresses with names, why they are grouped, mail by month, first and last
    message, and the people written to and heard from most. Within `scope` (collections):
    only what items there show, no grouping evidence (it may quote mail outside the scope),
    and no such person when none of their addresses is on such an item."""
    row = people_store.person_row(catalog, person_id)
    if row is None:
        raise NotFound(f"no person {person_id} in this case", hint="strongroom people list")
    if scope is not None:
        seen = people_store.within_scope(row, people_store.visible_addresses(catalog, scope))
        if seen is None or not row["active"]:
            raise NotFound(f"no person {person_id} in this case", hint="strongroom people list")
        row = {**seen, "links": [], "suggestions": []}
    if not row["active"]:
        return {**row, "addresses": [], "links": [], "suggestions": [], "activity": None}
    keys = [a["address"] for a in row["addresses"]]
    activity = people_store.activity(catalog, keys, scope)
    others: dict[str, Any] = defaultdict(lambda: {"sent_to": 0, "received_from": 0})
    directions = {d: activity.pop(d) for d in ("sent_to", "received_from")}
    owners = people_store.persons_of(catalog, sorted({a for d in directions.values() for a in d}))
    for direction, counts in directions.items():
        for address, count in counts.items():
            pid = owners.get(address)
            key = str(pid) if pid is not None else address
            others[key][direction] += count
            others[key].setdefault("addresses", []).append(address)
            others[key]["person"] = pid
    top = sorted(
        others.values(), key=lambda o: (-(o["sent_to"] + o["received_from"]), o["addresses"][0])
    )[:20]
    labels = {
        p: people_store.person_row(catalog, p) for p in {o["person"] for o in top} if p is not None
    }
    if scope is not None:  # their names as written on items in scope
        visible = people_store.visible_addresses(catalog, scope)
        labels = {
            p: people_store.within_scope(known, visible)
            for p, known in labels.items()
            if known is not None
        }
    for entry in top:
        known = labels.get(entry["person"])
        entry["name"] = known["name"] if known else entry["addresses"][0]
    return {**row, "activity": activity, "top_correspondents": top}


def _address_or_person(catalog: Catalog, value: str) -> str:
    value = value.strip()
    if value.isdigit():
        row = people_store.person_row(catalog, int(value))
        if row is None or not row["active"]:
            raise NotFound(f"no person {value} in this case", hint="strongroom people list")
        return str(row["address"])
    key = value.lower()
    if not people_store.address_known(catalog, key):
        raise NotFound(f"no address {value} in this case", hint="strongroom people list")
    return key


def merge(catalog: Catalog, a: str, b: str, actor: str, note: str = "") -> dict[str, Any]:
    """Record that A and B (person ids or addresses) are one person, and regroup."""
    first, second = _address_or_person(catalog, a), _address_or_person(catalog, b)
    if first == second:
        raise UsageError(f"{a} and {b} are the same address")
    decision = people_store.add_decision(catalog, actor, "merge", first, second, note)
    record(
        catalog, actor, "people.merge", f"{first} {second}", {"decision": decision, "note": note}
    )
    stats = analyse_people(catalog)
    return {
        "decision": decision,
        "person": people_store.person_of_address(catalog, first),
        "stats": stats,
    }


def split(catalog: Catalog, address: str, actor: str, note: str = "") -> dict[str, Any]:
    """Take an address out of every automatic grouping (and earlier user merges)."""
    key = _address_or_person(catalog, address) if not address.isdigit() else None
    if key is None:
        raise UsageError("split takes an address, not a person id", hint="people show ID")
    decision = people_store.add_decision(catalog, actor, "split", key, None, note)
    record(catalog, actor, "people.split", key, {"decision": decision, "note": note})
    stats = analyse_people(catalog)
    return {
        "decision": decision,
        "person": people_store.person_of_address(catalog, key),
        "stats": stats,
    }


def undo(catalog: Catalog, decision: int, actor: str) -> dict[str, Any]:
    """Revoke a user's merge or split; the grouping goes back to what the rules say."""
    row = people_store.revoke_decision(catalog, decision, actor)
    if row is None:
        raise NotFound(f"no people decision {decision}", hint="strongroom people decisions")
    if row["revoked_at"] is not None:
        raise UsageError(f"decision {decision} was already undone on {row['revoked_at'][:10]}")
    record(catalog, actor, "people.undo", str(decision), {"action": row["action"], "a": row["a"]})
    stats = analyse_people(catalog)
    return {"decision": decision, "undone": row["action"], "stats": stats}


def decisions(catalog: Catalog) -> list[dict[str, Any]]:
    return people_store.decisions(catalog, include_revoked=True)
