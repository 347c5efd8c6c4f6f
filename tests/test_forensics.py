"""Email forensics on real messages read by eye (hops in path order, zones, delays, anomalies),
and each anomaly rule on small made-up header sets."""

from __future__ import annotations

import mailbox
from pathlib import Path
from typing import Any

import pytest

from strongroom.analyze.forensics import (
    analyse_headers,
    domains_related,
    forensics_for_item,
    organizational_domain,
    render_forensics,
)
from strongroom.formats.rfc822 import EmailFormat


def _forensics(data: bytes) -> dict[str, Any]:
    return forensics_for_item({"record": EmailFormat().parse(data, None).record})


def _fedora(corpora: Path, message_id: str) -> dict[str, Any]:
    box = mailbox.mbox(corpora / "fedora-devel-list-2010-01" / "2010-January.txt", create=False)
    for key in box.iterkeys():
        data = box.get_bytes(key)
        if f"<{message_id}>".encode() in data.split(b"\n\n", 1)[0]:
            return _forensics(data)
    raise AssertionError(f"{message_id} not in the corpus")


def _hops(found: dict[str, Any], *fields: str) -> list[tuple[Any, ...]]:
    return [tuple(hop[f] for f in fields) for hop in found["hops"]]


def _codes(found: dict[str, Any]) -> list[str]:
    return [a["code"] for a in found["anomalies"]]


PATH = ("from_host", "from_ip", "by_host", "protocol", "id", "timestamp", "offset")


@pytest.mark.conformance
def test_fedora_gmail_sender_in_india(corpora: Path) -> None:
    found = _fedora(corpora, "b401d2530912311950o5074be43m48b0563bf7d02e03@mail.gmail.com")
    assert _hops(found, *PATH) == [
        (None, None, "10.151.94.35", "SMTP", "w35mr29349376ybl.4.1262317834313",
         "2010-01-01T03:50:34Z", "-0800"),
        (None, None, "yxe13", "SMTP", "13so11858465yxe.23", "2010-01-01T03:50:34Z", "-0800"),
        ("mail-yx0-f183.google.com", "209.85.210.183", "mx1.redhat.com", "ESMTP",
         "o013oYCO026059", "2010-01-01T03:50:34Z", "-0500"),
        ("mx1.redhat.com", "10.5.110.6", "int-mx02.intmail.prod.int.phx2.redhat.com", "ESMTP",
         "o013okHc030345", "2010-01-01T03:50:46Z", "-0500"),
        ("int-mx02.intmail.prod.int.phx2.redhat.com", "10.5.11.12",
         "lists01.pubmisc.prod.ext.phx2.redhat.com", "ESMTP", "o013op4m012597",
         "2010-01-01T03:50:51Z", "-0500"),
    ]  # fmt: skip
    assert [hop["delay_seconds"] for hop in found["hops"]] == [None, 0, 0, 12, 5]
    assert found["sender_timezone"]["offset"] == "+0530"
    assert found["transit"] == {
        "first_hop": "2010-01-01T03:50:34Z",
        "last_hop": "2010-01-01T03:50:51Z",
        "total_seconds": 17,
        "date_to_first_hop_seconds": 0,
    }
    assert found["origin"]["first_public_ip"] == "209.85.210.183"
    assert found["origin"]["hop"] == 3
    assert (found["from_domain"], found["dkim_domains"]) == ("gmail.com", ["gmail.com"])
    assert found["anomalies"] == []


@pytest.mark.conformance
def test_fedora_qmail_first_hop(corpora: Path) -> None:
    found = _fedora(corpora, "20100102210906.GA21344@wolff.to")
    first = found["hops"][0]
    assert (first["software"], first["timestamp"], first["offset"]) == (
        "qmail",
        "2010-01-02T21:09:06Z",
        "-0000",
    )
    assert _hops(found, "from_host", "from_ip", "by_host")[1] == (
        "wolff.to",
        "65.117.131.163",
        "mx1.redhat.com",
    )
    assert [hop["delay_seconds"] for hop in found["hops"]] == [None, 172, 15, 5]
    assert found["sender_timezone"]["offset"] == "-0600"
    assert found["client"] == {"user-agent": "Mutt/1.5.20 (2009-08-17)"}
    assert found["anomalies"] == []


