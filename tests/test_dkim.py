"""DKIM verification against the stored bytes: dkimpy's test vectors, real signed mail with its
shipped key records, tampering, expiry judged at the message's time, and the keyring.

Suites (pass rates are reported per suite in the verify issue):
- `dkimpy`: the verification cases of dkimpy's own tests (dkim/tests/test_dkim.py and
  test_dkim_ed25519.py), re-expressed through strongroom's verifier over the data files in
  ../shared/corpora/dkim-arc/dkimpy-tests-data/ (messages signed there, or by dkimpy here).
- `real`: the real signed messages of stalwart-mail-auth-resources (ietf.org, facebookmail.com,
  topicbox.com, github.com, and the Gmail-relayed ietf.org message), each verified with the key
  records shipped at the top of its file, then with one body byte or one signed header changed.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest

from strongroom.verify.dkim import (
    Message,
    SignatureResult,
    check_fields,
    message_time,
    parse_message,
    verify_signatures,
)
from strongroom.verify.keyring import KeyRecord, Keyring, Problem, parse_key, parse_zone
from strongroom.verify.verdict import email_verdict, flags_of

NOW = datetime.now(UTC)
# The gmail.com 20120113 key record dkimpy's tests verify test2.message with (dkim/tests).
GMAIL_20120113 = (
    "k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1Kd87/UeJjenpabgbFwh+eBCsSTrqmwIYYvywl"
    "bhbqoo2DymndFkbjOVIPIldNs/m40KF+yzMn1skyoxcTUGCQs8g3FgD2Ap3ZB5DekAo5wMmk4wimDO+U8QzI3SD07y2+"
    "07wlNWwIt8svnxgdxGkVbbhzY8i+RQ9DpSVpPbF7ykQxtKXkv/ahW3KjViiAH+ghvvIhkx4xYSIc9oSwVmAl5OctMEeW"
    "Uwg8Istjqz8BZeTWbf41fbNhte7Y+YqZOwq1Sd0DbvYAD9NOZK9vlfuac0598HY+vtSBczUiKERHv1yRbcaQtZFh5wti"
    "RrN04BLUTD21MycBX5jYchHjPY/wIDAQAB"
)
# The 512-bit key of dkimpy's canonicalization test (its private half is in that test).
CANONICAL_512 = (
    "k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANmBe10IgY+u7h3enWTukkqtUD5PR52Tb/mPfjC0QJTocVBq6Za/"
    "PlzfV+Py92VaCak19F4WrbVTK5Gg5tW220MCAwEAAQ=="
)
CANONICAL_512_PRIVATE = b"""-----BEGIN RSA PRIVATE KEY-----
MIIBOwIBAAJBANmBe10IgY+u7h3enWTukkqtUD5PR52Tb/mPfjC0QJTocVBq6Za/
PlzfV+Py92VaCak19F4WrbVTK5Gg5tW220MCAwEAAQJAYFUKsD+uMlcFu1D3YNaR
EGYGXjJ6w32jYGJ/P072M3yWOq2S1dvDthI3nRT8MFjZ1wHDAYHrSpfDNJ3v2fvZ
cQIhAPgRPmVYn+TGd59asiqG1SZqh+p+CRYHW7B8BsicG5t3AiEA4HYNOohlgWan
8tKgqLJgUdPFbaHZO1nDyBgvV8hvWZUCIQDDdCq6hYKuKeYUy8w3j7cgJq3ih922
2qNWwdJCfCWQbwIgTY0cBvQnNe0067WQIpj2pG7pkHZR6qqZ9SE+AjNTHX0CIQCI
Mgq55Y9MCq5wqzy141rnxrJxTwK9ABo3IAFMWEov3g==
-----END RSA PRIVATE KEY-----
"""
CANONS = [(h, b) for h in (b"simple", b"relaxed") for b in (b"simple", b"relaxed")]


def keyring(*entries: tuple[str, str | bytes]) -> Keyring:
    records = [
        KeyRecord(
            n,
            name.split("._domainkey.")[1],
            name.split("._domainkey.")[0],
            value if isinstance(value, str) else value.decode(),
            "import: test",
            "2020-01-01T00:00:00.000000Z",
        )
        for n, (name, value) in enumerate(entries, start=1)
    ]
    return Keyring(records)


def check(raw: bytes, ring: Keyring, date_utc: str | None = None) -> list[SignatureResult]:
    message = parse_message(raw)
    when, _ = message_time(message, date_utc)
    return verify_signatures(message, ring, when, NOW)


@pytest.fixture(scope="module")
def data(corpora: Path) -> Path:
    return corpora / "dkim-arc" / "dkimpy-tests-data"


@pytest.fixture(scope="module")
def rsa_ring(data: Path) -> Keyring:
    return keyring(("test._domainkey.example.com", (data / "test.txt").read_bytes()))


# -- the dkimpy suite ------------------------------------------------------------------------
@pytest.mark.conformance
@pytest.mark.parametrize(("header", "body"), CANONS)
@pytest.mark.parametrize("algorithm", [b"rsa-sha256", b"rsa-sha1"])
def test_dkimpy_signed_message_verifies(
    data: Path, rsa_ring: Keyring, header: bytes, body: bytes, algorithm: bytes
) -> None:
    message = (data / "test.message").read_bytes()
    signature = dkim.sign(
        message,
        b"test",
        b"example.com",
        (data / "test.private").read_bytes(),
        canonicalize=(header, body),
        signature_algorithm=algorithm,
    )
    [result] = check(signature + message, rsa_ring)
    assert (result.status, result.body_hash_ok, result.header_ok) == ("pass", True, True)
    assert result.key_bits == 1024
    assert ("rsa-sha1" in result.weak) == (algorithm == b"rsa-sha1")
    assert ("dkim-weak" in flags_of([result], None)) == (algorithm == b"rsa-sha1")


@pytest.mark.conformance
def test_dkimpy_implicit_key_type(data: Path) -> None:
    ring = keyring(("test._domainkey.example.com", (data / "test2.txt").read_bytes()))
    message = (data / "test.message").read_bytes()
    signature = dkim.sign(message, b"test", b"example.com", (data / "test.private").read_bytes())
    assert check(signature + message, ring)[0].status == "pass"


@pytest.mark.conformance
@pytest.mark.parametrize(("header", "body"), CANONS)
def test_dkimpy_should_headers_signed(
    data: Path, rsa_ring: Keyring, header: bytes, body: bytes
) -> None:
    message = (data / "test.message").read_bytes()
    signature = dkim.sign(
        message,
        b"test",
        b"example.com",
        (data / "test.private").read_bytes(),
        canonicalize=(header, body),
        include_headers=(b"from", *dkim.DKIM.SHOULD),
    )
    [result] = check(signature + message, rsa_ring)
    assert result.status == "pass"
    assert result.covered_headers == ["From", "Subject", "Date", "Message-ID", "To"]


@pytest.mark.conformance
def test_dkimpy_body_length_flagged(data: Path, rsa_ring: Keyring) -> None:
    message = (data / "test.message").read_bytes()
    key = (data / "test.private").read_bytes()
    signature = dkim.sign(message, b"test", b"example.com", key, length=True)
    [result] = check(signature + message, rsa_ring)
    assert result.status == "pass"
    assert (result.body_length_limit, result.unsigned_body_bytes) == (25, 0)
    assert "body-length-limit" in result.weak
    appended = signature + message + b"Appended after signing.\n"
    [later] = check(appended, rsa_ring)
    assert (later.status, later.unsigned_body_bytes) == ("pass", 25)
    assert "25 bytes after them are not covered" in email_verdict([later], None)


@pytest.mark.conformance
@pytest.mark.parametrize(("header", "body"), CANONS)
def test_dkimpy_altered_body_fails(
    data: Path, rsa_ring: Keyring, header: bytes, body: bytes
) -> None:
    message = (data / "test.message").read_bytes()
    key = (data / "test.private").read_bytes()
    signature = dkim.sign(message, b"test", b"example.com", key, canonicalize=(header, body))
    [result] = check(signature + message + b"foo", rsa_ring)
    assert (result.status, result.reason_code) == ("fail", "body-changed")
    assert (result.body_hash_ok, result.header_ok) == (False, True)


@pytest.mark.conformance
def test_dkimpy_badly_encoded_domain_fails(data: Path, rsa_ring: Keyring) -> None:
    message = (data / "test.message").read_bytes()
    key = (data / "test.private").read_bytes()
    signature = dkim.sign(message, b"test", b"example.com\xe9", key)
    [result] = check(signature + message, rsa_ring)
    assert (result.status, result.reason_code) == ("fail", "bad-syntax")


@pytest.mark.conformance
@pytest.mark.parametrize("header", [b"relaxed", b"simple"])
def test_dkimpy_refolded_signature_verifies(header: bytes) -> None:
    """dkimpy's canonicalization test: b= folded again (with a tab) must not matter. Its key has
    512 bits, which RFC 8301 refuses: the hashes verify, the verdict is key-too-small."""
    sample = b"From: mbp@canonical.com\r\nTo: scottk@example.com\r\nSubject: this is my\r\n"
    sample += b"    test message\r\n"
    signed = dkim.sign(
        sample,
        b"example",
        b"canonical.com",
        CANONICAL_512_PRIVATE,
        canonicalize=(header, b"relaxed"),
    )
    folded = dkim.fold(signed)
    position = folded.rindex(b"\r\n ")
    tabbed = folded[:position] + b"\r\n\t" + folded[position + 3 :]
    ring = keyring(("example._domainkey.canonical.com", CANONICAL_512))
    for variant in (folded, tabbed):
        [result] = check(variant + sample, ring)
        assert (result.body_hash_ok, result.header_ok, result.key_bits) == (True, True, 512)
        assert (result.status, result.reason_code) == ("fail", "key-too-small")


@pytest.mark.conformance
def test_dkimpy_degenerate_folding(data: Path) -> None:
    ring = keyring(("20120113._domainkey.gmail.com", GMAIL_20120113))
    [result] = check((data / "test2.message").read_bytes(), ring)
    assert result.status == "pass"
    verdict = email_verdict([result], None)
    assert verdict.startswith(
        "Signed by gmail.com; verified with a 2048-bit RSA key (selector 20120113) archived on "
        "2020-01-01; the body and these 9 headers"
    )


@pytest.mark.conformance
@pytest.mark.parametrize(("header", "body"), CANONS)
def test_dkimpy_extra_headers(data: Path, rsa_ring: Keyring, header: bytes, body: bytes) -> None:
    message = (data / "message.mbox").read_bytes()
    signer = dkim.DKIM(message)
    signer.should_not_sign.remove(b"received")
    signature = signer.sign(
        b"test",
        b"example.com",
        (data / "test.private").read_bytes(),
        include_headers=signer.all_sign_headers(),
        canonicalize=(header, body),
    )
    results = check(signature + message, rsa_ring)
    assert results[0].status == "pass"
    assert results[0].covered_headers.count("Received") == 6
    # the message's own kitterman.com signature: its key is not in the keyring
    assert (results[1].status, results[1].reason_code) == ("fail", "no-key")


@pytest.mark.conformance
@pytest.mark.parametrize(("header", "body"), CANONS)
def test_dkimpy_multiple_from_fails(
    data: Path, rsa_ring: Keyring, header: bytes, body: bytes
) -> None:
    message = (data / "test.message").read_bytes()
    key = (data / "test.private").read_bytes()
    signature = dkim.sign(message, b"test", b"example.com", key, canonicalize=(header, body))
    head, rest = message.split(b"\n\n", 1)
    extra_from = b'From: "Resident Evil" <sales@spammer.com>'
    unsigned_added = b"\n\n".join((head + b"\r\nX-Foo: bar", rest))
    assert check(signature + unsigned_added, rsa_ring)[0].status == "pass"
    for forged in (head + b"\r\n" + extra_from, extra_from + b"\r\n" + head):
        [result] = check(signature + b"\n\n".join((forged, rest)), rsa_ring)
        assert (result.status, result.reason_code) == ("fail", "header-changed")


@pytest.mark.conformance
def test_dkimpy_from_must_be_signed(data: Path, rsa_ring: Keyring) -> None:
    message = (data / "test.message").read_bytes()
    key = (data / "test.private").read_bytes()
    signature = dkim.sign(
        message, b"test", b"example.com", key, include_headers=[b"from", b"subject"]
    )
    assert b"h=from : subject" in signature
    without_from = signature.replace(b"h=from : subject", b"h=subject")
    [result] = check(without_from + message, rsa_ring)
    assert (result.status, result.reason_code) == ("fail", "from-not-signed")
    with pytest.raises(dkim.ParameterError):  # dkimpy's signer refuses the From-less message
        dkim.sign((data / "test_nofrom.message").read_bytes(), b"test", b"example.com", key)


@pytest.mark.conformance
def test_dkimpy_signature_fields() -> None:
    """dkimpy's validate_signature_fields cases; expiry is judged at the message's time."""
    sig = {
        b"v": b"1",
        b"a": b"rsa-sha256",
        b"b": b"K/UUOt8lCtgjp3kSTogqBm9lY1Yax/NwZ+bKm39/WKzo5KYe3L/6RoIA/0oiDX4kO\n \t Qut49HCV6Z"
        b"Ue6dY9V5qWBwLanRs1sCnObaOGMpFfs8tU4TWpDSVXaNZAqn15XVW0WH\n \t EzOzUfVuatpa1kF4voIgSbmZH"
        b"R1vN3WpRtcTBe/I=",
        b"bh": b"n0HUwGCP28PkesXBPH82Kboy8LhNFWU9zUISIpAez7M=",
        b"c": b"simple/simple",
        b"d": b"kitterman.com",
        b"i": b"scott@Kitterman.com",
        b"h": b"From:To:Subject:Date:Cc:MIME-Version:Content-Type:\n \t Content-Transfer-Encoding",
        b"s": b"2007-00",
        b"t": b"1299525798",
    }
    check_fields(sig, (b"v", b"a", b"b", b"bh", b"d", b"h", b"s"))
    with pytest.raises(Problem, match="v= is not 1"):
        check_fields({**sig, b"v": b"2"}, ())
    check_fields({**sig, b"x": b"1399525798"}, ())
    with pytest.raises(Problem, match="before t="):
        check_fields({**sig, b"x": b"1399525798", b"t": b"1400000000"}, ())


@pytest.mark.conformance
def test_dkimpy_rfc8463_example(data: Path) -> None:
    """RFC 8463's example: an Ed25519 and an RSA signature (c=simple/simple) on one message;
    the Ed25519 public key is derived from RFC 8032's test key 1 (rfc8032_7_1.key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    secret = base64.b64decode((data / "rfc8032_7_1.key").read_bytes())
    public = Ed25519PrivateKey.from_private_bytes(secret).public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    ring = keyring(
        (
            "brisbane._domainkey.football.example.com",
            f"k=ed25519; p={base64.b64encode(raw).decode()}",
        ),
        ("test._domainkey.football.example.com", (data / "test.txt").read_bytes()),
    )
    ed, rsa = check((data / "rfc6376.signed.msg").read_bytes(), ring)
    assert (ed.status, ed.key_type, ed.key_bits, ed.algorithm) == (
        "pass",
        "ed25519",
        256,
        "ed25519-sha256",
    )
    assert (rsa.status, rsa.key_type) == ("pass", "rsa")
    assert "verified with a 256-bit Ed25519 key (selector brisbane)" in email_verdict([ed], None)
    assert check((data / "rfc6376.msg").read_bytes(), ring) == []


