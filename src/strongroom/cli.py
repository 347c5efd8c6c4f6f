"""The command line: parse, call the library, render. Errors are mapped to exit codes in
`main` and nowhere else."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from strongroom import __version__
from strongroom import commands as command_package
from strongroom.analyze.forensics import render_forensics
from strongroom.case import Case
from strongroom.commands.common import case_root, err, out, print_json
from strongroom.config import IngestPolicy
from strongroom.errors import ExitStatus, StrongroomError, UsageError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--case",
    "case",
    envvar="STRONGROOM_CASE",
    metavar="DIR",
    help="The case directory (or set STRONGROOM_CASE).",
)
@click.version_option(__version__, prog_name="strongroom")
@click.pass_context
def cli(ctx: click.Context, case: str | None) -> None:
    """strongroom: turn a dump of email and documents into an archive you can search, read,
    verify and publish safely."""
    ctx.obj = {"case": case}


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create an empty case (a catalog, a blob store, room for the index)."""
    root = case_root(ctx)
    Case.init(root)
    err.print(f"created case [bold]{root}[/bold]")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary, no progress bar.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], workers: int | None, as_json: bool) -> None:
    """Ingest files and folders, recursively: mbox, Maildir, MH, .eml, .emlx, .msg, .pst,
    zip and tar archives, and any other file as a document. Rerunning adds only what is new.

    Exit status 3 means the run completed but some inputs or items failed; `report` lists them.
    """
    root = case_root(ctx)
    case = Case.open(root) if (root / "strongroom-case").exists() else Case.init(root)
    policy = IngestPolicy(workers=workers) if workers else IngestPolicy()
    total = sum(_size(p) for p in paths)
    if as_json or not err.is_terminal:
        summary = case.ingest(list(paths), policy)
    else:
        with Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[items]} items"),
            TimeRemainingColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("ingest", total=total, items=0)

            def advance(done: int, items: int) -> None:
                bar.update(task, completed=done, items=items)

            summary = case.ingest(list(paths), policy, progress=advance)
    if as_json:
        print_json(summary.to_json())
    else:
        _print_report(summary.report, this_run=summary.to_json()["this_run"])
    if summary.report["failed"]:
        ctx.exit(ExitStatus.SOME_INPUTS_FAILED)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(directory) / name).stat().st_size
            except OSError:
                continue
    return total


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--failures", "only_failures", is_flag=True, help="List every failure.")
@click.pass_context
def report(ctx: click.Context, as_json: bool, only_failures: bool) -> None:
    """What came in, what failed and why."""
    case = Case.open(case_root(ctx))
    data = case.report()
    if as_json:
        print_json(data["failures"] if only_failures else data)
    elif only_failures:
        _print_failures(data["failures"])
    else:
        _print_report(data)


def _print_report(data: dict[str, Any], this_run: dict[str, Any] | None = None) -> None:
    table = Table(show_header=False, box=None)
    for key in (
        "inputs",
        "items",
        "emails",
        "attachments",
        "documents",
        "containers",
        "duplicates",
        "with_defects",
        "failed",
    ):
        table.add_row(key, str(data[key]))
    table.add_row("by status", ", ".join(f"{k} {v}" for k, v in sorted(data["by_status"].items())))
    if this_run:
        table.add_row("this run", ", ".join(f"{k} {v}" for k, v in this_run.items()))
    out.print(table)
    if data["failed"]:
        _print_failures(data["failures"][:20])
        if data["failed"] > 20:
            out.print(f"… and {data['failed'] - 20} more: strongroom report --failures")


def _print_failures(failures: list[dict[str, Any]]) -> None:
    for failure in failures:
        where = failure["source"] + (f" [{failure['locator']}]" if failure.get("locator") else "")
        out.print(f"[red]{failure['status']}[/red] {escape(where)}: {escape(failure['reason'])}")


