"""Received headers parsed into hops: one test per MTA family, on header values copied from the
real corpora (source named beside each), and parse rates over whole corpora."""

from __future__ import annotations

import mailbox
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.analyze.forensics import forensics_for_item
from strongroom.analyze.received import parse_received
from strongroom.formats.rfc822 import EmailFormat


def test_sendmail_with_rdns_and_ip() -> None:  # fedora-devel-list, first message, hop 3
    hop = parse_received(
        "from mail-yx0-f183.google.com (mail-yx0-f183.google.com\n\t[209.85.210.183])\n"
        "\tby mx1.redhat.com (8.13.8/8.13.8) with ESMTP id o013oYCO026059\n"
        "\tfor <fedora-devel-list@redhat.com>; Thu, 31 Dec 2009 22:50:34 -0500"
    )
    assert hop.parsed
    assert (hop.from_host, hop.from_rdns, hop.from_ip) == (
        "mail-yx0-f183.google.com",
        "mail-yx0-f183.google.com",
        "209.85.210.183",
    )
    assert (hop.by_host, hop.software, hop.protocol, hop.id) == (
        "mx1.redhat.com",
        "8.13.8/8.13.8",
        "ESMTP",
        "o013oYCO026059",
    )
    assert hop.for_address == "fedora-devel-list@redhat.com"
    assert (hop.timestamp, hop.offset) == ("2010-01-01T03:50:34Z", "-0500")
    assert hop.local_time == "2009-12-31T22:50:34-05:00"
    assert hop.raw.startswith("from mail-yx0-f183.google.com (mail-yx0-f183.google.com\n\t[")


def test_gmail_internal_hop_has_no_from() -> None:  # fedora-devel-list, first message, hop 2
    hop = parse_received(
        "by yxe13 with SMTP id 13so11858465yxe.23\n\tfor <fedora-devel-list@redhat.com>;\n"
        "\tThu, 31 Dec 2009 19:50:34 -0800 (PST)"
    )
    assert hop.parsed and hop.from_host is None and hop.from_ip is None
    assert (hop.by_host, hop.protocol, hop.id) == ("yxe13", "SMTP", "13so11858465yxe.23")
    assert (hop.offset, hop.zone_name, hop.timestamp) == ("-0800", "PST", "2010-01-01T03:50:34Z")


def test_exim_helo_tls_and_envelope() -> None:  # fedora-devel-list, camperquake.de
    hop = parse_received(
        "from lain.camperquake.de ([212.51.12.91] helo=fred.camperquake.de) by "
        "ryoko.camperquake.de with esmtpsa (TLSv1:AES128-SHA:128) (Exim 4.63) "
        "(envelope-from <fedora@camperquake.de>) id 1NRpaS-0007Hh-1q for "
        "fedora-devel-list@redhat.com; Mon, 04 Jan 2010 17:15:20 +0100"
    )
    assert hop.parsed
    assert (hop.from_host, hop.from_ip, hop.helo) == (
        "lain.camperquake.de",
        "212.51.12.91",
        "fred.camperquake.de",
    )
    assert (hop.protocol, hop.tls, hop.software) == ("esmtpsa", "TLSv1 AES128-SHA", "Exim 4.63")
    assert hop.envelope_from == "fedora@camperquake.de"
    assert (hop.id, hop.for_address) == ("1NRpaS-0007Hh-1q", "fedora-devel-list@redhat.com")


def test_exim_client_certificate_and_authid() -> None:  # notmuch duplicate/, lkml
    hop = parse_received(
        "from ticharich.debian.org ([2001:41c8:1000:21::21:23]) from C=NA,ST=NA,L=Ankh "
        "Morpork,O=Debian SMTP,OU=Debian SMTP CA,CN=ticharich.debian.org,"
        "EMAIL=hostmaster@ticharich.debian.org (verified) by muffat.debian.org with esmtps "
        "(TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256) (Exim 4.89) (envelope-from "
        "<bounces@tracker.debian.org>) id 1gFfwi-0004A1-J6 for david@tethera.net; "
        "Thu, 25 Oct 2018 13:45:08 +0000"
    )
    assert hop.parsed and hop.from_ip == "2001:41c8:1000:21::21:23"
    assert hop.tls_peer is not None and "CN=ticharich.debian.org" in hop.tls_peer
    assert hop.tls == "TLS1.2 ECDHE_RSA_AES_256_GCM_SHA384"
    authid = parse_received(
        "from p5b034af6.dip.t-dialin.net ([91.3.74.246] helo=excalibur) by sirius.lasnet.de "
        "with esmtpsa (Cipher TLS-1.0:RSA_AES_256_CBC_SHA1:32) (Exim 4.63 #1) id "
        "1NC032-0000td-2v by authid <stefan@sostec.de> with cram_md5; "
        "Sun, 22 Nov 2009 01:11:28 +0100"
    )
    assert authid.parsed and authid.authenticated == "stefan@sostec.de"
    assert (authid.by_host, authid.helo) == ("sirius.lasnet.de", "excalibur")