@pytest.mark.conformance
def test_dkimpy_exim_ed25519(data: Path) -> None:
    ring = keyring(("sed._domainkey.test.ex", (data / "eximtest.dns").read_bytes()))
    [result] = check((data / "ed25519test2.msg").read_bytes(), ring)
    assert (result.status, result.key_type) == ("pass", "ed25519")


@pytest.mark.conformance
@pytest.mark.parametrize(("header", "body"), CANONS)
def test_dkimpy_ed25519_signed_message(data: Path, header: bytes, body: bytes) -> None:
    pytest.importorskip("nacl", reason="dkimpy signs Ed25519 with PyNaCl (dkimpy[ed25519])")
    message = (data / "ed25519test.msg").read_bytes()
    key = (data / "ed25519test.key").read_bytes()
    ring = keyring(("test._domainkey.example.com", (data / "ed25519test.dns").read_bytes()))
    signature = dkim.sign(
        message,
        b"test",
        b"example.com",
        key,
        canonicalize=(header, body),
        signature_algorithm=b"ed25519-sha256",
    )
    [result] = check(signature + message, ring)
    assert (result.status, result.key_type) == ("pass", "ed25519")
    [changed] = check(signature + message + b"foo", ring)
    assert changed.reason_code == "body-changed"
    head, rest = message.split(b"\n\n", 1)
    forged = b"\n\n".join((b'From: "Resident Evil" <sales@spammer.com>\r\n' + head, rest))
    assert check(signature + forged, ring)[0].reason_code == "header-changed"


