"""The command line: parse, call the library, render. Errors are mapped to exit codes in
`main` and nowhere else.

Start-up time is part of every command: the library (`strongroom.case`, which loads SQLAlchemy
and every capability's tables) is imported by the commands that open a case, not here, so that
`search` on a case directory can take the quick path (index/quick.py) without it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from strongroom import __version__
from strongroom import commands as command_package
from strongroom.commands import common
from strongroom.commands.common import case_root, open_case, print_json
from strongroom.errors import ExitStatus, StrongroomError, UsageError
from strongroom.index.quick import QuickCase, open_quick


def escape(text: str) -> str:
    """rich's markup escape; rich is imported when output first needs it."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class StrongroomGroup(click.Group):
    """The core commands are defined below; the rest live in strongroom/commands/*.py, each
    module exporting COMMANDS, found by listing the package (so a capability adds commands
    without touching this file) and imported only when a command is not a core one: searching
    and showing start without loading every capability."""

    _extensions_loaded = False

    def _load_extensions(self) -> None:
        if self._extensions_loaded:
            return
        self._extensions_loaded = True
        import importlib
        import pkgutil

        names = sorted(info.name for info in pkgutil.iter_modules(command_package.__path__))
        for name in names:
            module = importlib.import_module(f"strongroom.commands.{name}")
            for command in getattr(module, "COMMANDS", ()):
                self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self._load_extensions()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_extensions()
        return super().list_commands(ctx)


@click.group(cls=StrongroomGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--case",
    "case",
    envvar="STRONGROOM_CASE",
    metavar="DIR|URL",
    help="The case: a directory, or a postgresql:// URL (or set STRONGROOM_CASE).",
)
@click.version_option(__version__, prog_name="strongroom")
@click.pass_context
def cli(ctx: click.Context, case: str | None) -> None:
    """strongroom: turn a dump of email and documents into an archive you can search, read,
    verify and publish safely."""
    ctx.obj = {"case": case}


@cli.command()
@click.option(
    "--blobs",
    type=click.Path(file_okay=False, path_type=Path),
    help="For a postgresql:// case: the blob directory, at the same path on every machine.",
)
@click.option(
    "--index",
    type=click.Path(file_okay=False, path_type=Path),
    help="For a postgresql:// case: the search index directory.",
)
@click.pass_context
def init(ctx: click.Context, blobs: Path | None, index: Path | None) -> None:
    """Create an empty case (a catalog, a blob store, room for the index)."""
    from strongroom.case import Case

    case = Case.init(case_root(ctx), blobs=blobs, index=index)
    common.err.print(f"created case [bold]{escape(case.location)}[/bold]")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes (default: all cores)."
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    help="Run extraction on a dask cluster: tcp://HOST:8786, or local:N worker processes.",
)
@click.option(
    "--collection",
    default="default",
    show_default=True,
    help="The collection the items go into (an item found in two is in both).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary, no progress bar.")
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    workers: int | None,
    cluster: str | None,
    collection: str,
    as_json: bool,
) -> None:
    """Ingest files and folders, recursively: mbox, Maildir, MH, .eml, .emlx, .msg, .pst,
    zip and tar archives, and any other file as a document. Rerunning adds only what is new.

    Exit status 3 means the run completed but some inputs or items failed; `report` lists them.
    """
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from strongroom.case import Case
    from strongroom.config import IngestPolicy

    root = case_root(ctx)
    case = Case.open(root) if (root / "strongroom-case").exists() else Case.init(root)
    policy = IngestPolicy(cluster=cluster)
    if workers:
        policy = IngestPolicy(workers=workers, cluster=cluster)
    total = sum(_size(p) for p in paths)
    if as_json or not common.err.is_terminal:
        summary = case.ingest(list(paths), policy, collection=collection)
    else:
        with Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[items]} items"),
            TimeRemainingColumn(),
            console=common.err,
        ) as bar:
            task = bar.add_task("ingest", total=total, items=0)

            def advance(done: int, items: int) -> None:
                bar.update(task, completed=done, items=items)

            summary = case.ingest(list(paths), policy, progress=advance, collection=collection)
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
    case = open_case(ctx)
    data = case.report()
    if as_json:
        print_json(data["failures"] if only_failures else data)
    elif only_failures:
        _print_failures(data["failures"])
    else:
        _print_report(data)