@cli.command()
@click.argument("key")
@click.option("--raw", is_flag=True, help="Write the exact original bytes to stdout.")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed record as JSON.")
@click.option(
    "--forensics",
    is_flag=True,
    help="Show the Received path, time zones, transit delays and anomalies.",
)
@click.pass_context
def show(ctx: click.Context, key: str, raw: bool, as_json: bool, forensics: bool) -> None:
    """Show an item by its number or sha256, or a conversation with thread:N."""
    case = Case.open(case_root(ctx))
    if key.startswith("thread:"):
        number = key.removeprefix("thread:")
        if not number.isdigit():
            raise UsageError(f"{key!r}: thread: takes an item number, e.g. thread:1234")
        if as_json:
            print_json(case.thread(int(number)))
        else:
            text = case.thread_text(int(number))
            out.print(text or f"item {number} is not part of any thread", markup=False)
        return
    if raw:
        sys.stdout.buffer.write(case.raw(key))
        sys.stdout.buffer.flush()
        return
    item = case.item(key)
    if as_json:
        print_json(item["forensics"] if forensics else item)
        return
    if forensics:
        for line in render_forensics(item["forensics"]):
            out.print(line, markup=False)
        return
    _print_item(item)


def _print_item(item: dict[str, Any]) -> None:
    record = item["record"]
    out.print(
        f"[bold]#{item['num']}[/bold] {item['kind']} ({item['format']}, {item['mime']}), "
        f"{item['size']} bytes, status {item['status']}"
        + (f": {item['reason']}" if item["reason"] else "")
    )
    out.print(f"sha256 {item['sha256']}")
    for role, entries in (record.get("addresses") or {}).items():
        people = ", ".join(
            f"{e['name']} <{e['address']}>" if e["name"] else e["address"] for e in entries
        )
        out.print(f"{role}: {people}", markup=False)
    if record.get("date"):
        out.print(f"date: {record['date'].get('local') or record['date'].get('raw')}")
    if record.get("subject") is not None:
        out.print(f"subject: {record['subject']}", markup=False)
    for location in item["locations"]:
        where = location["path"] or f"item {location['parent']}"
        out.print(f"found in: {escape(where)} \\[{escape(location['locator'])}]")
    for defect in record.get("defects", []):
        out.print(f"[yellow]defect[/yellow] {escape(defect)}")
    for child in item["children"]:
        out.print(
            f"  child #{child['num']} {child['kind']} {escape(child['name'] or '')} "
            f"\\[{escape(child['locator'])}] {child['status']}",
            markup=True,
        )
    if item["text"]:
        out.print()
        out.print(item["text"][:4000], markup=False)


@cli.command()
@click.argument("query", nargs=-1)
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--sort", type=click.Choice(["relevance", "date", "-date"]), default="relevance")
@click.option("--json", "as_json", is_flag=True, help="Print total, hits and facets as JSON.")
@click.option("--count", "only_count", is_flag=True, help="Print only the number of matches.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the hits as CSV.")
@click.pass_context
def search(
    ctx: click.Context,
    query: tuple[str, ...],
    limit: int,
    offset: int,
    sort: str,
    as_json: bool,
    only_count: bool,
    as_csv: bool,
) -> None:
    """Search the case. Words (all must match, stemmed), "exact phrases", OR, NOT or -,
    (parentheses), prefix*, and fields: from: to: cc: bcc: participant: subject: body:
    attachment: filename: type: kind: id: msgid: thread: date:2016-05..2016-06 size:>1MB
    has:attachment is:defective. Addresses match by address, name words or @domain."""
    case = Case.open(case_root(ctx))
    text = " ".join(query)
    if only_count:
        click.echo(case.count(text))
        return
    result = case.search(text, limit=limit, offset=offset, sort=sort, facets=as_json)
    if as_json:
        print_json(result.to_json())
    elif as_csv:
        _print_csv(result.hits)
    else:
        _print_hits(result.total, result.hits, offset)


def _print_csv(hits: list[dict[str, Any]]) -> None:
    import csv

    columns = [
        "id",
        "kind",
        "date",
        "date_offset",
        "from",
        "from_name",
        "subject",
        "name",
        "parent",
        "snippet",
    ]
    writer = csv.DictWriter(sys.stdout, columns, extrasaction="ignore")
    writer.writeheader()
    for hit in hits:
        writer.writerow({**hit, "snippet": _plain(hit.get("snippet") or "")})


def _plain(snippet: str) -> str:
    import html as html_module

    return html_module.unescape(snippet.replace("<mark>", "").replace("</mark>", ""))