@pytest.mark.conformance
@pytest.mark.parametrize(
    ("record", "code"),
    [
        ("badk.txt", "key-syntax"),  # k=ed25519-sha256 is no key type
        ("badversion.txt", "key-syntax"),  # v=DKIM1: (a colon) is no version
        ("test_bad.txt", "key-syntax"),  # p= truncated: no RSA key can be read
        ("test_tlsrpt.txt", "key-mismatch"),  # s=tlsrpt: not a key for email
    ],
)
def test_dkimpy_bad_key_records(data: Path, record: str, code: str) -> None:
    ring = keyring(("test._domainkey.example.com", (data / record).read_bytes()))
    message = (data / "test.message").read_bytes()
    signature = dkim.sign(message, b"test", b"example.com", (data / "test.private").read_bytes())
    [result] = check(signature + message, ring)
    assert (result.status, result.reason_code) == ("fail", code)


# -- real signed mail with its shipped key records -------------------------------------------------
REAL = {
    "dkim/003.txt": ("ietf.org", "ietf1", 2),
    "dkim/004.txt": ("facebookmail.com", "s1024-2013-q3", 1),
    "dkim/005.txt": ("topicbox.com", "sysmsg-1", 1),
    "dkim/006.txt": ("github.com", "dk2016", 1),
    "arc/001.txt": ("ietf.org", "ietf1", 2),  # relayed by Gmail (ARC); a third, broken signature
}


