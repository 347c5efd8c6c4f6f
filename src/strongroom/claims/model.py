"""Recording claims and their exhibits, and reading a claim with the standing of each exhibit.

Every change is recorded in the audit log (`claim.add`, `claim.link`, `claim.unlink`) with
the actor. A passage is kept with the text it quoted when linked, so a claim page shows
whether the item's text still says that.
"""

from __future__ import annotations

from typing import Any

from strongroom.case import Case
from strongroom.catalog import tables_claims as tc
from strongroom.catalog.audit import record
from strongroom.claims.standing import SIGNED, standing
from strongroom.errors import NotFound, UsageError

STANCES = ("supports", "contradicts")
QUERY_HITS = 5  # the first hits a query exhibit shows with their standing


def add_claim(case: Case, text: str, actor: str) -> dict[str, Any]:
    text = " ".join(text.split())
    if not text:
        raise UsageError("a claim needs a statement", hint='strongroom claims add "TEXT"')
    claim_id = tc.add_claim(case.catalog, text, actor)
    record(case.catalog, actor, "claim.add", str(claim_id), {"text": text})
    return claim(case, claim_id)


def _parse_passage(passage: str) -> tuple[int, int]:
    start, sep, end = passage.partition(":")
    if not sep or not start.strip().isdigit() or not end.strip().isdigit():
        raise UsageError(f"passage {passage!r} is not START:END (character offsets)")
    return int(start), int(end)


def link(
    case: Case,
    claim_id: int,
    actor: str,
    *,
    stance: str,
    item: int | None = None,
    passage: str | tuple[int, int] | None = None,
    query: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Link an exhibit (an item, a passage START:END of its text, or a query) to a claim."""
    if tc.claim_row(case.catalog, claim_id) is None:
        raise NotFound(f"no claim {claim_id}", hint="strongroom claims list")
    if stance not in STANCES:
        raise UsageError(f"stance must be supports or contradicts, not {stance!r}")
    if (item is None) == (query is None or not query.strip()):
        raise UsageError("link either an item (with an optional passage) or a query")
    values: dict[str, Any] = {"stance": stance, "note": note.strip()}
    if item is not None:
        found = case.item(str(item))
        values.update(kind="item", item_num=found["num"])
        if passage is not None and passage != "":
            start, end = _parse_passage(passage) if isinstance(passage, str) else passage
            text = found["text"]
            if not 0 <= start < end <= len(text):
                raise UsageError(
                    f"passage {start}:{end} is outside item {item}'s text ({len(text)} characters)"
                )
            values.update(kind="passage", start=start, end=end, quote=text[start:end])
    else:
        assert query is not None
        case.count(query)  # a malformed query is refused now, with its position
        values.update(kind="query", query=query.strip())
    exhibit = tc.add_exhibit(case.catalog, claim_id, actor, **values)
    record(case.catalog, actor, "claim.link", str(claim_id), {"exhibit": exhibit, **values})
    return claim(case, claim_id)


def unlink(case: Case, exhibit_id: int, actor: str) -> dict[str, Any]:
    row = tc.remove_exhibit(case.catalog, exhibit_id, actor)
    if row is None:
        raise NotFound(f"no exhibit {exhibit_id} in use", hint="strongroom claims show ID")
    record(case.catalog, actor, "claim.unlink", str(row["claim_id"]), {"exhibit": exhibit_id})
    return claim(case, int(row["claim_id"]))


def claims(case: Case) -> list[dict[str, Any]]:
    return tc.claim_rows(case.catalog)


def claim(case: Case, claim_id: int, collections: frozenset[str] | None = None) -> dict[str, Any]:
    """A claim with every exhibit in use, each with its standing, and a summary that says
    plainly when no cited item carries a verified signature. `readable` filters the items a
    viewer may see (its collections; None: all); the others are counted, not shown."""
    row = tc.claim_row(case.catalog, claim_id)
    if row is None:
        raise NotFound(f"no claim {claim_id}", hint="strongroom claims list")
    active = [e for e in row["exhibits"] if e["removed_at"] is None]
    nums = [e["item_num"] for e in active if e["item_num"] is not None]
    visible = case.readable(nums, collections)
    exhibits, hidden = [], 0
    for exhibit in active:
        if exhibit["item_num"] is not None and exhibit["item_num"] not in visible:
            hidden += 1
            continue
        exhibits.append(_exhibit(case, exhibit, collections))
    return {
        "id": row["id"],
        "text": row["text"],
        "created_at": row["created_at"],
        "created_by": row["created_by"],
        "exhibits": exhibits,
        "hidden_exhibits": hidden,
        "withdrawn_exhibits": len(row["exhibits"]) - len(active),
        "summary": summarise(exhibits),
    }


def _exhibit(
    case: Case, exhibit: dict[str, Any], collections: frozenset[str] | None
) -> dict[str, Any]:
    out = {
        k: exhibit[k]
        for k in ("id", "kind", "stance", "note", "created_at", "created_by", "item_num")
    }
    if exhibit["kind"] in ("item", "passage"):
        out["standing"] = standing(case, exhibit["item_num"])
    if exhibit["kind"] == "passage":
        text = case.item(str(exhibit["item_num"]))["text"]
        current = text[exhibit["start"] : exhibit["end"]]
        out["passage"] = {
            "start": exhibit["start"],
            "end": exhibit["end"],
            "quote": exhibit["quote"],
            "still_matches": current == exhibit["quote"],
        }
    if exhibit["kind"] == "query":
        result = case.search(
            exhibit["query"], limit=QUERY_HITS, facets=False, collections=collections
        )
        shown = [hit["id"] for hit in result.hits]
        out["query"] = {
            "query": exhibit["query"],
            "total": result.total,
            "first_hits": [standing(case, num) for num in shown],
        }
    return out


def summarise(exhibits: list[dict[str, Any]]) -> dict[str, Any]:
    items = [e for e in exhibits if "standing" in e]
    verified = [e for e in items if e["standing"]["dkim"]["status"] == SIGNED]
    flagged = [e for e in items if e["standing"]["forensic_flags"]]
    summary: dict[str, Any] = {
        "supports": sum(1 for e in exhibits if e["stance"] == "supports"),
        "contradicts": sum(1 for e in exhibits if e["stance"] == "contradicts"),
        "items": len(items),
        "queries": len(exhibits) - len(items),
        "verified": len(verified),
        "verified_supporting": sum(1 for e in verified if e["stance"] == "supports"),
        "flagged": len(flagged),
        "all_unsigned_or_failing": bool(items) and not verified,
    }
    if not exhibits:
        statement = "This claim has no exhibits: nothing has been put forward for or against it."
    elif not items:
        statement = (
            "This claim cites searches only, no particular item: each search's hits are shown "
            "with their standing below."
        )
    elif not verified:
        statement = (
            f"None of the {len(items)} cited item(s) carries a verified DKIM signature: every "
            "one is unsigned or fails verification. Nothing here proves who sent them; what "
            "they show rests on the custody record (the sha256 of the bytes as received)."
        )
    else:
        statement = (
            f"{len(verified)} of the {len(items)} cited item(s) carry a verified DKIM "
            f"signature ({summary['verified_supporting']} of them supporting the claim); "
            "the others are unsigned, failing or not email."
        )
    summary["statement"] = statement
    return summary
