"""`publish(case, out, plan)`: a static, redacted, verifiable release of a case.

The release is written to a fresh folder beside OUT and moved into place only after every file
has been checked for the values it must not show, so an interrupted or failed run never leaves a
half-redacted release behind, and a rerun replaces the previous release whole.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from strongroom import __version__
from strongroom.case import Case
from strongroom.catalog.index_rows import texts_for
from strongroom.catalog.verify_store import verification
from strongroom.errors import NotFound, StrongroomError, UsageError
from strongroom.pii.plan import RedactionPlan
from strongroom.publish.custody import CustodyOutcome, default_key, write_custody
from strongroom.publish.derive import PUBLISH, REDACT, decide, redact_email, scan_email
from strongroom.publish.pages import item_data, title_of
from strongroom.publish.redact import Redactor, Redactors
from strongroom.publish.render import Renderer
from strongroom.publish.tree import Tree

RELEASE_FORMAT = "strongroom-release/1"
RELEASE_FILE = "release.json"
SUMS_FILE = "SHA256SUMS"
LIST_SIZE = 500
_WORD = re.compile(r"[^\W_]+")
_MAX_INDEXED_CHARS = 200_000


class UnsafeRelease(StrongroomError):
    """A value meant to be hidden still shows in an output file: nothing is published."""


@dataclass
class PublishResult:
    out: Path
    items: int
    redacted: list[int]
    withheld: list[int]
    files: int
    custody: dict[str, Any]
    search_words: int

    def to_json(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "items": self.items,
            "redacted": len(self.redacted),
            "withheld": len(self.withheld),
            "files": self.files,
            "custody": self.custody,
            "search_words": self.search_words,
        }


@dataclass
class _Output:
    """The files written so far, each with the redactor whose values it must not show."""

    root: Path
    checks: dict[str, Redactor] = field(default_factory=dict)

    def write(self, rel: str, data: bytes, redactor: Redactor) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.checks[rel] = redactor
        return rel


# Extensions a web host serves as something that cannot run script in the release's origin.
# An HTML or SVG attachment is served as `.bin` (downloaded, never rendered as a page).
_INERT_LIST = """
    .pdf .doc .docx .docm .xls .xlsx .xlsm .ppt .pptx .odt .ods .odp .rtf .txt .csv .tsv .log
    .json .md .png .jpg .jpeg .gif .tif .tiff .bmp .webp .heic .zip .gz .tgz .bz2 .xz .7z .rar
    .tar .msg .pst .ost .eml .emlx .mbox .ics .vcf .mp3 .wav .m4a .ogg .mp4 .mov .avi
