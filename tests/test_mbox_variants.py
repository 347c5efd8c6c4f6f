"""mbox in the variants met in the wild, generated here byte by byte: every message comes out as
the exact slice of the file between its envelope line and the blank line before the next one,
at the offset its locator names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from strongroom.formats.base import Child, ContainerError
from strongroom.formats.detect import detect
from strongroom.sources.mbox import MboxContainer, envelope_base, marked_envelope, quote_mboxrd


@dataclass(frozen=True)
class Expected:
    offset: int  # where the message (after its envelope line) starts in the file
    data: bytes


def build(
    messages: list[bytes], eol: bytes = b"\n", separator: bool = True
) -> tuple[bytes, list[Expected]]:
    """An mbox from messages, and where each one lands, computed while writing it."""
    out = b""
    expected = []
    for number, message in enumerate(messages):
        out += b"From sender%d@example.org Mon Jan  4 10:0%d:00 2010" % (number, number) + eol
        expected.append(Expected(len(out), message))
        out += message
        if separator:
            out += eol
    return out, expected


def message(number: int, body: bytes = b"", eol: bytes = b"\n", extra: bytes = b"") -> bytes:
    lines = [
        b"From: Sender %d <sender%d@example.org>" % (number, number),
        b"To: list@example.org",
        b"Subject: message %d" % number,
        b"Message-ID: <m%d@example.org>" % number,
    ]
    if extra:
        lines.append(extra)
    head = eol.join(lines) + eol + eol
    return head + (body or b"Body of message %d." % number + eol)


def explode(tmp_path: Path, data: bytes) -> list[Child]:
    path = tmp_path / "mail.mbox"
    path.write_bytes(data)
    return list(MboxContainer().explode(path))


def assert_exact(data: bytes, children: list[Child], expected: list[Expected]) -> None:
    assert len(children) == len(expected)
    for index, (child, want) in enumerate(zip(children, expected, strict=True)):
        assert child.data == want.data, f"message {index}"
        assert child.locator == f"offset {want.offset} length {len(want.data)}"
        assert child.info["offset"] == want.offset
        assert child.info["length"] == len(want.data)
        assert child.info["index"] == index
        # The locator points at the stored bytes inside the file.
        assert data[want.offset : want.offset + len(want.data)] == child.data


def test_mboxo_with_a_quoted_from_line(tmp_path: Path) -> None:
    body = b"Hello,\n>From the minutes of the meeting:\nnothing.\n"
    messages = [message(1), message(2, body), message(3)]
    data, expected = build(messages)
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)
    assert children[1].info["quoted_from_lines"] == 1
    assert "quoted_from_lines" not in children[0].info
    assert children[0].info["from_line"] == "From sender0@example.org Mon Jan  4 10:00:00 2010"


def test_mboxrd_keeps_both_quoting_levels_verbatim(tmp_path: Path) -> None:
    body = b"Quoting:\n>From here\n>>From there\n> From is not quoted\nend\n"
    data, expected = build([message(1, body), message(2)])
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)
    assert b">From here\n>>From there\n" in children[0].data
    assert children[0].info["quoted_from_lines"] == 2


def test_mboxcl2_content_length_keeps_an_unquoted_from_line_in_the_body(tmp_path: Path) -> None:
    body = b"First line\nFrom someone Tue Jan  5 10:00:00 2010\nlast line\n"
    first = message(1, body, extra=b"Content-Length: %d" % len(body))
    second_body = b"second\n"
    second = message(2, second_body, extra=b"Content-Length: %d" % len(second_body))
    data, expected = build([first, second])
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)
    assert b"\nFrom someone Tue Jan  5 10:00:00 2010\n" in children[0].data


def test_a_content_length_that_does_not_land_is_ignored(tmp_path: Path) -> None:
    # A wrong Content-Length (here far too long) must not swallow the next message.
    body = b"Body.\n"
    data, expected = build([message(1, body, extra=b"Content-Length: 4000"), message(2)])
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)


def test_crlf_mbox(tmp_path: Path) -> None:
    eol = b"\r\n"
    body = b"line one\r\n>From quoted\r\nline three\r\n"
    messages = [message(1, eol=eol), message(2, body, eol=eol), message(3, eol=eol)]
    data, expected = build(messages, eol=eol)
    assert detect(data[:8192], "mail.mbox").type == "mbox"
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)
    assert all(
        child.data.endswith(b"\r\n") and not child.data.endswith(b"\r\n\r\n") for child in children
    )
    assert children[1].info["quoted_from_lines"] == 1


def test_bare_cr_mbox(tmp_path: Path) -> None:
    eol = b"\r"
    messages = [message(1, eol=eol), message(2, eol=eol), message(3, eol=eol)]
    data, expected = build(messages, eol=eol)
    assert b"\n" not in data
    assert detect(data[:8192], None).type == "mbox"
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)
    assert children[2].info["from_line"] == "From sender2@example.org Mon Jan  4 10:02:00 2010"


def test_last_message_without_a_trailing_newline(tmp_path: Path) -> None:
    last = message(2, b"no newline at the end")
    data, expected = build([message(1), last])
    data = data[: -len(b"\n")]  # no separator after the last message either
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)
    assert children[1].data.endswith(b"no newline at the end")
    assert data.endswith(children[1].data)


def test_an_empty_message_is_kept_as_an_empty_message(tmp_path: Path) -> None:
    data, expected = build([message(1), b"", message(3)])
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)
    assert children[1].data == b""


def test_an_empty_message_without_separator(tmp_path: Path) -> None:
    data, expected = build([message(1), b"", message(3)], separator=False)
    children = explode(tmp_path, data)
    # Without a separator line the first message keeps its own last line ending.
    assert_exact(data, children, expected)


def test_message_body_ending_in_a_blank_line_keeps_it(tmp_path: Path) -> None:
    data, expected = build([message(1, b"text\n\n"), message(2)])
    children = explode(tmp_path, data)
    assert_exact(data, children, expected)
    assert children[0].data.endswith(b"text\n\n")


def test_text_before_the_first_envelope_is_kept_not_dropped(tmp_path: Path) -> None:
    preamble = b"This archive was exported by a tool.\n"
    data, expected = build([message(1), message(2)])
    data = preamble + data
    children = explode(tmp_path, data)
    assert children[0].data == preamble
    assert children[0].locator == f"offset 0 length {len(preamble)}"
    assert "before the first From_ line" in children[0].info["error"]
    shifted = [Expected(e.offset + len(preamble), e.data) for e in expected]
    assert [c.data for c in children[1:]] == [e.data for e in shifted]
    assert [c.info["offset"] for c in children[1:]] == [e.offset for e in shifted]


def test_a_file_without_any_envelope_is_not_an_mbox(tmp_path: Path) -> None:
    with pytest.raises(ContainerError, match="no From_ envelope line"):
        explode(tmp_path, b"just some text\nwith lines\n")


@pytest.mark.parametrize(
    "envelope",
    [
        b"From alice@example.org Mon Jan  4 10:00:00 2010",
        b"From alice Mon Jan  4 10:00 2010 remote from relay",  # UUCP
        b"From MAILER-DAEMON Mon Jan  4 10:00:00 2010 strongroom-mboxrd sha256=ab length=7",
    ],
)
def test_envelopes_with_words_after_the_year_are_detected_as_mbox(envelope: bytes) -> None:
    assert detect(envelope + b"\nSubject: x\n\nbody\n", None).type == "mbox"


def test_a_from_line_without_a_date_is_not_an_envelope() -> None:
    assert detect(b"From the desk of the treasurer\n\nbody\n", None).type != "mbox"


def test_an_empty_file_has_no_messages(tmp_path: Path) -> None:
    assert explode(tmp_path, b"") == []


def framed(
    original: bytes, envelope: bytes = b"From a@example.org Mon Jan  4 10:00:00 2010"
) -> bytes:
    """A message as strongroom's mbox export frames one it cannot write as an exact slice."""
    marker = marked_envelope(envelope.decode(), original).encode()
    return (
        marker + b"\n" + quote_mboxrd(original) + (b"\n" if original.endswith(b"\n") else b"\n\n")
    )