def real_message(corpora: Path, name: str) -> tuple[bytes, Keyring]:
    """The message and the key records listed above it in stalwart's resource file."""
    text = (corpora / "dkim-arc" / "stalwart-mail-auth-resources" / "resources" / name).read_bytes()
    zone, message = text.split(b"\n\n", 1)
    ring = Keyring.from_zone(zone.decode(), "import: stalwart", "2022-11-10T00:00:00Z")
    assert len(ring.records) == len(zone.splitlines())
    return message, ring


def _flip_body_byte(message: bytes) -> bytes:
    head, body = message.split(b"\n\n", 1)
    at = next(i for i, c in enumerate(body) if chr(c).isalpha())
    return head + b"\n\n" + body[:at] + bytes([body[at] ^ 0x20]) + body[at + 1 :]


def _change_header(message: bytes, name: str) -> bytes:
    head, body = message.split(b"\n\n", 1)
    lines = head.split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.lower().startswith(name.encode() + b":"))
    label, value = lines[at].split(b":", 1)
    letter = next(i for i, c in enumerate(value) if chr(c).isalpha())
    lines[at] = label + b":" + value[:letter] + bytes([value[letter] ^ 0x20]) + value[letter + 1 :]
    return b"\n".join(lines) + b"\n\n" + body