def test_qmail_comment_only_and_unknown_zone() -> None:  # fedora-devel-list, wolff.to
    hop = parse_received("(qmail 2894 invoked by uid 500); 2 Jan 2010 21:09:06 -0000")
    assert hop.parsed and hop.software == "qmail"
    assert (hop.timestamp, hop.offset) == ("2010-01-02T21:09:06Z", "-0000")
    assert hop.extra == {"invoked": "qmail 2894 invoked by uid 500"}


def test_courier_writes_the_id_after_the_date() -> None:  # fedora-devel-list, courier-mta.com
    hop = parse_received(
        "from commodore.email-scan.com (commodore.email-scan.com\n\t[::ffff:192.168.0.6]) "
        "(TLS: TLSv1/SSLv3,256bits,AES256-SHA)\n\tby www.courier-mta.com with esmtp; "
        "Wed, 06 Jan 2010 18:58:18 -0500\n\tid 00700026.4B45239A.00006DBF"
    )
    assert hop.parsed and hop.id == "00700026.4B45239A.00006DBF"
    assert (hop.from_ip, hop.tls) == ("192.168.0.6", "TLSv1/SSLv3 AES256-SHA")
    assert hop.timestamp == "2010-01-06T23:58:18Z"


def test_exchange_online_hop() -> None:  # dkim-arc, stalwart dmarc-feedback (outlook.com)
    hop = parse_received(
        "from BN7NAM10FT048.eop-nam10.prod.protection.outlook.com (2603:10b6:408:fb:cafe::d7) "
        "by BN9PR03CA0046.outlook.office365.com (2603:10b6:408:fb::21) with Microsoft SMTP "
        "Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id "
        "15.20.5746.27 via Frontend Transport; Tue, 25 Oct 2022 04:08:19 +0000"
    )
    assert hop.parsed
    assert (hop.from_ip, hop.by_ip) == ("2603:10b6:408:fb:cafe::d7", "2603:10b6:408:fb::21")
    assert (hop.protocol, hop.via, hop.id) == (
        "Microsoft SMTP Server",
        "Frontend Transport",
        "15.20.5746.27",
    )
    assert hop.tls == "TLS1_2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"


def test_postfix_tls13_and_vger_convert() -> None:  # dkim-arc arc/001; notmuch lkml
    postfix = parse_received(
        "from london.stalw.art (london.stalw.art [159.65.62.60]) (using TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS "
        "(2048 bits)) (No client certificate requested) by ietfa.amsl.com (Postfix) with ESMTPS "
        "id 72103C14F741 for <jmap@ietf.org>; Mon, 7 Nov 2022 23:51:05 -0800 (PST)"
    )
    assert postfix.parsed and postfix.tls == "TLSv1.3 TLS_AES_256_GCM_SHA384"
    assert (postfix.software, postfix.from_ip) == ("Postfix", "159.65.62.60")
    vger = parse_received(
        "(majordomo@vger.kernel.org) by vger.kernel.org via listexpand id S1756188Ab0FYXFd "
        "convert rfc822-to-quoted-printable (ORCPT <rfc822;glk-linux-kernel-3@m.gmane.org>); "
        "Fri, 25 Jun 2010 19:05:33 -0400"
    )
    assert vger.parsed and vger.via == "listexpand"
    assert vger.extra == {"convert": "rfc822-to-quoted-printable"}