def test_strongroom_framing_is_undone_exactly(tmp_path: Path) -> None:
    body = b"From the top\n>From quoted\n>>From twice\nno newline at the end"
    original = message(1, body, extra=b"Content-Length: 3")  # a length that must be ignored
    crlf = message(2, b"From a CRLF line\r\n", eol=b"\r\n")
    plain, _ = build([message(3)])
    data = framed(original) + framed(crlf) + plain
    assert detect(data[:8192], None).type == "mbox"  # the marked From_ line is an envelope
    children = explode(tmp_path, data)
    assert [child.data for child in children] == [original, crlf, message(3)]
    first = children[0].info
    assert first["framing"] == "strongroom-mboxrd" and first["unquoted_lines"] == 3
    assert "error" not in first and "quoted_from_lines" not in first
    # The locator names the slice in the file; the info keeps the envelope as written.
    start, length = first["offset"], first["length"]
    assert data[start : start + length] == quote_mboxrd(original) + b"\n"
    assert children[0].locator == f"offset {start} length {length}"
    assert first["from_line"].endswith(f"length={len(original):04d}")
    assert envelope_base(first["from_line"]) == "From a@example.org Mon Jan  4 10:00:00 2010"
    assert "framing" not in children[2].info


def test_a_framed_message_that_does_not_match_its_marker_is_kept_as_found(tmp_path: Path) -> None:
    original = message(1, b"From the top\nbody\n")
    data = framed(original).replace(b"body", b"BODY")
    (child,) = explode(tmp_path, data)
    assert child.data == quote_mboxrd(original).replace(b"body", b"BODY")
    assert "strongroom-mboxrd framing" in child.info["error"]
    assert "sha256" in child.info["error"] and "framing" not in child.info
    assert child.info["quoted_from_lines"] == 1  # as for any mbox slice
    short = framed(original).replace(b"body\n", b"")
    (child,) = explode(tmp_path, short)
    assert "fewer than" in child.info["error"]