@pytest.mark.conformance
def test_fedora_server_clock_eleven_days_ahead(corpora: Path) -> None:
    # Alex Hudson's Bongo server stamped 16 Jan; Red Hat received the message on 5 Jan.
    found = _fedora(corpora, "4B430F00.7040205@alexhudson.com")
    assert _hops(found, "from_host", "from_ip", "by_host", "protocol", "timestamp") == [
        ("[192.168.125.20]", "84.45.211.107", "barney.alcoholicsunanimous.com", "ESMTPA",
         "2010-01-16T15:19:11Z"),
        ("barney.alcoholicsunanimous.com", "127.0.0.1", "barney.alcoholicsunanimous.com",
         "NMAP", "2010-01-16T15:19:11Z"),
        ("barney.alcoholicsunanimous.com", "127.0.0.1", "barney.alcoholicsunanimous.com",
         "NMAP", "2010-01-16T15:19:14Z"),
        ("barney.alcoholicsunanimous.com", "87.194.162.201", "mx1.redhat.com", "ESMTP",
         "2010-01-05T10:04:59Z"),
        ("mx1.redhat.com", "10.5.110.5", "int-mx02.intmail.prod.int.phx2.redhat.com", "ESMTP",
         "2010-01-05T10:05:15Z"),
        ("int-mx02.intmail.prod.int.phx2.redhat.com", "10.5.11.12",
         "lists01.pubmisc.prod.ext.phx2.redhat.com", "ESMTP", "2010-01-05T10:05:20Z"),
    ]  # fmt: skip
    assert _codes(found) == ["hops-out-of-order", "date-far-from-first-hop"]
    out_of_order = found["anomalies"][0]
    assert out_of_order["hops"] == [3, 4]
    assert "11.2 days before hop 3" in out_of_order["text"]
    assert found["origin"]["first_public_ip"] == "84.45.211.107"


@pytest.mark.conformance
def test_fedora_machine_zone_contradicts_date(corpora: Path) -> None:
    # Mutt wrote Date +1000 (Brisbane); the submitting machine stamped +1030 (CST, Adelaide).
    found = _fedora(corpora, "20100107235325.GA11379@barra.bne.redhat.com")
    first = found["hops"][0]
    assert (first["by_host"], first["software"], first["offset"], first["zone_name"]) == (
        "leo.clearchain.com",
        "8.14.3/8.14.3/Submit",
        "+1030",
        "CST",
    )
    assert first["envelope_from"] == "peter.hutterer@who-t.net"
    assert _codes(found) == ["timezone-contradicts-origin"]
    assert "UTC+10:00" in found["anomalies"][0]["text"]
    assert "UTC+10:30" in found["anomalies"][0]["text"]


@pytest.mark.conformance
def test_lkml_originating_ip_matches_a_hop(corpora: Path) -> None:
    found = _forensics((corpora / "notmuch" / "lkml" / "cur" / "1382298770.001887:2,").read_bytes())
    assert _hops(found, "from_host", "from_ip", "by_host", "protocol", "timestamp") == [
        ("corrin.poochiereds.net", "65.88.2.5", "mail.poochiereds.net", "ESMTPSA",
         "2010-06-22T21:35:41Z"),
        ("[71.70.153.3]", "71.70.153.3", "cdptpa-oedge01.mail.rr.com", "ESMTP",
         "2010-06-22T21:35:42Z"),
        ("cdptpa-omtalb.mail.rr.com", "75.180.132.121", "vger.kernel.org", "ESMTP",
         "2010-06-22T21:35:44Z"),
        (None, None, "vger.kernel.org", None, "2010-06-22T21:35:46Z"),
        ("vger.kernel.org", "209.132.180.67", "lo.gmane.org", "esmtp", "2010-06-22T21:36:08Z"),
    ]  # fmt: skip
    assert found["hops"][3]["via"] == "listexpand"
    assert found["client"]["x-originating-ip"] == "71.70.153.3"
    assert found["transit"]["total_seconds"] == 27
    assert found["received"] == {"total": 5, "parsed": 5, "unparsed": 0}


def _stalwart(corpora: Path, name: str) -> dict[str, Any]:
    path = corpora / "dkim-arc" / "stalwart-mail-auth-resources" / "resources" / name
    return _forensics(path.read_bytes().split(b"\n\n", 1)[1])  # DNS records come first


@pytest.mark.conformance
def test_dkim_arc_gmail_chain(corpora: Path) -> None:
    found = _stalwart(corpora, "arc/001.txt")
    assert _hops(found, "from_host", "from_ip", "by_host", "tls", "timestamp") == [
        ("mail.stalw.art", "135.181.195.209", "london.stalw.art",
         "TLSv1.3 TLS_AES_256_GCM_SHA384", "2022-11-08T07:51:03Z"),
        ("london.stalw.art", "159.65.62.60", "ietfa.amsl.com",
         "TLSv1.3 TLS_AES_256_GCM_SHA384", "2022-11-08T07:51:05Z"),
        ("mail.ietf.org", "50.223.129.194", "localhost", None, "2022-11-08T07:51:05Z"),
        ("localhost", "127.0.0.1", "ietfa.amsl.com", None, "2022-11-08T07:51:10Z"),
        ("ietfa.amsl.com", "::1", "ietfa.amsl.com", None, "2022-11-08T07:51:12Z"),
        (None, None, "2002:adf:b343:0:0:0:0:0", None, "2022-11-08T07:51:18Z"),
    ]  # fmt: skip
    assert found["dkim_domains"] == ["ietf.org", "stalw.art"]
    assert found["from_domain"] == "stalw.art"
    assert found["anomalies"] == []