def test_connecting_address_beats_the_named_one() -> None:  # fedora, alexhudson.com (Bongo)
    hop = parse_received(
        "from [192.168.125.20] (84.45.211.107) by\n\tbarney.alcoholicsunanimous.com\n"
        "\twith ESMTPA (bongosmtp Agent); Sat, 16 Jan 2010 15:19:11 +0000"
    )
    assert hop.parsed
    assert (hop.from_host, hop.from_ip) == ("[192.168.125.20]", "84.45.211.107")
    assert (hop.protocol, hop.tls) == ("ESMTPA", None)


def test_stray_semicolon_and_missing_date() -> None:  # fedora (Runbox); notmuch attachment/
    runbox = parse_received(
        "from [24.255.97.195] by secure.runbox.com with http (uid:258406) (RMM 4.0); "
        "for <fedora-devel-list@redhat.com>; Wed, 06 Jan 2010 17:34:23 GMT"
    )
    assert runbox.parsed and runbox.for_address == "fedora-devel-list@redhat.com"
    assert (runbox.offset, runbox.zone_name) == ("+0000", "GMT")
    cut = parse_received(
        "from [127.0.0.1] (localhost [127.0.0.1]) (Authenticated sender: anarcat) "
        "with ESMTPSA id 718A610E04F"
    )
    assert not cut.parsed and cut.problems == ["no date"]
    assert cut.authenticated == "anarcat" and cut.id == "718A610E04F"


def test_never_raises_on_garbage() -> None:
    rng = random.Random(7)
    alphabet = '()<>[];:="\\ \t\nabcfromby withid09.-@'
    samples = ["", ";", "(((", ")))", "from", "by ;", "from (x [1.2.3.4", "\x00\udcff"]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120))) for _ in range(500)
    ]
    for value in samples:
        hop = parse_received(value)
        assert hop.raw == value
        assert not hop.parsed or hop.timestamp


# -- whole corpora --------------------------------------------------------------------------
def _counts(messages: Iterator[bytes]) -> tuple[int, int, int]:
    """(messages with Received headers, Received headers, fully parsed ones)."""
    with_received = total = parsed = 0
    for data in messages:
        found = forensics_for_item({"record": EmailFormat().parse(data, None).record})
        if found and found["received"]["total"]:
            with_received += 1
            total += found["received"]["total"]
            parsed += found["received"]["parsed"]
    return with_received, total, parsed


def _fedora(corpora: Path) -> Iterator[bytes]:
    box = mailbox.mbox(corpora / "fedora-devel-list-2010-01" / "2010-January.txt", create=False)
    for key in box.iterkeys():
        yield box.get_bytes(key)


def _files(folder: Path) -> Iterator[bytes]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name not in ("README", "PROVENANCE.md"):
            yield path.read_bytes()


def _dkim_arc(corpora: Path) -> Iterator[bytes]:
    for path in sorted((corpora / "dkim-arc").rglob("*")):
        data = path.read_bytes() if path.is_file() else b""
        if b"Received:" not in data:
            continue
        if data.startswith(b"From "):
            box = mailbox.mbox(path, create=False)
            yield from (box.get_bytes(key) for key in box.iterkeys())
        elif not re.match(rb"^[A-Za-z0-9-]+:", data):  # stalwart: DNS records, blank, message
            yield data.split(b"\n\n", 1)[-1]
        else:
            yield data


@pytest.mark.conformance
def test_parse_rate_fedora(corpora: Path) -> None:
    assert _counts(_fedora(corpora)) == (292, 1277, 1277)


@pytest.mark.conformance
def test_parse_rate_notmuch(corpora: Path) -> None:
    assert _counts(_files(corpora / "notmuch" / "lkml")) == (210, 1030, 1030)
    messages, total, parsed = _counts(_files(corpora / "notmuch"))
    assert (messages, total, parsed) == (228, 1140, 1139)  # the one: a header cut before `by`


@pytest.mark.conformance
def test_parse_rate_dkim_arc(corpora: Path) -> None:
    # The 6 unparsed are test fixtures' fragments: five bare `from localhost`/`from zulu`
    # with no date, and dkimpy's deliberately mangled Exim header.
    messages, total, parsed = _counts(_dkim_arc(corpora))
    assert (messages, total, parsed) == (27, 102, 96)
