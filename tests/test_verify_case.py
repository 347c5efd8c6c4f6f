"""Verification of a whole case: the demo dump's signatures with its generated key record,
searchable results, incremental reruns, tampering, mboxrd quoting, DNS only when asked, CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import dkim
import pytest
from click.testing import CliRunner

from strongroom.case import Case
from strongroom.commands import verify as verify_commands
from strongroom.config import IngestPolicy
from strongroom.demo import DemoSpec, build_dump
from strongroom.demo.dkimkeys import derive_private_key, private_key_pem, zone_text
from strongroom.verify import (
    import_keys,
    list_keys,
    verification,
    verify_case,
)

DOMAIN = "northwind-civic.org"


def _verify(case: Case, **options: Any) -> Any:
    return verify_case(case.catalog, case.blobs.root, case.index, **options)


def _emails(case: Case) -> list[int]:
    return [hit["id"] for hit in case.search("kind:email", limit=1000, facets=False).hits]


def _signed(raw: bytes) -> bool:
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    return b"\nDKIM-Signature:" in b"\n" + head


def _flip_body_byte(raw: bytes) -> bytes:
    split = raw.index(b"\n\n") + 2
    at = next(i for i in range(split, len(raw)) if chr(raw[i]).isalpha())
    return raw[:at] + bytes([raw[at] ^ 0x20]) + raw[at + 1 :]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, Case]]:
    root = tmp_path_factory.mktemp("verify-demo")
    manifest = build_dump(root / "dump", DemoSpec(messages=60, attachments=10))
    case = Case.init(root / "case")
    case.ingest([root / "dump"], IngestPolicy(workers=1))
    yield root, manifest, case


def test_demo_signatures_verify_with_the_generated_key(demo: tuple[Path, Any, Case]) -> None:
    root, manifest, case = demo
    _verify(case)  # (ingest may already have verified: with an empty keyring either way)
    emails = _emails(case)
    signed = [n for n in emails if _signed(case.raw(str(n)))]
    assert len(signed) >= manifest.dkim_signed
    for num in signed:
        result = verification(case.catalog, num)
        assert result is not None and result["status"] == "dkim-fail"
        assert {s["reason_code"] for s in result["dkim"]} == {"no-key"}
    assert case.count("is:dkim-fail") == len(signed)

    imported = import_keys(case.catalog, root / "dump" / manifest.dkim.zone_file)
    assert (imported.added, imported.skipped) == (1, [])
    stats = _verify(case, workers=2)
    assert (stats.checked, stats.counts) == (len(signed), {"verified": len(signed)})

    message_ids = {case.item(str(n))["message_id"] for n in signed}
    assert len(message_ids) == manifest.dkim_signed
    assert case.count("is:verified") == len(signed)
    assert case.count(f"dkim:{DOMAIN}") == len(signed)
    assert case.count("is:dkim-fail") == 0
    assert case.count("is:unsigned") == len(emails) - len(signed)
    assert case.count("is:verified kind:email") == len(signed)

    result = verification(case.catalog, signed[0])
    assert result is not None
    [signature] = result["dkim"]
    assert (signature["domain"], signature["selector"], signature["key_bits"]) == (
        DOMAIN,
        "demo2016",
        2048,
    )
    assert signature["canonicalization"] == "relaxed/relaxed"
    assert signature["key"]["source"] == "import: demo2016._domainkey.northwind-civic.org.zone"
    assert signature["key"]["record"] == manifest.dkim.txt_record
    assert signature["body_hash_ok"] and signature["header_ok"]
    date = datetime.strptime(case.item(str(signed[0]))["date_utc"], "%Y-%m-%dT%H:%M:%SZ")
    assert signature["signed_at"] == int(date.replace(tzinfo=UTC).timestamp())
    assert result["verdict"].startswith(
        f"Signed by {DOMAIN}; verified with a 2048-bit RSA key (selector demo2016) archived on "
    )
    assert "the body and these " in result["verdict"]
    assert "headers (From, To" in result["verdict"]

    assert _verify(case).checked == 0  # nothing changed: nothing to do

    original = case.raw(str(signed[0]))
    (root / "tampered").mkdir()
    (root / "tampered" / "copy.eml").write_bytes(_flip_body_byte(original))
    case.ingest([root / "tampered"], IngestPolicy(workers=1))
    _verify(case)
    [copy] = [n for n in _emails(case) if n not in emails]
    tampered = verification(case.catalog, copy)
    assert tampered is not None and tampered["status"] == "dkim-fail"
    [broken] = tampered["dkim"]
    assert (broken["reason_code"], broken["body_hash_ok"], broken["header_ok"]) == (
        "body-changed",
        False,
        True,
    )
    assert "the body was changed after signing" in tampered["verdict"]
    assert case.count("is:dkim-fail") == 1
    assert case.count(f"dkim:{DOMAIN}") == len(signed)


def _signed_message(body: bytes) -> tuple[bytes, str]:
    """A message signed (relaxed/simple, by dkimpy) with the demo's test-only key for
    example.org, and that key's zone record."""
    key = derive_private_key(7)
    message = (
        b"From: Ada <ada@example.org>\r\nTo: bob@example.net\r\nSubject: quoting\r\n"
        b"Date: Mon, 04 Jan 2016 10:00:00 +0000\r\nMessage-ID: <q1@example.org>\r\n\r\n" + body
    )
    signature = dkim.sign(
        message,
        b"demo2016",
        b"example.org",
        private_key_pem(key),
        canonicalize=(b"relaxed", b"simple"),
    )
    return signature + message, zone_text("example.org", "demo2016", key, 7)