@pytest.mark.conformance
def test_dkim_arc_list_signature_unrelated_to_author(corpora: Path) -> None:
    found = _stalwart(corpora, "dkim/003.txt")
    assert (found["from_domain"], found["dkim_domains"]) == ("jck.com", ["ietf.org"])
    assert _codes(found) == ["dkim-domain-unrelated"]
    first = found["hops"][0]
    assert (first["from_host"], first["from_ip"], first["by_host"], first["protocol"]) == (
        "[198.252.137.10]",
        "198.252.137.10",
        "bsa2.jck.com",
        "esmtp",
    )


# -- each rule on made-up headers -------------------------------------------------------------
def _headers(*received: str, date: str = "Tue, 3 May 2016 10:00:00 -0400", **more: str) -> Any:
    rows = [("Received", value) for value in received]
    rows += [("Date", date), ("From", more.get("sender", "Ann <ann@dnc.org>"))]
    rows += [(name.replace("_", "-"), value) for name, value in more.items() if name != "sender"]
    return analyse_headers(rows)


LAST = (
    "from mx.dnc.org ([10.0.0.2]) by inbox.dnc.org with ESMTP id B; Tue, 3 May 2016 14:01:00 +0000"
)
FIRST = (
    "from laptop ([198.51.100.7]) by mx.dnc.org with ESMTPSA id A; Tue, 3 May 2016 14:00:30 +0000"
)


def test_clean_chain_has_no_anomaly() -> None:
    found = _headers(LAST, FIRST)
    assert found["anomalies"] == []
    assert [hop["by_host"] for hop in found["hops"]] == ["mx.dnc.org", "inbox.dnc.org"]
    assert found["transit"]["date_to_first_hop_seconds"] == 30


def test_reordered_headers_are_out_of_order() -> None:
    found = _headers(FIRST, LAST)  # the later hop placed as if it came first
    assert "hops-out-of-order" not in _codes(found)  # 30 s: within clock drift
    late = LAST.replace("14:01:00", "15:01:00")
    found = _headers(FIRST, late)
    assert _codes(found) == ["hops-out-of-order", "date-far-from-first-hop"]


def test_date_after_delivery_and_far_from_first_hop() -> None:
    found = _headers(LAST, FIRST, date="Tue, 3 May 2016 12:00:00 -0400")
    assert _codes(found) == ["date-far-from-first-hop", "date-after-delivery"]
    assert "after the first recorded hop" in found["anomalies"][0]["text"]


def test_zone_name_and_impossible_offset() -> None:
    assert _codes(_headers(LAST, FIRST, date="Tue, 3 May 2016 10:00:00 -0400 (EST)")) == [
        "timezone-name-mismatch"
    ]
    assert _codes(_headers(LAST, FIRST, date="Tue, 3 May 2016 10:00:00 -0400 (EDT)")) == []
    assert _codes(_headers(LAST, FIRST, date="Tue, 3 May 2016 15:37:00 +0137")) == [
        "timezone-impossible"
    ]


def test_local_submission_zone_against_date() -> None:
    local = "by desk.dnc.org (Postfix, from userid 1000) id Z; Tue, 3 May 2016 16:00:10 +0200"
    found = _headers(LAST, FIRST, local)
    assert _codes(found) == ["timezone-contradicts-origin"]
    assert found["anomalies"][0]["hops"] == [1]
    # the same hop on a machine of another domain says nothing about the sender
    assert _codes(_headers(LAST, FIRST, local.replace("dnc.org", "relay.example"))) == []


def test_dkim_alignment_rules() -> None:
    signed = "v=1; a=rsa-sha256; d=mail.dnc.org; s=k; b=x"
    assert _codes(_headers(LAST, FIRST, DKIM_Signature=signed)) == []
    other = signed.replace("mail.dnc.org", "sendgrid.net")
    found = _headers(LAST, FIRST, DKIM_Signature=other)
    assert _codes(found) == ["dkim-domain-unrelated"]
    assert organizational_domain("a.b.example.co.uk") == "example.co.uk"
    assert domains_related("lists.example.org", "example.org")
    assert not domains_related("example.co.uk", "other.co.uk")


def test_no_received_and_unparsed_are_info() -> None:
    found = analyse_headers([("Date", "Tue, 3 May 2016 10:00:00 -0400"), ("From", "a@b.org")])
    assert [(a["code"], a["severity"]) for a in found["anomalies"]] == [("no-received", "info")]
    found = _headers(LAST, "from localhost")
    assert [(a["code"], a["hops"]) for a in found["anomalies"]] == [("received-unparsed", [1])]
    assert found["received"] == {"total": 2, "parsed": 1, "unparsed": 1}


def test_item_without_headers_and_rendering() -> None:
    assert forensics_for_item({"kind": "document", "record": {}}) == {}
    lines = render_forensics(_headers(LAST, FIRST, X_Originating_IP="[198.51.100.7]"))
    assert lines[0] == "Received: 2 headers, 2 parsed"
    assert lines[1].startswith(
        "  1. 2016-05-03T14:00:30+00:00  laptop [198.51.100.7] -> mx.dnc.org"
    )
    assert "x-originating-ip: [198.51.100.7]" in lines
    assert render_forensics({}) == ["no mail headers: forensics apply to emails only"]