def _print_hits(total: int, hits: list[dict[str, Any]], offset: int) -> None:
    out.print(f"[bold]{total}[/bold] matching items" + (f", from {offset + 1}" if offset else ""))
    for hit in hits:
        who = hit.get("from_name") or hit.get("from") or ""
        title = hit.get("subject") or hit.get("name") or ""
        where = f" in #{hit['parent']}" if hit["kind"] == "attachment" and hit.get("parent") else ""
        out.print(
            f"[bold]#{hit['id']}[/bold] {hit['kind']}{where} {(hit.get('date') or '')[:10]} "
            f"{escape(who)} — {escape(title)}"
        )
        if hit.get("snippet"):
            import html as html_module

            marked = escape(
                html_module.unescape(
                    hit["snippet"].replace("<mark>", "\x00").replace("</mark>", "\x01")
                )
            )
            marked = marked.replace("\x00", "[reverse]").replace("\x01", "[/reverse]")
            source = f"({hit['snippet_from']}) " if hit.get("snippet_from") else ""
            out.print(f"    {escape(source)}{marked}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the reading room: search, items, threads, correspondents, timeline, JSON API."""
    import uvicorn

    from strongroom.web.app import ServeConfig, create_app

    case = Case.open(case_root(ctx))
    app = create_app(case, ServeConfig(host=host, port=port))
    err.print(f"reading room for {case.root} at [bold]http://{host}:{port}/[/bold] (Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the catalog."""
    case = Case.open(case_root(ctx))
    count = case.reindex()
    err.print(f"indexed {count} items")


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--preset",
    type=click.Choice(["small", "reference"]),
    default="small",
    help="small: 600 emails; reference: 19,252 emails and 8,034 attachments.",
)
@click.option("--messages", type=click.IntRange(min=1), help="Number of emails (overrides preset).")
@click.option("--attachments", type=click.IntRange(min=0), help="Number of attachments.")
@click.option("--layout", type=click.Choice(["mixed", "mbox", "maildir"]), default="mixed")
@click.option("--seed", type=int, default=2016, show_default=True)
def demo(
    out_dir: Path,
    preset: str,
    messages: int | None,
    attachments: int | None,
    layout: str,
    seed: int,
) -> None:
    """Write a synthetic, deterministic mail dump of a fictional organisation to OUT_DIR."""
    from strongroom.demo import REFERENCE, DemoSpec, build_dump

    base = REFERENCE if preset == "reference" else DemoSpec()
    spec = DemoSpec(
        seed=seed,
        messages=messages or base.messages,
        attachments=attachments
        if attachments is not None
        else (base.attachments if messages is None else max(0, (messages * 5) // 12)),
        layout=layout,
    )
    manifest = build_dump(out_dir, spec)
    err.print(
        f"wrote {manifest.emails_written} emails and {manifest.attachments_written} "
        f"attachments to {out_dir}"
    )


# Commands that live in their own modules (strongroom/commands/*.py), each exporting COMMANDS.
# Found by listing the package, so a capability adds its commands without touching this file;
# those modules import their heavy dependencies inside the commands, to keep start-up fast.
def _command_modules() -> list[ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(command_package.__path__))
    modules = [importlib.import_module(f"strongroom.commands.{name}") for name in names]
    return [module for module in modules if hasattr(module, "COMMANDS")]


for _module in _command_modules():
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    try:
        code = cli.main(standalone_mode=False)
    except StrongroomError as error:
        err.print(f"[red]error:[/red] {error.message}", markup=True)
        if error.hint:
            err.print(f"hint: {error.hint}")
        sys.exit(error.exit_status)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(ExitStatus.USAGE)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(ExitStatus.ERROR)
    except BrokenPipeError:
        sys.exit(ExitStatus.OK)
    except KeyboardInterrupt:
        err.print("interrupted; rerun the same command to complete the work")
        sys.exit(ExitStatus.ERROR)
    except Exception as error:
        err.print(f"[red]internal error:[/red] {escape(f'{type(error).__name__}: {error}')}")
        err.print("this is a bug in strongroom; rerun with STRONGROOM_DEBUG=1 for the traceback")
        if os.environ.get("STRONGROOM_DEBUG"):
            raise
        sys.exit(ExitStatus.ERROR)
    sys.exit(code if isinstance(code, int) else ExitStatus.OK)