@pytest.mark.conformance
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_signed_mail(corpora: Path, name: str) -> None:
    domain, selector, passing = REAL[name]
    message, ring = real_message(corpora, name)
    results = check(message, ring)
    good = [r for r in results if r.status == "pass"]
    assert len(good) == passing
    assert {(r.domain, r.selector) for r in good} == {(domain, selector)}
    assert all(r.body_hash_ok and r.header_ok for r in good)
    verdict = email_verdict(results, None)
    assert verdict.startswith(f"Signed by {domain}; verified with a 1024-bit RSA key")

    [body] = {r.reason_code for r in check(_flip_body_byte(message), ring) if r.domain == domain}
    assert body == "body-changed"
    signed = "subject" if "Subject" in good[0].covered_headers else "from"
    changed = check(_change_header(message, signed), ring)
    assert {r.reason_code for r in changed if r.domain == domain} == {"header-changed"}
    assert all(r.body_hash_ok for r in changed if r.domain == domain)


@pytest.mark.conformance
def test_real_broken_signature_of_relayed_message(corpora: Path) -> None:
    message, ring = real_message(corpora, "arc/001.txt")
    broken = [r for r in check(message, ring) if r.domain == "stalw.art"]
    assert [(r.status, r.reason_code, r.key_bits) for r in broken] == [
        ("fail", "body-changed", 2048)
    ]


@pytest.mark.conformance
def test_expiry_is_judged_at_the_message_time(corpora: Path) -> None:
    """topicbox.com signs with x= a day after t= (November 2022): dkimpy alone says expired."""
    message, ring = real_message(corpora, "dkim/005.txt")
    assert not dkim.verify(message, dnsfunc=lambda name, timeout=5: ring.records[0].record)
    [result] = check(message, ring)
    assert (result.status, result.valid_at_message_time, result.expired_now) == (
        "pass",
        True,
        True,
    )
    assert "valid at the message's time; it expired on 2022-11-08" in email_verdict([result], None)
    [late] = check(message, ring, date_utc="2022-11-20T00:00:00Z")
    assert (late.status, late.reason_code) == ("fail", "expired")