def test_mboxrd_quoting_is_undone_when_the_body_fails(tmp_path: Path) -> None:
    signed, zone = _signed_message(b"Dear Bob,\r\nFrom the archive, two notes.\r\nAda\r\n")
    quoted = signed.replace(b"\r\n", b"\n").replace(b"\nFrom the archive", b"\n>From the archive")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "box.mbox").write_bytes(
        b"From ada@example.org Mon Jan  4 10:00:00 2016\n" + quoted + b"\n"
    )
    (tmp_path / "key.zone").write_text(zone)
    case = Case.init(tmp_path / "case")
    case.ingest([tmp_path / "in"], IngestPolicy(workers=1))
    import_keys(case.catalog, tmp_path / "key.zone")
    _verify(case)
    [num] = _emails(case)
    result = verification(case.catalog, num)
    assert result is not None and result["status"] == "verified"
    assert result["dkim"][0]["mbox_unquoted"] is True
    assert "mbox '>From ' quoting is removed" in result["verdict"]


def test_dns_is_used_only_when_asked(tmp_path: Path) -> None:
    signed, zone = _signed_message(b"Hello.\r\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "m.eml").write_bytes(signed)
    case = Case.init(tmp_path / "case")
    case.ingest([tmp_path / "in"], IngestPolicy(workers=1))
    asked: list[str] = []

    def no_network(name: str) -> list[str]:
        raise AssertionError(f"DNS asked for {name} without --dns")

    stats = _verify(case, lookup=no_network)
    [num] = _emails(case)
    result = verification(case.catalog, num)
    assert result is not None and result["dkim"][0]["reason_code"] == "no-key"
    assert list_keys(case.catalog) == [] and stats.keys_fetched == 0

    record = zone.split("TXT ", 1)[1].replace('" "', "").strip().strip('"')

    def fake_dns(name: str) -> list[str]:  # stands in for dnspython: no network in tests
        asked.append(name)
        return [record]

    # the key is fetched "now", after the signature was made (its t= is the signing time)
    clock = datetime.now(UTC).replace(microsecond=0)
    stats = _verify(case, dns=True, lookup=fake_dns, now=clock)
    assert asked == ["demo2016._domainkey.example.org"]
    assert (stats.keys_fetched, stats.checked) == (1, 1)
    [key] = list_keys(case.catalog)
    assert (key["source"], key["obtained_at"][:19]) == ("dns", clock.strftime("%Y-%m-%dT%H:%M:%S"))
    result = verification(case.catalog, num)
    assert result is not None and result["status"] == "verified"
    assert f"fetched from live DNS on {clock:%Y-%m-%d}, not archived" in result["verdict"]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> click.Group:
    """The verify commands under a `--case` group, as cli.py mounts them."""
    delegates = {
        "verify": lambda self, **kw: verify_case(self.catalog, self.blobs.root, self.index, **kw),
        "import_keys": lambda self, *a: import_keys(self.catalog, *a),
        "keys": lambda self: list_keys(self.catalog),
    }
    for name, method in delegates.items():  # until Case carries them itself
        if not hasattr(Case, name):
            monkeypatch.setattr(Case, name, method, raising=False)

    def refuse(*_args: object) -> object:
        raise AssertionError("verify without --dns must not make a DNS resolver")

    monkeypatch.setattr("strongroom.verify.run.dns_lookup", refuse)

    @click.group()
    @click.option("--case", "case")
    @click.pass_context
    def group(ctx: click.Context, case: str) -> None:
        ctx.obj = {"case": case}

    for command in verify_commands.COMMANDS:
        group.add_command(command)
    return group


def test_cli_keys_and_verify(tmp_path: Path, cli: click.Group) -> None:
    signed, zone = _signed_message(b"Hello.\r\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "m.eml").write_bytes(signed)
    (tmp_path / "example.zone").write_text(zone)
    case = Case.init(tmp_path / "case")
    case.ingest([tmp_path / "in"], IngestPolicy(workers=1))
    runner = CliRunner()
    where = ["--case", str(tmp_path / "case")]

    done = runner.invoke(
        cli,
        [*where, "keys", "import", str(tmp_path / "example.zone"), "--valid-from", "2015-01-01"],
    )
    assert done.exit_code == 0, done.output
    listed = runner.invoke(cli, [*where, "keys", "list", "--json"])
    [key] = json.loads(listed.output)
    assert (key["selector"], key["domain"], key["valid_from"], key["valid_to"]) == (
        "demo2016",
        "example.org",
        "2015-01-01T00:00:00Z",
        None,
    )
    verified = runner.invoke(cli, [*where, "verify", "--workers", "1", "--json"])
    assert verified.exit_code == 0, verified.output
    summary = json.loads(verified.output)
    assert summary["case"] == {"verified": 1}
    again = runner.invoke(cli, [*where, "keys", "import", str(tmp_path / "example.zone")])
    assert again.exit_code == 0
    bad = runner.invoke(cli, [*where, "keys", "import", str(tmp_path / "in" / "m.eml")])
    assert bad.exit_code != 0