def _print_report(data: dict[str, Any], this_run: dict[str, Any] | None = None) -> None:
    from rich.table import Table

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
    for label, key in (("items by status", "items_by_status"), ("documents by text", "by_status")):
        table.add_row(label, ", ".join(f"{k} {v}" for k, v in sorted(data[key].items())))
    if this_run:
        table.add_row("this run", ", ".join(f"{k} {v}" for k, v in this_run.items()))
    common.out.print(table)
    if data["failed"]:
        _print_failures(data["failures"][:20])
        if data["failed"] > 20:
            common.out.print(f"… and {data['failed'] - 20} more: strongroom report --failures")


def _print_failures(failures: list[dict[str, Any]]) -> None:
    for failure in failures:
        where = failure["source"] + (f" [{failure['locator']}]" if failure.get("locator") else "")
        common.out.print(
            f"[red]{failure['status']}[/red] {escape(where)}: {escape(failure['reason'])}"
        )


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
    if key.startswith("thread:"):
        _show_thread(ctx, key, as_json)
        return
    case = open_case(ctx)
    if raw:
        sys.stdout.buffer.write(case.raw(key))
        sys.stdout.buffer.flush()
        return
    item = case.item(key)
    if as_json:
        print_json(item["forensics"] if forensics else item)
        return
    if forensics:
        from strongroom.analyze.forensics import render_forensics

        for line in render_forensics(item["forensics"]):
            common.out.print(line, markup=False)
        return
    _print_item(item)


def _show_thread(ctx: click.Context, key: str, as_json: bool) -> None:
    number = key.removeprefix("thread:")
    if not number.isdigit():
        raise UsageError(f"{key!r}: thread: takes an item number, e.g. thread:1234")
    num, quick = int(number), _quick(ctx)
    if as_json:
        thread = quick.thread(num) if quick else None
        print_json(thread if thread is not None else open_case(ctx).thread(num))
        return
    text = quick.thread_text(num) if quick else None
    if text is None:
        text = open_case(ctx).thread_text(num)
    text = text or f"item {number} is not part of any thread"
    _print_lines([[(line, "")] for line in text.split("\n")])


def _print_item(item: dict[str, Any]) -> None:
    record = item["record"]
    common.out.print(
        f"[bold]#{item['num']}[/bold] {item['kind']} ({item['format']}, {item['mime']}), "
        f"{item['size']} bytes, status {item['status']}"
        + (f": {item['reason']}" if item["reason"] else "")
    )
    common.out.print(f"sha256 {item['sha256']}")
    for role, entries in (record.get("addresses") or {}).items():
        people = ", ".join(
            f"{e['name']} <{e['address']}>" if e["name"] else e["address"] for e in entries
        )
        common.out.print(f"{role}: {people}", markup=False)
    if record.get("date"):
        common.out.print(f"date: {record['date'].get('local') or record['date'].get('raw')}")
    if record.get("subject") is not None:
        common.out.print(f"subject: {record['subject']}", markup=False)
    for location in item["locations"]:
        where = location["path"] or f"item {location['parent']}"
        common.out.print(f"found in: {escape(where)} \\[{escape(location['locator'])}]")
    for defect in record.get("defects", []):
        common.out.print(f"[yellow]defect[/yellow] {escape(defect)}")
    for child in item["children"]:
        common.out.print(
            f"  child #{child['num']} {child['kind']} {escape(child['name'] or '')} "
            f"\\[{escape(child['locator'])}] {child['status']}",
            markup=True,
        )
    if item["text"]:
        common.out.print()
        common.out.print(item["text"][:4000], markup=False)


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
    case = _quick(ctx) or open_case(ctx)
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


def _quick(ctx: click.Context) -> QuickCase | None:
    """A case directory whose index is current, read without the catalog's SQLAlchemy layer
    (index/quick.py); None for anything else (PostgreSQL, an index to repair): open the Case."""
    location = (ctx.find_root().obj or {}).get("case")
    return open_quick(location) if location else None


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
    import html
    import re

    lines: list[list[tuple[str, str]]] = [
        [(str(total), "bold"), (" matching items" + (f", from {offset + 1}" if offset else ""), "")]
    ]
    for hit in hits:
        who = hit.get("from_name") or hit.get("from") or ""
        title = hit.get("subject") or hit.get("name") or ""
        where = f" in #{hit['parent']}" if hit["kind"] == "attachment" and hit.get("parent") else ""
        date = (hit.get("date") or "")[:10]
        lines.append(
            [(f"#{hit['id']}", "bold"), (f" {hit['kind']}{where} {date} {who} — {title}", "")]
        )
        if hit.get("snippet"):
            source = f"({hit['snippet_from']}) " if hit.get("snippet_from") else ""
            # the snippet is HTML: escaped text, the matches in <mark> (odd pieces here)
            parts = re.split(r"<mark>(.*?)</mark>", hit["snippet"])
            marked = [
                (html.unescape(part), "reverse" if n % 2 else "") for n, part in enumerate(parts)
            ]
            lines.append([(f"    {source}", ""), *marked])
    _print_lines(lines)


