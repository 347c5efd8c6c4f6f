"""The raw MIME walker: parts are exact slices of the message, never re-serialised."""

from __future__ import annotations

import base64
import quopri

from strongroom.formats.mime import RawPart, decoded_body, walk
from strongroom.formats.rfc822 import EmailFormat

ATTACHED = (
    b"From: Inner <inner@example.org>\r\n"
    b"Subject: the attached one\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s;\r\n"
    b"  bh=abc=; b=def=\r\n"
    b"\r\n"
    b"Inner body, CRLF and trailing spaces kept.   \r\n"
)
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4
UTF8_TEXT = "Grüße aus Köln, naïve café\n".encode()


def nested_message() -> bytes:
    b64 = base64.encodebytes(PDF)
    qp = quopri.encodestring(UTF8_TEXT)
    return (
        b"From: a@example.org\n"
        b"Subject: nested\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="outer"\n'
        b"\n"
        b"preamble, not a part\n"
        b"--outer\n"
        b'Content-Type: multipart/alternative; boundary="inner"\n'
        b"\n"
        b"--inner\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: quoted-printable\n"
        b"\n" + qp + b"\n"
        b"--inner\n"
        b"Content-Type: text/html; charset=utf-8\n"
        b"\n"
        b"<p>hello</p>\n"
        b"--inner--\n"
        b"\n"
        b"--outer\n"
        b'Content-Type: application/pdf; name="report.pdf"\n'
        b"Content-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="report.pdf"\n'
        b"\n" + b64 + b"\n"
        b"--outer\n"
        b"Content-Type: message/rfc822\n"
        b"\n" + ATTACHED + b"\n"
        b"--outer--\n"
        b"epilogue\n"
    )


def by_path(root: RawPart) -> dict[str, RawPart]:
    found = {root.path: root}
    for child in root.children:
        found.update(by_path(child))
    return found


def test_nested_multiparts_are_exact_slices() -> None:
    data = nested_message()
    defects: list[str] = []
    parts = by_path(walk(data, defects))
    assert defects == []
    assert sorted(parts) == ["", "1", "1.1", "1.2", "2", "3"]
    assert parts["1"].content_type == "multipart/alternative"
    assert parts["1.1"].content_type == "text/plain"
    assert parts["1.2"].raw == b"Content-Type: text/html; charset=utf-8\n\n<p>hello</p>"
    for part in parts.values():
        assert part.raw in data  # a slice of the original, byte for byte
        assert part.raw.endswith(part.body)
    assert parts["2"].headers.get_filename() == "report.pdf"


def test_attached_message_is_kept_as_exact_bytes() -> None:
    parts = by_path(walk(nested_message(), []))
    assert parts["3"].content_type == "message/rfc822"
    assert parts["3"].children == []  # not split further: it is one message
    # The line ending before the delimiter belongs to the delimiter (RFC 2046 5.1.1).
    assert parts["3"].body == ATTACHED
    parsed = EmailFormat().parse(nested_message(), None)
    attached = [c for c in parsed.children if c.declared_type == "message/rfc822"]
    assert [c.data for c in attached] == [ATTACHED]
    assert attached[0].locator == "part 3"


def test_base64_and_quoted_printable_are_decoded() -> None:
    defects: list[str] = []
    parts = by_path(walk(nested_message(), defects))
    assert decoded_body(parts["2"], defects) == PDF
    assert decoded_body(parts["1.1"], defects) == UTF8_TEXT
    assert defects == []
    parsed = EmailFormat().parse(nested_message(), None)
    (pdf,) = [c for c in parsed.children if c.name == "report.pdf"]
    assert pdf.data == PDF
    assert "Grüße aus Köln, naïve café" in parsed.text


def test_missing_closing_boundary_is_a_defect_and_the_last_part_runs_to_the_end() -> None:
    data = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nfirst\n"
        b"--b\nContent-Type: text/plain\n\nsecond, cut off"
    )
    defects: list[str] = []
    root = walk(data, defects)
    assert defects == ["message: no closing boundary"]
    assert [c.body for c in root.children] == [b"first", b"second, cut off"]


def test_a_boundary_that_never_appears_is_a_defect() -> None:
    data = b'Content-Type: multipart/mixed; boundary="nowhere"\n\n--elsewhere\n\ntext\n'
    defects: list[str] = []
    root = walk(data, defects)
    assert defects == ["message: boundary 'nowhere' never appears in the body"]
    assert root.children == []
    parsed = EmailFormat().parse(data, None)
    assert "text" in parsed.text  # the body is still read
    assert parsed.record["parts"][0]["unsplit"] is True


