"""Chain of custody on a small synthetic case: the append-only log, blob re-hashing that names
a flipped byte, signed manifests, and a third party's check (also re-implemented here from
docs/custody.md alone, with hashlib and cryptography)."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from strongroom.case import Case
from strongroom.commands.custody import custody_group
from strongroom.config import IngestPolicy
from strongroom.custody import custody_log, keys, record_custody
from strongroom.custody.merkle import MerkleBuilder, merkle_root
from strongroom.errors import ExitStatus, UsageError
from tests import synth


@click.group()
@click.option("--case", "case")
@click.pass_context
def root(ctx: click.Context, case: str | None) -> None:
    """Stands in for strongroom.cli (custody is wired there by the lead)."""
    ctx.obj = {"case": case}


root.add_command(custody_group)


def run(case: Path | None, *args: str) -> Result:
    prefix = ["--case", str(case)] if case else []
    return CliRunner().invoke(root, [*prefix, "custody", *args])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("custody")
    synth.write_dump(base / "dump")
    Case.init(base / "case").ingest([base / "dump"], IngestPolicy(workers=1))
    return base / "case"


@pytest.fixture
def case_dir(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the ingested case for each test (they damage it)."""
    return Path(shutil.copytree(built, tmp_path / "case"))


def _scalar(case: Case, sql: str) -> Any:
    with case.catalog.engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


# -- the log ----------------------------------------------------------------------------------
def test_record_custody_logs_every_location_once(case_dir: Path) -> None:
    case = Case.open(case_dir)
    locations = _scalar(case, "SELECT count(*) FROM locations")
    ingested = _scalar(case, "SELECT count(*) FROM custody_events WHERE event = 'ingested'")
    assert ingested == locations == 804  # ingest records custody itself
    assert record_custody(case.catalog) == 0  # idempotent
    events = custody_log(case.catalog)
    assert {e["event"] for e in events} == {"ingested"}
    mbox = next(e for e in events if e["input_path"] and e["input_path"].endswith("archive.mbox"))
    assert (mbox["locator"], mbox["parent_num"], mbox["tool_version"]) == ("file", None, "0.1.0")
    item = case.item(str(mbox["item_num"] + 1))  # the mbox's first message
    first = custody_log(case.catalog, item_num=item["num"])
    assert len(first) == 1
    assert (first[0]["sha256"], first[0]["size"]) == (item["sha256"], item["size"])
    assert (first[0]["parent_num"], first[0]["locator"]) == (
        mbox["item_num"],
        "offset 49 length 634",
    )
    assert first[0]["detail"] == {
        "ingested_at": item["ingested_at"],
        "kind": "email",
        "status": "ok",
    }


