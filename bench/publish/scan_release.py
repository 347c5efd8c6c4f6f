"""Scan every byte of a published release for the values planted by the demo generator.

Usage: scan_release.py RELEASE_DIR DEMO_MANIFEST.json [ORIGINALS_DIR]

Independent of strongroom's own matcher: every run of digits (allowing up to three separators
between digits, so "4111 1111-1111 1111" counts) is reduced to its digits, and every window
of it the length of a planted value is looked up. Each file is read as raw text, as unescaped
HTML, and (for .eml files) as its decoded MIME parts and headers. Prints JSON: files scanned,
values found in the release (must be 0) and, for the originals given, how many it finds there
(so the scan is shown able to find them).
"""

from __future__ import annotations

import email
import html
import json
import re
import sys
from email import policy
from pathlib import Path

DIGIT_RUN = re.compile(r"\d(?:[^\w\d]{0,3}\d)+")


def texts_of(path: Path) -> list[str]:
    data = path.read_bytes()
    raw = data.decode("utf-8", errors="replace")
    texts = [raw, html.unescape(raw)]
    if path.suffix == ".eml":
        message = email.message_from_bytes(data, policy=policy.default)
        texts += [str(value) for _name, value in message.items()]
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode("utf-8", errors="replace"))
    return texts


def found_values(texts: list[str], planted: set[str], lengths: set[int]) -> set[str]:
    hits: set[str] = set()
    for text in texts:
        for match in DIGIT_RUN.finditer(text):
            digits = re.sub(r"\D", "", match.group())
            for size in lengths:
                for start in range(len(digits) - size + 1):
                    if digits[start : start + size] in planted:
                        hits.add(digits[start : start + size])
    return hits


def scan(root: Path, planted: set[str]) -> tuple[int, set[str]]:
    lengths = {len(value) for value in planted}
    files = [p for p in root.rglob("*") if p.is_file()]
    hits: set[str] = set()
    for path in files:
        hits |= found_values(texts_of(path), planted, lengths)
    return len(files), hits


def main() -> None:
    release, manifest_path = Path(sys.argv[1]), Path(sys.argv[2])
    manifest = json.loads(manifest_path.read_text())
    planted = {entry["digits"] for entry in manifest["pii"]}
    files, leaked = scan(release, planted)
    result: dict[str, object] = {
        "planted_values": len(planted),
        "release_files": files,
        "values_found_in_release": len(leaked),
        "leaked": sorted(leaked)[:20],
    }
    if len(sys.argv) > 3:
        original_files, in_originals = scan(Path(sys.argv[3]), planted)
        result["original_files"] = original_files
        result["values_found_in_originals"] = len(in_originals)
    print(json.dumps(result, indent=2))
    sys.exit(1 if leaked else 0)


if __name__ == "__main__":
    main()