# What rich removes from text it prints (rich.control.STRIP_CONTROL_CODES).
_CONTROL_CODES = dict.fromkeys((7, 8, 11, 12, 13))


def _print_lines(lines: list[list[tuple[str, str]]]) -> None:
    """Lines of (text, style) pieces, printed verbatim (no markup, no emoji codes): through rich
    on a terminal, and as rich would print them to a pipe or a file without importing it there
    (~30 ms of start-up)."""
    environ = os.environ
    if sys.stdout.isatty() or "FORCE_COLOR" in environ or environ.get("TTY_COMPATIBLE") == "1":
        from rich.text import Text

        for pieces in lines:
            common.out.print(Text.assemble(*pieces))
        return
    for pieces in lines:
        line = "".join(text for text, _style in pieces)
        sys.stdout.write(line.translate(_CONTROL_CODES).expandtabs(8) + "\n")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--accounts",
    is_flag=True,
    help="Server mode: logins (`users add`), collections and grants, an audit log of reads.",
)
@click.option(
    "--behind-proxy",
    is_flag=True,
    help="A TLS proxy in front: trust its X-Forwarded-* headers, mark cookies Secure.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, accounts: bool, behind_proxy: bool) -> None:
    """Serve the reading room: search, items, threads, correspondents, timeline, JSON API.
    Without --accounts everyone who can reach it reads everything, as the local user."""
    import uvicorn

    from strongroom.web.app import ServeConfig, create_app

    case = open_case(ctx)
    if not accounts and host not in ("127.0.0.1", "localhost", "::1"):
        common.err.print(
            f"[yellow]warning:[/yellow] without --accounts anyone who reaches {host} reads "
            "the whole case"
        )
    config = ServeConfig(host=host, port=port, accounts=accounts, secure_cookies=behind_proxy)
    app = create_app(case, config)
    scheme = "https" if behind_proxy else "http"
    common.err.print(
        f"reading room for {case.location} at [bold]{scheme}://{host}:{port}/[/bold]"
        + (" with accounts" if accounts else "")
        + " (Ctrl-C stops)"
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        # X-Forwarded-* is trusted from 127.0.0.1 only (uvicorn's default), or from the
        # addresses in $FORWARDED_ALLOW_IPS: a client elsewhere cannot fake its address.
        proxy_headers=behind_proxy,
    )


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the catalog."""
    case = open_case(ctx)
    count = case.reindex()
    common.err.print(f"indexed {count} items")


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
    common.err.print(
        f"wrote {manifest.emails_written} emails and {manifest.attachments_written} "
        f"attachments to {out_dir}"
    )


def main() -> None:
    try:
        code = cli.main(standalone_mode=False)
    except StrongroomError as error:
        common.err.print(f"[red]error:[/red] {error.message}", markup=True)
        if error.hint:
            common.err.print(f"hint: {error.hint}")
        sys.exit(error.exit_status)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(ExitStatus.USAGE)
    except click.exceptions.Abort:
        common.err.print("aborted")
        sys.exit(ExitStatus.ERROR)
    except BrokenPipeError:
        sys.exit(ExitStatus.OK)
    except KeyboardInterrupt:
        common.err.print("interrupted; rerun the same command to complete the work")
        sys.exit(ExitStatus.ERROR)
    except Exception as error:
        common.err.print(f"[red]internal error:[/red] {escape(f'{type(error).__name__}: {error}')}")
        common.err.print(
            "this is a bug in strongroom; rerun with STRONGROOM_DEBUG=1 for the traceback"
        )
        if os.environ.get("STRONGROOM_DEBUG"):
            raise
        sys.exit(ExitStatus.ERROR)
    sys.exit(code if isinstance(code, int) else ExitStatus.OK)
