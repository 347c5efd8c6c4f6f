"""rfc822._header_defects lists exactly what the full header registry pass listed.

The reference below is the implementation it replaced: every header of the head parsed again by
the standard library's `policy.default` registry. The new one sends only values that can hold a
defect through the registry; these tests compare the two, defect string for defect string, on
every message of the real corpora, the demo generator's dump (with its broken messages), the
hostile message and hand-written edge cases, and check the canonical-value shortcuts against the
registry on generated values.
"""

from __future__ import annotations

import email.policy
import gzip
import random
import re
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from strongroom.demo import DemoSpec, build_dump
from strongroom.formats import rfc822
from strongroom.formats.mime import walk
from tests.hostile import hostile_message

_REFERENCE_PARSER = BytesHeaderParser(policy=email.policy.default)


def reference_header_defects(head_bytes: bytes) -> list[str]:
    """The former implementation, kept as the definition of the expected output."""
    defects: list[str] = []
    try:
        message = _REFERENCE_PARSER.parsebytes(head_bytes)
    except Exception as error:
        defects.append(f"headers: strict parser failed ({type(error).__name__})")
        return defects
    for name in dict.fromkeys(key.lower() for key in message):
        try:
            values = message.get_all(name) or []
            for value in values:
                defects.extend(f"{name}: {type(d).__name__}" for d in getattr(value, "defects", ()))
        except Exception as error:
            defects.append(f"{name}: unparseable ({type(error).__name__}: {error})")
    return defects


def new_header_defects(head_bytes: bytes) -> list[str]:
    defects: list[str] = []
    rfc822._header_defects(head_bytes, defects)
    return defects


def head_of(data: bytes) -> bytes:
    """The head bytes EmailFormat.parse hands to _header_defects."""
    return data[: len(data) - len(walk(data, []).body)]


ENVELOPE = re.compile(rb"^From \S+ ", re.MULTILINE)