"""
_INERT = frozenset(_INERT_LIST.split())
_TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".log", ".md")


def _suffix(name: str | None, mime: str) -> str:
    suffix = PurePath(name).suffix.lower() if name else ""
    if suffix not in _INERT:
        suffix = mimetypes.guess_extension(mime) or ""
    return suffix if suffix in _INERT else ".bin"


def _tokens(*texts: str | None) -> set[str]:
    words: set[str] = set()
    for text in texts:
        if text:
            words.update(w for w in _WORD.findall(text[:_MAX_INDEXED_CHARS].lower()) if len(w) < 40)
    return words


def _check_out(case: Case, out: Path) -> None:
    out = out.resolve()
    kept = [case.blobs.root, case.index.root] + ([case.root] if case.root is not None else [])
    for root in (path.resolve() for path in kept):
        if out == root or root in out.parents or out in root.parents:
            raise UsageError(f"{out} overlaps the case's {root}; write the release elsewhere")
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / RELEASE_FILE).exists())
    ):
        raise UsageError(
            f"{out} exists and is not an empty folder or an earlier release",
            hint="choose a new folder; an earlier release there is replaced whole",
        )


class _Publisher:
    def __init__(self, case: Case, plan: RedactionPlan, output: _Output, title: str) -> None:
        self.case = case
        self.tree = Tree.load(case)
        self.redactors = Redactors(plan)
        self.everywhere = Redactor(plan.everywhere, plan)
        self.output = output
        self.render = Renderer(title)
        self.by_sha = {node.sha256: num for num, node in self.tree.nodes.items()}
        self.entries: list[dict[str, Any]] = []
        self.words: dict[str, set[int]] = defaultdict(set)
        self.records: list[dict[str, Any]] = []
        self.threads: dict[int, list[dict[str, Any]]] = {}

    def redactor(self, *nums: int) -> Redactor:
        family: set[int] = set()
        for num in nums:
            family.update(self.tree.family(num))
        return self.redactors.for_items(sorted(family))

    def lookup(self, data: bytes) -> tuple[str | None, str | None] | None:
        num = self.by_sha.get(hashlib.sha256(data).hexdigest())
        if num is None:
            return None
        return texts_for(self.case.catalog, [num]).get(num), self.tree.nodes[num].extraction

    # -- files ------------------------------------------------------------------------------
    def _email_file(self, num: int, redactor: Redactor) -> dict[str, Any]:
        node = self.tree.nodes[num]
        raw = self.case.blobs.read(node.sha256)
        rel = f"raw/{num}.eml"
        try:
            derived = redact_email(raw, node.sha256, redactor, self.lookup)
        except Exception as error:  # a message the parser cannot re-encode
            # the error's type only: its message may quote the very header being hidden
            reason = f"it could not be re-encoded safely ({type(error).__name__})"
            return {"state": "withheld", "reason": reason}
        if not derived.changed:
            self.output.write(rel, raw, redactor)
            return {"state": "original", "path": rel}
        leaks = scan_email(derived.data, redactor)
        if leaks:
            return {
                "state": "withheld",
                "reason": "a redacted value could not be removed from " + ", ".join(leaks[:3]),
            }
        self.output.write(rel, derived.data, redactor)
        return {
            "state": "redacted",
            "path": rel,
            "replacements": derived.replacements,
            "withheld_parts": derived.withheld_parts,
        }

    def _document_file(self, item: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
        node = self.tree.nodes[item["num"]]
        raw = self.case.blobs.read(node.sha256)
        rel = f"files/{node.num}{_suffix(redactor.clean(node.name), node.mime)}"
        decision = decide(raw, node.mime, item.get("text"), node.extraction, redactor)
        if decision.action == PUBLISH:
            self.output.write(rel, raw, redactor)
            return {"state": "original", "path": rel}
        if decision.action == REDACT:
            text = redactor.clean(item.get("text"))
            if redactor.found(text):
                return {"state": "withheld", "reason": "its text could not be redacted"}
            if not rel.endswith(_TEXT_SUFFIXES):  # the copy is the extracted text, not markup
                rel = f"files/{node.num}.txt"
            self.output.write(rel, text.encode("utf-8"), redactor)
            return {"state": "redacted", "path": rel, "reason": decision.reason}
        return {"state": "withheld", "reason": decision.reason}

    # -- pages ------------------------------------------------------------------------------
    def _links(self, num: int, selected: set[int], redactor: Redactor) -> dict[str, Any]:
        node = self.tree.nodes[num]

        def describe(other: int) -> dict[str, Any]:
            o = self.tree.nodes[other]
            shown = self.redactor(num, other)
            # an item left out of a --query release is not described beyond its number
            visible = other in selected or o.kind == "container"
            return {
                "num": other,
                "kind": o.kind,
                "name": (shown.clean(o.name) or None) if visible else None,
                "in_release": other in selected,
            }

        thread = []
        messages = self.case.thread(num) if node.kind == "email" else []
        published = [m for m in messages if m["id"] in selected]
        thread_id = messages[0]["thread"] if len(published) > 1 else None
        if thread_id is not None:
            self.threads.setdefault(thread_id, published)
        if messages:
            for m in messages:
                shown = self.redactor(num, m["id"])
                out = m["id"] in selected
                thread.append(
                    {
                        "num": m["id"],
                        "subject": (shown.clean(m.get("subject")) or None) if out else None,
                        "from": (shown.clean(m.get("from_name") or m.get("from")) or None)
                        if out
                        else None,
                        "date": m.get("date") if out else None,
                        "depth": m.get("depth", 0),
                        "in_release": out,
                    }
                )
        return {
            "parents": [describe(p) for p in node.parents],
            "children": [describe(c) for c in node.children],
            "thread": thread,
            "thread_page": f"threads/{thread_id}.html" if thread_id is not None else None,
        }

    def thread_page(self, thread_id: int) -> bytes:
        """The messages of one conversation that are in the release, each redacted with its
        own values."""
        messages = []
        for m in self.threads[thread_id]:
            shown = self.redactor(m["id"])
            messages.append(
                {
                    "num": m["id"],
                    "subject": shown.clean(m.get("subject")) or None,
                    "from": shown.clean(m.get("from_name") or m.get("from")) or None,
                    "date": m.get("date"),
                    "depth": m.get("depth", 0),
                }
            )
        return self.render.thread(thread_id, messages)

    def item(self, num: int, selected: set[int]) -> None:
        redactor = self.redactor(num)
        item = self.case.catalog.find_item(str(num))  # not case.item: no forensics needed
        if item is None:
            raise NotFound(f"item {num} disappeared from the catalog while publishing")
        if item["kind"] == "email":
            item["verification"] = verification(self.case.catalog, num)
        node = self.tree.nodes[num]
        data = item_data(item, redactor)
        if node.kind == "email" and node.format == "email":
            data["file"] = self._email_file(num, redactor)
        else:
            data["file"] = self._document_file(item, redactor)
        data.update(self._links(num, selected, redactor))
        self.output.write(
            f"items/{num}.json",
            json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"),
            redactor,
        )
        self.output.write(f"items/{num}.html", self.render.item(data), redactor)
        sender: dict[str, str] = next(iter(data["addresses"].get("from") or []), {})
        entry = {
            "n": num,
            "k": node.kind,
            "t": title_of(data),
            "f": sender.get("name") or sender.get("address") or "",
            "d": (data["date"] or {}).get("utc") or "",
        }
        self.entries.append(entry)
        recipients = " ".join(
            f"{e['name']} {e['address']}" for es in data["addresses"].values() for e in es
        )
        for word in _tokens(data["subject"], data["name"], recipients, data["text"]):
            self.words[word].add(num)
        file = data["file"]
        self.records.append(
            {
                "num": num,
                "kind": node.kind,
                "original_sha256": node.sha256,
                "original_size": node.size,
                "page": f"items/{num}.html",
                "file": file.get("path"),
                "file_state": file["state"],
                "withheld_reason": file.get("reason") if file["state"] == "withheld" else None,
                "withheld_parts": [p["sha256"] for p in file.get("withheld_parts", [])],
                "redacted": bool(data["replacements"]) or file["state"] != "original",
            }
        )
        entry["r"] = int(self.records[-1]["redacted"])


def _search_index(publisher: _Publisher) -> bytes:
    index = {
        "format": "strongroom-release-search/1",
        "items": publisher.entries,
        "words": {w: sorted(n) for w, n in sorted(publisher.words.items())},
    }
    return json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_json_strings(k), *_json_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def check_files(root: Path, checks: dict[str, Redactor]) -> list[str]:
    """Every file whose bytes, decoded text or (for .eml) decoded parts show a value."""
    import html

    bad: list[str] = []
    for rel, redactor in sorted(checks.items()):
        data = (root / rel).read_bytes()
        text = data.decode("utf-8", "replace")
        leaks = redactor.found_in_bytes(data) or redactor.found(html.unescape(text))
        if rel.endswith(".eml"):
            leaks = leaks or bool(scan_email(data, redactor))
        elif rel.endswith(".json"):
            try:  # \u escapes hide nothing from the check; a published original may not parse
                strings = _json_strings(json.loads(data))
            except ValueError:
                strings = []
            leaks = leaks or redactor.found("\n".join(strings))
        if leaks:
            bad.append(rel)
    return bad


def _finish(
    publisher: _Publisher,
    staging: Path,
    custody: CustodyOutcome,
    meta: dict[str, Any],
) -> list[str]:
    records = publisher.records
    states = Counter(r["file_state"] for r in records)
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        data = path.read_bytes()
        files[path.relative_to(staging).as_posix()] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
    release = {
        "format": RELEASE_FORMAT,
        **meta,
        "custody": custody.summary,
        "counts": {
            "items": len(records),
            "redacted": sum(r["redacted"] for r in records),
            "files_original": states["original"],
            "files_redacted": states["redacted"],
            "files_withheld": states["withheld"],
        },
        "items": records,
        "files": files,
    }
    body = json.dumps(release, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"
    (staging / RELEASE_FILE).write_bytes(body)
    sig = custody.sign(body)
    if sig is not None:
        (staging / "release.json.sig").write_bytes(sig)
    lines = []
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(staging).as_posix()}\n")
    (staging / SUMS_FILE).write_text("".join(lines), encoding="utf-8")
    return list(files)


def publish(
    case: Case,
    out: Path,
    plan: RedactionPlan,
    *,
    query: str | None = None,
    title: str = "strongroom release",
    plan_source: str = "",
    key: Path | None = None,
) -> PublishResult:
    """Write a static release of `case` (or of the items matching `query`) to `out`; the
    custody manifest is signed with `key` (default: the case's key, if it has one)."""
    _check_out(case, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the release from a web server
    try:
        output = _Output(staging)
        publisher = _Publisher(case, plan, output, title)
        selected = publisher.tree.select(case, query)
        chosen = set(selected)
        for num in selected:
            publisher.item(num, chosen)
        everywhere = publisher.everywhere
        for thread_id in sorted(publisher.threads):
            page = publisher.thread_page(thread_id)
            output.write(f"threads/{thread_id}.html", page, everywhere)
        output.write("search-index.json", _search_index(publisher), everywhere)
        custody = write_custody(
            case, staging / "custody", publisher.redactors.every_value(), key or default_key(case)
        )
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pages = [
            publisher.entries[i : i + LIST_SIZE]
            for i in range(0, len(publisher.entries), LIST_SIZE)
        ]
        for number, entries in enumerate(pages, 1):
            page = publisher.render.listing(entries, number, len(pages))
            output.write(f"list/{number}.html", page, everywhere)
        summary = {
            "items": len(selected),
            "redacted": sum(r["redacted"] for r in publisher.records),
            "withheld": sum(r["file_state"] == "withheld" for r in publisher.records),
            "lists": len(pages),
            "created_at": created,
            "custody": custody.summary,
            "signed_release": custody.key is not None,
        }
        output.write("index.html", publisher.render.index(summary), everywhere)
        for name, data in Renderer.static_files().items():
            output.write(f"static/{name}", data, everywhere)
        bad = check_files(staging, output.checks)
        if bad:
            raise UnsafeRelease(
                f"nothing was published: a redacted value still shows in {', '.join(bad[:5])}"
            )
        types = Counter(
            plan.types.get(v, "personal data") for v in publisher.redactors.every_value().values
        )
        meta = {
            "title": title,
            "created_at": created,
            "tool": {"name": "strongroom", "version": __version__},
            "query": query or None,
            "redaction": {"source": plan_source, "values_by_type": dict(sorted(types.items()))},
        }
        files = _finish(publisher, staging, custody, meta)
        if check_files(staging, {RELEASE_FILE: everywhere}):  # the title or query, say
            raise UnsafeRelease(f"nothing was published: a redacted value shows in {RELEASE_FILE}")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    records = publisher.records
    return PublishResult(
        out=out,
        items=len(records),
        redacted=[r["num"] for r in records if r["redacted"]],
        withheld=[r["num"] for r in records if r["file_state"] == "withheld"],
        files=len(files),
        custody=custody.summary,
        search_words=len(publisher.words),
    )


def _replace(staging: Path, out: Path) -> None:
    """Move the checked release into place; an earlier release there is removed after."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{datetime.now(UTC):%Y%m%d%H%M%S%f}")
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