def test_multipart_without_a_boundary_parameter_is_a_defect() -> None:
    defects: list[str] = []
    walk(b"Content-Type: multipart/mixed\n\nbody\n", defects)
    assert defects == ["message: multipart without a boundary parameter"]


def test_crlf_parts_and_a_boundary_prefix_that_is_not_the_boundary() -> None:
    data = (
        b'Content-Type: multipart/mixed; boundary="ab"\r\n\r\n'
        b"--ab\r\n\r\none\r\n--abc is not a delimiter\r\n"
        b"--ab \r\n\r\ntwo\r\n"
        b"--ab--\r\n"
    )
    defects: list[str] = []
    root = walk(data, defects)
    assert defects == []
    assert [c.body for c in root.children] == [b"one\r\n--abc is not a delimiter", b"two"]


def test_parts_of_a_digest_default_to_message_rfc822() -> None:
    # RFC 2046 section 5.1.5: in multipart/digest a part without Content-Type is a message.
    data = (
        b'Content-Type: multipart/digest; boundary="d"\n\n'
        b"--d\n\nFrom: x@example.org\nSubject: one\n\nfirst\n"
        b"--d\nContent-Type: text/plain\n\nnot a message\n"
        b"--d--\n"
    )
    root = walk(data, [])
    assert [c.content_type for c in root.children] == ["message/rfc822", "text/plain"]
    parsed = EmailFormat().parse(data, None)
    assert [c.data for c in parsed.children] == [b"From: x@example.org\nSubject: one\n\nfirst"]
    assert parsed.children[0].declared_type == "message/rfc822"


def test_invalid_base64_is_a_defect_and_keeps_the_encoded_bytes() -> None:
    head = b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
    defects: list[str] = []
    root = walk(head + b"QUJD\nR===\n", defects)
    assert decoded_body(root, defects) == b"QUJD\nR===\n"
    assert len(defects) == 1
    assert defects[0].startswith("message: invalid base64")
    # Characters outside the alphabet are ignored (RFC 2045 section 6.8), not a defect.
    defects = []
    assert decoded_body(walk(head + b"QUJD\n!!\nRA==\n", defects), defects) == b"ABCD"
    assert defects == []


def test_bare_cr_message_is_split() -> None:
    data = b"Subject: cr\rContent-Type: text/plain\r\rbody line\r"
    root = walk(data, [])
    assert root.headers["subject"] == "cr"
    assert root.body == b"body line\r"


def test_unencoded_8bit_header_bytes_survive() -> None:
    # Raw UTF-8 and Latin-1 bytes in headers are common in leaked mail; compat32 alone hands
    # them back as a Header whose str() replaces every byte with U+FFFD.
    data = (
        b'From: "M\xc3\xbcller Peter" <p@example.ch>\n'
        b"Subject: Gr\xfc\xdfe aus K\xf6ln\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nhello\n"
        b"--b\nContent-Type: application/pdf\n"
        b'Content-Disposition: attachment; filename="Bericht f\xc3\xbcr M\xc3\xa4rz.pdf"\n\n'
        b"%PDF-1.4\n"
        b"--b--\n"
    )
    parsed = EmailFormat().parse(data, None)
    assert parsed.record["addresses"]["from"] == [
        {"name": "Müller Peter", "address": "p@example.ch"}
    ]
    assert parsed.record["subject"] == "Grüße aus Köln"  # not UTF-8: read as windows-1252
    assert ["Subject", "Grüße aus Köln"] in parsed.record["headers"]
    (pdf,) = parsed.children
    assert pdf.name == "Bericht für März.pdf"
    assert parsed.record["parts"][1]["filename"] == "Bericht für März.pdf"


def test_headers_end_at_the_first_line_that_is_not_a_header() -> None:
    data = b"From: a@example.org\nSubject: s\nthis line is body text\nsecond: looks like a header\n"
    defects: list[str] = []
    root = walk(data, defects)
    assert defects == ["message: no empty line between headers and body"]
    assert root.body == b"this line is body text\nsecond: looks like a header\n"
    assert root.headers["subject"] == "s"
    assert "this line is body text" in EmailFormat().parse(data, None).text


def test_a_part_of_headers_alone_needs_no_empty_line() -> None:
    # RFC 2046 5.1.1: body-part := MIME-part-headers [CRLF *OCTET]; the line ending before the
    # delimiter belongs to the delimiter.
    data = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nfirst\n"
        b"--b\nContent-Type: text/plain\n"
        b"--b--\n"
    )
    defects: list[str] = []
    root = walk(data, defects)
    assert defects == []
    assert root.children[1].raw == b"Content-Type: text/plain"
    assert root.children[1].body == b""
    empty: list[str] = []
    walk(b"", empty)
    assert empty == ["message: empty"]