def messages_in(root: Path) -> Iterator[tuple[str, bytes]]:
    """Every message file of a corpus; an mbox is split at its envelope lines."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix in (".md", ".html") or path.name == "README":
            continue
        if path.suffix == ".gz":
            if path.with_suffix("").exists():  # the same mbox, uncompressed, is read instead
                continue
            data = gzip.decompress(path.read_bytes())
        else:
            data = path.read_bytes()
        starts = [m.start() for m in ENVELOPE.finditer(data)]
        if len(starts) < 2:
            yield str(path), data
            continue
        for number, (start, end) in enumerate(zip(starts, [*starts[1:], len(data)], strict=True)):
            yield f"{path} message {number + 1}", data[start:end]


def compare(messages: Iterator[tuple[str, bytes]]) -> tuple[int, int, list[str]]:
    """(messages checked, messages with defects, mismatches)."""
    checked = defective = 0
    mismatches: list[str] = []
    for where, data in messages:
        head = head_of(data)
        expected = reference_header_defects(head)
        got = new_header_defects(head)
        checked += 1
        defective += bool(expected)
        if got != expected:
            mismatches.append(f"{where}: expected {expected}, got {got}")
    return checked, defective, mismatches


# corpus -> at least this many messages (PROVENANCE.md counts) and messages with header defects
CORPORA = {
    "notmuch": (300, 1),
    "cpython-email": (40, 1),
    "enron-berkeley-categories": (1700, 1),
    "fedora-devel-list-2010-01": (290, 0),  # a clean archive: no header defect
}


@pytest.mark.conformance
@pytest.mark.parametrize("name", sorted(CORPORA))
def test_same_defects_on_real_corpora(corpora: Path, name: str) -> None:
    root = corpora / name
    if not root.is_dir():
        pytest.skip(f"corpus {root} not found; set STRONGROOM_CORPORA")
    checked, defective, mismatches = compare(messages_in(root))
    assert not mismatches, "\n".join(mismatches[:10])
    least, least_defective = CORPORA[name]
    assert checked >= least, f"{name}: only {checked} messages read"
    assert defective >= least_defective, f"{name}: no header defect at all; the test is blind"


def test_same_defects_on_demo_dump(tmp_path: Path) -> None:
    build_dump(tmp_path, DemoSpec(messages=150, attachments=20, layout="maildir"))
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")]
    assert len(files) >= 150
    checked, _, mismatches = compare((str(p), p.read_bytes()) for p in files)
    assert not mismatches, "\n".join(mismatches[:10])
    assert checked == len(files)


def test_same_defects_on_hostile_message() -> None:
    head = head_of(hostile_message())
    assert new_header_defects(head) == reference_header_defects(head)


EDGE_HEADS = [
    # registry failures (IndexError, AttributeError) next to ordinary defects of the same field
    b"To: good@example.org\r\nTo: a@\r\nFrom: x <y@z>\r\n\r\n",
    b'to: Joe <joe@example.org\r\nTo: a@[\r\ncc: ((\r\nCC: "\r\n\r\n',
    b"Message-ID: <\r\nMessage-Id: <>\r\nmessage-id: x\r\n\r\n",
    # defects of several values of one field, spelt in three cases
    b"To: a@b.example\nTO: <@>\nto: x <y@z\nMessage-ID: <a@b\n\n",
    # defects from parameters, dates, versions, empty values
    (
        b"Content-Type: text/plain; charset\nMIME-Version: 1.\n"
        b"Date: Mon, 32 Jan 2010 00:00:00 +0000\nOrig-Date: \nResent-Date:\n"
        b"Content-Disposition:\nContent-Transfer-Encoding: x y\nBcc:\n\n"
    ),
    b"Content-Type: text/plain; name*0*=utf-8''%E9\nContent-Type: text/\n\n",
    # encoded words and 8-bit bytes in unstructured and structured fields
    (
        b"Subject: =?utf-8?q?caf=C3=A9?=\nX-Note: =?bogus?q?x?=\nReceived: from h\xe9 by x\n"
        b"From: =?utf-8?b?w6k=?= <a@b.example>\nTo: J\xf6rg <j@example.org>\nX-Ctl: a\x01b\n\n"
    ),
    # folded lines (CRLF and LF), tabs, a quoted display name, a group, an obsolete phrase
    (
        b'To: "Doe, John" <john@example.org>,\r\n\tJane <jane@example.org>\r\n'
        b"Cc: undisclosed-recipients:;\r\nReply-To: John Q. Public <jqp@example.org>\r\n"
        b"Received: from a\r\n by b\r\n with c; Mon, 2 May 2016 10:00:00 +0000\r\n\r\n"
    ),
    b"From: =\r\n ?x@example.org\r\nSubject: =\r\n ?utf-8?q?x?=\r\n\r\n",
    # no field at all, a first line that is not a header, an mbox envelope
    b"",
    b"not a header line\nFrom: a@b\n\n",
    b"From sender@example.org Mon May  2 10:00:00 2016\nFrom: a@b.example\n\n",
]


def test_same_defects_on_edge_cases() -> None:
    found: list[str] = []
    for head in EDGE_HEADS:
        expected = reference_header_defects(head)
        assert new_header_defects(head) == expected, head
        found.extend(expected)
    # the cases reach the paths they are meant to
    assert any("unparseable (IndexError" in d for d in found)
    assert any("unparseable (AttributeError" in d for d in found)
    assert any(d.startswith("to: InvalidHeaderDefect") for d in found)
    assert any("UndecodableBytesDefect" in d for d in found)
    assert any(d.startswith("date: InvalidDateDefect") for d in found)


def registry_defects(name: str, value: str) -> tuple[str, ...] | str:
    try:
        header = email.policy.default.header_fetch_parse(name, value)
    except Exception as error:
        return f"unparseable ({type(error).__name__}: {error})"
    return tuple(type(d).__name__ for d in header.defects)


# field -> canonical values (which the shortcuts answer) and pieces mutations insert
FIELDS = {
    "to": (
        ["a@b.example", "Jo Doe <jo.doe@example.org>", '"Doe, Jo" <jo@x.org>, b@c', "<x@y>"],
        [
            "@",
            "<",
            ">",
            " ",
            ",",
            '"',
            ".",
            "\t",
            ";",
            ":",
            "(",
            ")",
            "\\",
            "=?",
            "[",
            "'",
            "\r\n ",
        ],
    ),
    "message-id": (
        ["<a@b.example>", " <1.2.3@host.example.org> ", "<x-y=z@h>"],
        ["<", ">", ".", "@", " ", '"', "[", "]", "(", "=", "\\", "\r\n "],
    ),
    "content-type": (
        ["text/plain", 'text/plain; charset="utf-8"', "multipart/mixed; boundary=a.b; x=y"],
        ["/", ";", " ", "=", '"', "*", "'", "%", "(", ")", "\\", ",", "\r\n "],
    ),
    "content-disposition": (
        ["inline", 'attachment; filename="a b.pdf"', "attachment; size=3"],
        [";", " ", "=", '"', "*", "'", "%", "(", "\\", "/"],
    ),
    "date": (
        [
            "Mon, 02 May 2016 10:00:00 +0000",
            "2 May 2016 10:00 -0700 (PDT)",
            "Tue, 1 Jan 1980 0:0:0 GMT",
        ],
        [" ", ",", ":", "+", "-", "0", "9", "99", "Feb", "Xyz", "(", ")", "1", "\r\n ", "."],
    ),
    "mime-version": (["1.0", " 1.0 "], ["1", ".", "0", " ", "(", ")", "x", "2"]),
    "content-transfer-encoding": (
        ["base64", " 7bit", "quoted-printable "],
        [" ", "-", "(", "x", ";", '"', "/"],
    ),
    "x-anything": (
        ["plain text", "from a\r\n by b"],
        [" ", "=?", "?=", "utf-8?q?", "\t", "\r\n ", "\xe9", "\x01", "\udce9"],
    ),
}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_shortcuts_agree_with_registry_on_generated_values(name: str) -> None:
    """Canonical values and random mutations of them: whatever the shortcuts answer must be
    the registry's answer, and they must answer a good share of the values themselves."""
    rng = random.Random(f"header-defects-{name}")
    seeds, pieces = FIELDS[name]
    shortcut = 0
    for _ in range(5000):
        value = rng.choice(seeds)
        for _ in range(rng.randint(0, 3)):
            at = rng.randint(0, len(value))
            if rng.random() < 0.3:
                value = value[:at] + value[at + 1 :]
            else:
                value = value[:at] + rng.choice(pieces) + value[at:]
        expected = registry_defects(name, value)
        assert rfc822._value_defects(name, value) == expected, value
        shortcut += rfc822._registry_defects.cache_info().currsize == 0
        rfc822._registry_defects.cache_clear()
    assert shortcut >= 500, f"only {shortcut} values took a shortcut; the test is blind"
