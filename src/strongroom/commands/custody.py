"""`strongroom custody ...`: keys, signed manifests, outsiders' checks, blob re-hashing, the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from strongroom.commands.common import case_root, err, open_case, out, print_json
from strongroom.custody import (
    check_manifest,
    custody_log,
    export_manifest,
    keys,
    record_custody,
    verify_blobs,
)
from strongroom.errors import ExitStatus, UsageError


def _default_key_dir(ctx: click.Context) -> Path:
    return open_case(ctx).key_dir


@click.group("custody")
def custody_group() -> None:
    """Chain of custody: sign a manifest of every item, let anyone check it, re-hash blobs."""


@custody_group.command("keygen")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for custody.key (mode 0600) and custody.pub (default: the case's custody/).",
)
@click.pass_context
def keygen(ctx: click.Context, out_dir: Path | None) -> None:
    """Make an Ed25519 key pair for signing manifests. Publish the fingerprint it prints
    somewhere apart from the manifests, so readers can pin it with `check --pubkey`."""
    files = keys.generate(out_dir or _default_key_dir(ctx))
    err.print(f"private key {escape(str(files.private))} (keep it secret)")
    err.print(f"public key  {escape(str(files.public))}")
    out.print(f"fingerprint {files.fingerprint}")


@custody_group.command("export")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The private key (default: the case's custody/custody.key).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def export(ctx: click.Context, manifest: Path, key_path: Path | None, as_json: bool) -> None:
    """Write a signed manifest: one line per item (sha256, size, kind, where it was found),
    a Merkle root over those lines, and an Ed25519 signature. See docs/custody.md."""
    key_path = key_path or _default_key_dir(ctx) / keys.PRIVATE_NAME
    if not key_path.exists():
        raise UsageError(
            f"no signing key at {key_path}",
            hint=f"make one with: strongroom --case {case_root(ctx)} custody keygen"
            " (or pass --key FILE)",
        )
    key = keys.load_private(key_path)
    case = open_case(ctx)
    record_custody(case.catalog)
    summary = export_manifest(case.catalog, manifest, key)
    if as_json:
        print_json(summary)
        return
    out.print(f"wrote {escape(str(manifest))}: {summary['items']} items")
    out.print(f"merkle root {summary['merkle_root']}")
    out.print(f"signed by   {summary['key_fingerprint']}")


@custody_group.command("check")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--blobs",
    "blobs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of files (named anything) to match against the manifest by sha256.",
)
@click.option(
    "--pubkey",
    "pubkey",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The expected public key (PEM, or its 64 hex digits): fail if signed by another.",
)
@click.option("--complete", is_flag=True, help="With --blobs: fail unless every item is there.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
@click.pass_context
def check(
    ctx: click.Context,
    manifest: Path,
    blobs_dir: Path | None,
    pubkey: Path | None,
    complete: bool,
    as_json: bool,
) -> None:
    """Check a manifest without the case: its signature, its Merkle root, and optionally which
    of its items a folder of files holds. Exit status 3 when anything does not match."""
    pinned = keys.load_public(pubkey) if pubkey else None
    result = check_manifest(manifest, blobs_dir, pinned)
    files = result.files or {}
    failed = not result.valid or bool(files.get("unknown"))
    failed = failed or (complete and bool(files.get("missing")))
    if as_json:
        print_json(result.to_json())
    else:
        _print_check(result.to_json())
    if failed:
        ctx.exit(ExitStatus.SOME_INPUTS_FAILED)


def _print_check(result: dict[str, Any]) -> None:
    verdict = "[green]valid[/green]" if result["valid"] else "[red]NOT VALID[/red]"
    out.print(f"{escape(result['manifest'])}: {verdict}, {result['items']} items")
    signature = "ok" if result["signature_ok"] else "FAILED"
    out.print(f"signature {signature if result['signed'] else 'none (unsigned)'}", markup=False)
    out.print(f"merkle root {result['merkle_root']} {'ok' if result['root_ok'] else 'DIFFERS'}")
    out.print(f"key fingerprint {result['key_fingerprint']}", markup=False)
    if result["key_pinned"] is not None:
        out.print(f"key matches --pubkey: {'yes' if result['key_pinned'] else 'NO'}")
    for error in result["errors"]:
        out.print(f"[red]error[/red] {escape(error)}")
    files = result["files"]
    if files is not None:
        out.print(
            f"files: {len(files['present'])} items present, {len(files['missing'])} missing, "
            f"{len(files['unknown'])} files not in the manifest"
        )
        for name in files["unknown"]:
            out.print(f"[red]unknown[/red] {escape(name)}")
        if files["missing"]:
            shown = ", ".join(str(n) for n in files["missing"][:50])
            more = "…" if len(files["missing"]) > 50 else ""
            out.print(f"missing items: {shown}{more}", markup=False)


@custody_group.command("verify")
@click.option("--workers", type=click.IntRange(min=1), help="Hashing threads (default: up to 8).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def verify(ctx: click.Context, workers: int | None, as_json: bool) -> None:
    """Re-hash every stored blob and name each changed or missing one (item number, blob path,
    where the item came from). Logs the run. Exit status 3 when any blob is damaged."""
    case = open_case(ctx)
    record_custody(case.catalog)
    report = verify_blobs(case.catalog, case.blobs, workers)
    if as_json:
        print_json(report.to_json())
    else:
        out.print(
            f"checked {report.checked} blobs ({report.bytes} bytes intact): "
            f"{len(report.changed)} changed, {len(report.missing)} missing"
        )
        for problem in report.problems:
            found = f" (now sha256 {problem.found_sha256})" if problem.found_sha256 else ""
            out.print(
                f"[red]{problem.problem}[/red] item {problem.item} "
                f"{escape(problem.blob)}{escape(found)}"
            )
            for where in problem.locations:
                out.print(f"    from {escape(where)}")
    if report.problems:
        ctx.exit(ExitStatus.SOME_INPUTS_FAILED)


@custody_group.command("log")
@click.option("--item", "item_num", type=click.IntRange(min=1), help="Only events of this item.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events.")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@click.pass_context
def log(ctx: click.Context, item_num: int | None, limit: int | None, as_json: bool) -> None:
    """The append-only custody log, oldest first."""
    case = open_case(ctx)
    record_custody(case.catalog)
    events = custody_log(case.catalog, item_num, limit)
    if as_json:
        print_json(events)
        return
    for event in events:
        subject = f"item {event['item_num']}" if event["item_num"] else ""
        where = event["input_path"] or (
            f"item {event['parent_num']}" if event["parent_num"] else ""
        )
        locator = f" [{event['locator']}]" if event["locator"] else ""
        out.print(
            f"{event['at']} {event['event']} {subject} {event['sha256'] or ''} "
            f"{where}{locator}".rstrip(),
            markup=False,
        )


COMMANDS = [custody_group]
