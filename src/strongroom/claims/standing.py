"""The evidential standing of an item cited as an exhibit: what a reader may rely on.

- DKIM: the verification verdict of the stored bytes (verify/); an attachment stands on the
  signature of the email that carried it (a signature covers the whole body); a document that
  came on its own cannot be signed.
- custody: the sha256 and size of the bytes as received, the custody log's `ingested` event,
  and any later event saying the stored blob changed or went missing.
- forensic flags: the header anomalies of analyze/forensics.py (a reason to look closer).
- duplicates: other items with the same Message-ID but different bytes (a re-sent or altered
  copy), and how many places the same bytes were found.
"""

from __future__ import annotations

from typing import Any

from strongroom.case import Case
from strongroom.custody import custody_log
from strongroom.errors import NotFound

SIGNED = "verified"
PLAIN = {
    "verified": "DKIM signature verified",
    "dkim-fail": "DKIM signature fails verification",
    "unsigned": "no DKIM signature",
    "unreadable": "could not be checked",
    "not-verified": "not yet verified (run `strongroom verify`)",
    "not-signable": "not an email: cannot carry a signature",
}


def standing(case: Case, num: int) -> dict[str, Any]:
    item = case.item(str(num))
    return {
        "item": num,
        "kind": item["kind"],
        "subject": item.get("subject") or item["record"].get("subject") or item.get("name"),
        "date": item.get("date_utc"),
        "from": item.get("from_address"),
        "dkim": _dkim(case, item),
        "custody": _custody(case, item),
        "forensic_flags": [
            {"code": a.get("code"), "text": a.get("text") or a.get("explanation") or ""}
            for a in (item.get("forensics") or {}).get("anomalies", [])
        ],
        "defects": len(item["record"].get("defects") or []),
        "duplicates": _duplicates(case, item),
        "found_in_places": len(item["locations"]),
    }


def _dkim(case: Case, item: dict[str, Any], via: int | None = None) -> dict[str, Any]:
    if item["kind"] == "email" or (item["kind"] == "attachment" and item["format"] == "email"):
        verification = item.get("verification")
        if verification is None:
            return {"status": "not-verified", "verdict": PLAIN["not-verified"], "via": via}
        return {"status": verification["status"], "verdict": verification["verdict"], "via": via}
    if item["kind"] == "attachment":
        parents = [loc["parent"] for loc in item["locations"] if loc.get("parent")]
        for parent in parents:
            try:
                carrier = case.item(str(parent))
            except NotFound:
                continue
            if carrier["kind"] in ("email", "attachment"):
                found = _dkim(case, carrier, via=parent)
                found["verdict"] = f"as part of item {parent}: {found['verdict']}"
                return found
    return {"status": "not-signable", "verdict": PLAIN["not-signable"], "via": via}


def _custody(case: Case, item: dict[str, Any]) -> dict[str, Any]:
    events = custody_log(case.catalog, item["num"])
    ingested = next((e for e in events if e["event"] == "ingested"), None)
    problems = [
        {"event": e["event"], "at": e["at"]}
        for e in events
        if e["event"] in ("blob-changed", "blob-missing")
    ]
    return {
        "sha256": item["sha256"],
        "size": item["size"],
        "ingested_at": ingested["at"] if ingested else item["ingested_at"],
        "custody_event": ingested["id"] if ingested else None,
        "problems": problems,
    }


def _duplicates(case: Case, item: dict[str, Any]) -> list[dict[str, Any]]:
    message_id = item.get("message_id")
    if not message_id:
        return []
    out = []
    for other in case.catalog.items_with_message_id(message_id):
        if other == item["num"]:
            continue
        found = case.catalog.find_item(str(other))
        if found is not None and found["sha256"] != item["sha256"]:
            out.append({"item": other, "sha256": found["sha256"], "size": found["size"]})
    return out