@pytest.mark.conformance
def test_key_validity_period_is_judged_at_the_message_time(corpora: Path) -> None:
    message, shipped = real_message(corpora, "dkim/006.txt")
    record = shipped.records[0].record
    name = ("github.com", "dk2016", record, "import: github.zone", "2023-01-01T00:00:00Z")
    later = Keyring([KeyRecord(1, *name, valid_from="2023-01-01T00:00:00Z")])
    [result] = check(message, later)
    assert (result.status, result.reason_code) == ("fail", "key-not-valid-at-time")
    covering = Keyring([KeyRecord(1, *name, "2016-01-01T00:00:00Z", "2022-12-31T23:59:59Z")])
    [result] = check(message, covering)
    assert result.status == "pass"
    assert "valid 2016-01-01 to 2022-12-31" in email_verdict([result], None)


# -- keys and zone files --------------------------------------------------------------------------
def test_zone_file_forms() -> None:
    zone = parse_zone(
        "; names without a final dot are absolute until an $ORIGIN says otherwise\n"
        "s3._domainkey.bare.com v=DKIM1; k=ed25519; p=CCCC\n"
        "$ORIGIN example.org.\n"
        's1._domainkey IN TXT "v=DKIM1; k=rsa; " "p=AAAA"\n'
        's2._domainkey.other.net. 3600 IN TXT ( "v=DKIM1; p=BB"\n'
        '   "BB" ) ; trailing comment\n'
        'www.example.org. IN TXT "v=spf1 -all"\n'
        'x._domainkey.example.com. IN TXT "v=DKIM1; t=y"\n'
    )
    assert [(e.selector, e.domain, e.record) for e in zone.entries] == [
        ("s3", "bare.com", "v=DKIM1; k=ed25519; p=CCCC"),
        ("s1", "example.org", "v=DKIM1; k=rsa; p=AAAA"),
        ("s2", "other.net", "v=DKIM1; p=BBBB"),
    ]
    assert [line for line, _ in zone.skipped] == [7, 8]


def test_key_records() -> None:
    with pytest.raises(Problem) as revoked:
        parse_key("v=DKIM1; k=rsa; p=")
    assert revoked.value.code == "key-revoked"
    with pytest.raises(Problem) as garbage:
        parse_key("v=DKIM1; p=bm90IGEga2V5")
    assert garbage.value.code == "key-syntax"


def test_revoked_key_is_reported(tmp_path: Path) -> None:
    message = b"From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n"
    signature = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=gone; h=from; bh="
    body_hash = base64.b64encode(hashlib.sha256(b"body\r\n").digest())
    raw = signature + body_hash + b"; b=AAAA\r\n" + message
    [result] = check(raw, keyring(("gone._domainkey.example.com", "v=DKIM1; p=")))
    assert (result.status, result.reason_code, result.body_hash_ok) == ("fail", "key-revoked", True)
    [nothing] = check(raw, Keyring())
    assert nothing.reason_code == "no-key"
    assert "the keyring has no key record for gone._domainkey.example.com" in nothing.detail


def test_unsigned_and_unreadable() -> None:
    assert check(b"From: a@example.com\r\n\r\nhello\r\n", Keyring()) == []
    assert email_verdict([], None).startswith("Not DKIM-signed")
    broken = parse_message(b"From: a@example.com\r\nnot a header\r\nTo: b@example.com\r\n\r\nx")
    assert broken.defect == "line 2 of the header section is not a header field"
    assert (len(broken.headers), broken.body) == (1, b"not a header\r\nTo: b@example.com\r\n\r\nx")


def test_mbox_quoting_is_undone_on_retry(data: Path, rsa_ring: Keyring) -> None:
    message = (data / "test.message").read_bytes() + b"From the start, this was a test.\n"
    key = (data / "test.private").read_bytes()
    signature = dkim.sign(message, b"test", b"example.com", key)
    quoted = signature + message.replace(b"\nFrom the start", b"\n>From the start")
    [plain] = check(quoted, rsa_ring)
    assert plain.reason_code == "body-changed"
    parsed: Message = parse_message(quoted, quoted_from_lines=1)
    [retried] = verify_signatures(parsed, rsa_ring, None, NOW)
    assert (retried.status, retried.mbox_unquoted) == ("pass", True)
    assert "mbox '>From ' quoting" in email_verdict([retried], None)
