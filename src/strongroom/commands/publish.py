"""`strongroom publish OUT`: a static, redacted, verifiable release of the case."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from strongroom.commands.common import err, open_case, out, print_json
from strongroom.errors import UsageError


@click.command("publish")
@click.argument("out_dir", metavar="OUT", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--query",
    "-q",
    metavar="Q",
    help="Publish only the items matching Q (and what they contain); default: every item.",
)
@click.option(
    "--redact-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Values to hide everywhere: one per line, optionally followed by a tab and a type "
    "(card, ssn, ...). Added to the case's review decisions, if any.",
)
@click.option(
    "--no-redaction",
    is_flag=True,
    help="Publish without any redaction plan (refused otherwise, so nothing goes out by mistake).",
)
@click.option(
    "--allow-undecided",
    is_flag=True,
    help="Publish although some personal-data findings have not been decided on yet.",
)
@click.option(
    "--key",
    "key_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The Ed25519 key that signs the custody manifest (default: the case's custody key).",
)
@click.option("--title", default="strongroom release", show_default=True, help="The site's title.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def publish_command(
    ctx: click.Context,
    out_dir: Path,
    query: str | None,
    redact_file: Path | None,
    no_redaction: bool,
    allow_undecided: bool,
    key_path: Path | None,
    title: str,
    as_json: bool,
) -> None:
    """Write a static site to OUT that any web host can serve: one page per item at
    items/<number>.html, a search that runs in the browser, attachments and raw sources, the
    custody manifest (signed with the case's key when it has one) and each email's DKIM verdict.
    Redaction is applied to every page, the search index, attachments and the raw .eml files
    (redacted derivatives naming their original's sha256); a binary attachment holding a redacted
    value is withheld with a notice. Every file is checked before the release is moved into
    place, and release.json lists each file's sha256. See docs/publish.md."""
    from strongroom.catalog.audit import local_actor, record
    from strongroom.publish import has_values, merge, publish, read_redact_file, review_plan

    case = open_case(ctx)
    reviewed = review_plan(case)
    listed = read_redact_file(redact_file) if redact_file else None
    plan = merge(reviewed, listed)
    if plan.undecided and not allow_undecided:
        raise UsageError(
            f"{plan.undecided} personal-data findings have not been decided on",
            hint="review them (strongroom pii review), or pass --allow-undecided",
        )
    if not has_values(plan) and not no_redaction:
        raise UsageError(
            "nothing to redact: no review decision hides a value and no --redact-file was given",
            hint="pass --redact-file FILE (values to hide), or --no-redaction to publish as is",
        )
    sources = [s for s, p in (("review decisions", reviewed), (str(redact_file), listed)) if p]
    result = publish(
        case,
        out_dir,
        plan,
        query=query,
        title=title,
        plan_source=" + ".join(sources) or "none",
        key=key_path,
    )
    summary = result.to_json()
    record(case.catalog, local_actor(), "publish", str(out_dir), {**summary, "query": query})
    if as_json:
        print_json(summary)
        return
    out.print(f"wrote {escape(str(out_dir))}: {result.items} items, {result.files} files")
    out.print(f"redacted {len(result.redacted)} items; withheld a file of {len(result.withheld)}")
    custody = result.custody
    if custody.get("withheld"):
        err.print(f"custody manifest withheld: {escape(custody['withheld'])}")
    elif custody.get("signed"):
        out.print(f"custody manifest signed by {custody['key_fingerprint']}")
    else:
        err.print("custody manifest unsigned (make a key with: strongroom custody keygen)")


COMMANDS = [publish_command]