def test_new_locations_and_failures_are_appended(case_dir: Path, tmp_path: Path) -> None:
    case = Case.open(case_dir)
    record_custody(case.catalog)
    more = tmp_path / "more"
    more.mkdir()
    synth.write_mbox(more / "again.mbox", 3)  # the same three messages, in a new file
    (more / "dangling").symlink_to(tmp_path / "gone")
    with zipfile.ZipFile(more / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", bytes(2 * 1024**2))  # refused: expands 1000-fold
    before = len(custody_log(case.catalog))
    case.ingest([more], IngestPolicy(workers=1))  # records custody itself
    assert record_custody(case.catalog) == 0
    added = custody_log(case.catalog)[before:]
    assert len(added) == 7
    assert [e["event"] for e in added] == ["ingested"] * 5 + ["input-failed", "member-failed"]
    assert [e["locator"] for e in added[:5]] == ["file"] + [
        f"offset {offset} length 634" for offset in (49, 733, 1417)
    ] + ["file"]
    again = [e for e in added if e["input_path"] and e["input_path"].endswith("again.mbox")]
    assert again[0]["locator"] == "file"
    assert [e["item_num"] for e in added[:5]].count(2) == 1  # a known message, found again
    failed, member = added[-2:]
    assert failed["input_path"].endswith("dangling")
    assert "cannot stat" in failed["detail"]["reason"]
    assert (member["locator"], member["detail"]["status"]) == ("member zeros.bin", "failed")
    assert member["detail"]["reason"].startswith("refused: 2097152 bytes, expansion ratio")
    assert member["parent_num"] == added[4]["item_num"]  # bomb.zip
    assert record_custody(case.catalog) == 0


def test_events_cannot_be_changed_or_deleted(case_dir: Path) -> None:
    case = Case.open(case_dir)
    record_custody(case.catalog)
    for statement in ("UPDATE custody_events SET sha256 = 'x'", "DELETE FROM custody_events"):
        with pytest.raises(Exception, match="append-only"), case.catalog.engine.begin() as conn:
            conn.execute(text(statement))
    assert _scalar(case, "SELECT count(*) FROM custody_events") == 804


def test_an_older_case_gains_the_guarded_log_when_opened(case_dir: Path) -> None:
    case = Case.open(case_dir)
    with case.catalog.engine.begin() as conn:
        conn.execute(text("DROP TABLE custody_events"))  # as made before custody existed
    case = Case.open(case_dir)
    triggers = _scalar(
        case,
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'custody_events'",
    )
    assert triggers == 2
    assert record_custody(case.catalog) == 804


# -- re-hashing the blobs ---------------------------------------------------------------------
def test_verify_names_a_flipped_byte_and_a_missing_blob(case_dir: Path) -> None:
    case = Case.open(case_dir)
    assert run(case_dir, "verify").exit_code == 0
    damaged, gone = case.item("5"), case.item("9")
    blob = case.blobs.path(damaged["sha256"])
    data = bytearray(blob.read_bytes())
    data[100] ^= 0x01
    blob.write_bytes(bytes(data))
    case.blobs.path(gone["sha256"]).unlink()

    result = run(case_dir, "verify")
    assert result.exit_code == ExitStatus.SOME_INPUTS_FAILED
    assert f"changed item 5 {blob}" in result.output
    assert f"missing item 9 {case.blobs.path(gone['sha256'])}" in result.output
    assert "from item 1 [offset" in result.output  # where item 5 came from
    assert "checked 804 blobs" in result.output and "1 changed, 1 missing" in result.output

    report = json.loads(run(case_dir, "verify", "--json").output)
    assert [p["item"] for p in report["changed"]] == [5]
    assert report["changed"][0]["found_sha256"] == hashlib.sha256(bytes(data)).hexdigest()
    assert [p["item"] for p in report["missing"]] == [9]
    log = custody_log(case.catalog)
    runs = [e for e in log if e["event"] == "verified-blobs"]
    assert [(r["detail"]["changed"], r["detail"]["missing"]) for r in runs] == [
        ([], []),
        ([5], [9]),
        ([5], [9]),
    ]
    assert [e["item_num"] for e in log if e["event"] == "blob-changed"] == [5, 5]


# -- manifests --------------------------------------------------------------------------------
def _signed(case_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    assert run(case_dir, "keygen").exit_code == 0
    manifest = tmp_path / "out" / "manifest.jsonl"
    result = run(case_dir, "export", str(manifest))
    assert result.exit_code == 0, result.output
    return manifest, case_dir / "custody" / keys.PUBLIC_NAME


def test_export_refuses_without_a_key(case_dir: Path, tmp_path: Path) -> None:
    result = run(case_dir, "export", str(tmp_path / "m.jsonl"))
    assert isinstance(result.exception, UsageError)
    assert "custody keygen" in (result.exception.hint or "")
    assert not (tmp_path / "m.jsonl").exists()


def test_keygen_writes_a_private_key_only_its_owner_reads(case_dir: Path) -> None:
    result = run(case_dir, "keygen")
    private = case_dir / "custody" / keys.PRIVATE_NAME
    assert private.stat().st_mode & 0o777 == 0o600
    fingerprint = keys.fingerprint(keys.load_public(case_dir / "custody" / keys.PUBLIC_NAME))
    assert f"fingerprint {fingerprint}" in result.output
    again = run(case_dir, "keygen")
    assert isinstance(again.exception, UsageError)  # never overwritten


def test_manifest_lists_every_item_and_checks(case_dir: Path, tmp_path: Path) -> None:
    manifest, public = _signed(case_dir, tmp_path)
    lines = manifest.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 804 + 3
    first = json.loads(lines[0])
    assert list(first) == ["kind", "locations", "num", "sha256", "size"]
    assert first["locations"][0]["path"].endswith("archive.mbox")
    assert [json.loads(line)["num"] for line in lines[:-3]] == list(range(1, 805))

    result = run(None, "check", str(manifest), "--pubkey", str(public))
    assert result.exit_code == 0, result.output
    assert "valid, 804 items" in result.output and "key matches --pubkey: yes" in result.output
    log = custody_log(Case.open(case_dir).catalog)
    exported = [e for e in log if e["event"] == "manifest-exported"]
    assert exported[0]["detail"]["items"] == 804


def _flip(path: Path, line: int, old: bytes, new: bytes) -> None:
    lines = path.read_bytes().split(b"\n")
    assert old in lines[line]
    lines[line] = lines[line].replace(old, new, 1)
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize(
    ("line", "old", "new", "error"),
    [
        (9, b'"size":', b'"size":1', "Merkle root of the item lines differs"),
        (9, b'"kind":"email"', b'"kind":"mail"', "Merkle root of the item lines differs"),
        (-3, b'"created_at":"20', b'"created_at":"19', "the signature does not verify"),
        (-3, b'"merkle_root":"', b'"merkle_root":"0', "the signature does not verify"),
        (-2, b'"signature":"', b'"signature":"00', "the signature does not verify"),
    ],
)
def test_a_tampered_manifest_fails_check(
    case_dir: Path, tmp_path: Path, line: int, old: bytes, new: bytes, error: str
) -> None:
    manifest, _public = _signed(case_dir, tmp_path)
    _flip(manifest, line, old, new)
    result = run(None, "check", str(manifest))
    assert result.exit_code == ExitStatus.SOME_INPUTS_FAILED
    assert "NOT VALID" in result.output and error in result.output


def test_dropped_line_and_foreign_key_fail_check(case_dir: Path, tmp_path: Path) -> None:
    manifest, public = _signed(case_dir, tmp_path)
    lines = manifest.read_bytes().split(b"\n")
    shorter = tmp_path / "shorter.jsonl"
    shorter.write_bytes(b"\n".join(lines[:5] + lines[6:]))
    result = json.loads(run(None, "check", str(shorter), "--json").output)
    assert not result["valid"] and not result["root_ok"]
    assert "the trailer counts 804 items, found 803" in result["errors"]

    other = tmp_path / "other"
    keys.generate(other)
    resigned = tmp_path / "resigned.jsonl"
    assert (
        run(case_dir, "export", str(resigned), "--key", str(other / keys.PRIVATE_NAME)).exit_code
        == 0
    )
    assert run(None, "check", str(resigned)).exit_code == 0  # valid, by some key
    pinned = run(None, "check", str(resigned), "--pubkey", str(public))
    assert pinned.exit_code == ExitStatus.SOME_INPUTS_FAILED
    assert "signed with a different key" in pinned.output


def test_check_matches_a_folder_of_files(case_dir: Path, tmp_path: Path) -> None:
    manifest, _public = _signed(case_dir, tmp_path)
    case = Case.open(case_dir)
    folder = tmp_path / "release"
    (folder / "sub").mkdir(parents=True)
    for num in (2, 3, 4):
        shutil.copy(
            case.blobs.path(case.item(str(num))["sha256"]), folder / "sub" / f"mail{num}.eml"
        )
    result = run(None, "check", str(manifest), "--blobs", str(folder), "--json")
    assert result.exit_code == 0
    files = json.loads(result.output)["files"]
    assert files["present"] == [2, 3, 4] and len(files["missing"]) == 801 and files["unknown"] == []
    assert run(None, "check", str(manifest), "--blobs", str(folder), "--complete").exit_code == 3

    (folder / "forged.eml").write_bytes(case.raw("5").replace(b"budget", b"b-u-d-g-e-t"))
    result = run(None, "check", str(manifest), "--blobs", str(folder))
    assert result.exit_code == ExitStatus.SOME_INPUTS_FAILED
    assert f"unknown {folder / 'forged.eml'}" in result.output


def test_an_outsider_can_check_from_the_documented_format(case_dir: Path, tmp_path: Path) -> None:
    """The check of docs/custody.md, written without strongroom's own code."""
    manifest, public_pem = _signed(case_dir, tmp_path)
    *items, trailer_line, signature_line, end = manifest.read_bytes().split(b"\n")
    assert end == b""
    signature = json.loads(signature_line)
    public = bytes.fromhex(signature["public_key"])
    Ed25519PublicKey.from_public_bytes(public).verify(
        bytes.fromhex(signature["signature"]), trailer_line
    )  # raises if invalid
    assert signature["key_fingerprint"] == hashlib.sha256(public).hexdigest()
    level = [hashlib.sha256(b"\x00" + line).digest() for line in items]
    while len(level) > 1:
        pairs = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    trailer = json.loads(trailer_line)
    assert trailer["merkle_root"] == level[0].hex() and trailer["items"] == len(items)
    assert keys.load_public(public_pem) == public


# -- the Merkle tree --------------------------------------------------------------------------
def test_streaming_root_equals_the_reference_tree() -> None:
    for count in range(70):
        lines = [f"line {i}".encode() for i in range(count)]
        builder = MerkleBuilder()
        for line in lines:
            builder.add(line)
        assert builder.root() == merkle_root(lines), count


def test_merkle_vectors_in_the_docs() -> None:
    assert merkle_root([]).hex() == hashlib.sha256(b"").hexdigest()
    a, b, c = (hashlib.sha256(b"\x00" + x).digest() for x in (b"a", b"b", b"c"))
    ab = hashlib.sha256(b"\x01" + a + b).digest()
    assert merkle_root([b"a"]) == a
    assert merkle_root([b"a", b"b", b"c"]) == hashlib.sha256(b"\x01" + ab + c).digest()
    docs = (Path(__file__).resolve().parents[1] / "docs" / "custody.md").read_text()
    assert merkle_root([b"a", b"b", b"c"]).hex() in docs
