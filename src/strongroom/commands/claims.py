"""`strongroom claims add|link|unlink|list|show|export`: statements tied to the evidence for
and against them, with each exhibit's standing (DKIM, custody, forensic flags, duplicates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from strongroom.commands.common import Column, open_case, out, print_json, print_records
from strongroom.errors import UsageError


def _actor() -> str:
    from strongroom.catalog.audit import local_actor

    return local_actor()


@click.group("claims")
def claims_group() -> None:
    """Claims: statements recorded with the exhibits (items, passages, searches) that support
    or contradict them; each change is in the audit log (docs/claims.md)."""


@claims_group.command("add")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the new claim as JSON.")
@click.pass_context
def claims_add(ctx: click.Context, text: str, as_json: bool) -> None:
    """Record a claim, e.g. "the treasurer knew of the shortfall in March"."""
    from strongroom.claims import add_claim

    claim = add_claim(open_case(ctx), text, _actor())
    if as_json:
        print_json(claim)
        return
    out.print(f"claim {claim['id']}: {escape(claim['text'])}")


@claims_group.command("link")
@click.argument("claim_id", metavar="CLAIM", type=int)
@click.option("--item", type=int, help="An item number.")
@click.option("--passage", metavar="START:END", help="Character offsets in the item's text.")
@click.option("--query", help="A search query instead of an item.")
@click.option("--supports", "stance", flag_value="supports", help="The exhibit supports it.")
@click.option("--contradicts", "stance", flag_value="contradicts", help="It contradicts it.")
@click.option("--note", default="", help="A note kept with the exhibit.")
@click.pass_context
def claims_link(
    ctx: click.Context,
    claim_id: int,
    item: int | None,
    passage: str | None,
    query: str | None,
    stance: str | None,
    note: str,
) -> None:
    """Link an exhibit to a claim: --item N [--passage START:END] or --query Q, and
    --supports or --contradicts."""
    from strongroom.claims import link

    if stance is None:
        raise UsageError("say whether the exhibit --supports or --contradicts the claim")
    if passage and item is None:
        raise UsageError("--passage needs --item")
    claim = link(
        open_case(ctx),
        claim_id,
        _actor(),
        stance=stance,
        item=item,
        passage=passage,
        query=query,
        note=note,
    )
    exhibit = claim["exhibits"][-1]
    out.print(f"exhibit {exhibit['id']} {stance} claim {claim_id}")


@claims_group.command("unlink")
@click.argument("exhibit_id", metavar="EXHIBIT", type=int)
@click.pass_context
def claims_unlink(ctx: click.Context, exhibit_id: int) -> None:
    """Withdraw an exhibit (kept in the record as withdrawn)."""
    from strongroom.claims import unlink

    claim = unlink(open_case(ctx), exhibit_id, _actor())
    out.print(f"exhibit {exhibit_id} withdrawn from claim {claim['id']}")


@claims_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the claims as JSON.")
@click.pass_context
def claims_list(ctx: click.Context, as_json: bool) -> None:
    """Every claim with its counts of supporting and contradicting exhibits."""
    from strongroom.claims import claims

    rows = claims(open_case(ctx))
    columns: list[Column] = [
        ("id", lambda c: str(c["id"])),
        ("claim", lambda c: c["text"]),
        ("supports", lambda c: str(c["supports"])),
        ("contradicts", lambda c: str(c["contradicts"])),
        ("by", lambda c: c["created_by"]),
    ]
    print_records(rows, as_json, columns, box=None)


def _standing_line(s: dict[str, Any]) -> str:
    parts = [f"sha256 {s['custody']['sha256']}", s["dkim"]["verdict"]]
    if s["forensic_flags"]:
        parts.append("flags: " + "; ".join(f["code"] or "" for f in s["forensic_flags"]))
    if s["duplicates"]:
        parts.append("same Message-ID, other bytes: " + ", ".join(
            f"#{d['item']}" for d in s["duplicates"]))  # fmt: skip
    return " | ".join(parts)


@claims_group.command("show")
@click.argument("claim_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the claim as JSON.")
@click.pass_context
def claims_show(ctx: click.Context, claim_id: int, as_json: bool) -> None:
    """A claim, its exhibits with their standing, and what they amount to."""
    from strongroom.claims import claim

    data = claim(open_case(ctx), claim_id)
    if as_json:
        print_json(data)
        return
    out.print(f"[bold]claim {data['id']}[/bold]: {escape(data['text'])}")
    for e in data["exhibits"]:
        colour = "green" if e["stance"] == "supports" else "red"
        head = f"  [{colour}]{e['stance']}[/{colour}] exhibit {e['id']}: "
        if e["kind"] == "query":
            q = e["query"]
            out.print(head + f"search {escape(q['query'])} ({q['total']} hits)")
            for hit in q["first_hits"]:
                out.print(f"      #{hit['item']} {escape(_standing_line(hit))}")
            continue
        s = e["standing"]
        out.print(head + f"item {e['item_num']} {escape(s['subject'] or '')}")
        if e["kind"] == "passage":
            p = e["passage"]
            changed = "" if p["still_matches"] else " [red](the text no longer reads so)[/red]"
            out.print(f"      {p['start']}:{p['end']} “{escape(p['quote'])}”{changed}")
        out.print(f"      {escape(_standing_line(s))}")
    out.print(escape(data["summary"]["statement"]))


@claims_group.command("export")
@click.argument("target", metavar="ID|--all", required=False)
@click.argument("out_dir", metavar="OUT", type=click.Path(path_type=Path), required=False)
@click.option("--all", "export_all", is_flag=True, help="Export every claim.")
@click.option(
    "--base-url", default="", help="Make permalinks absolute, e.g. https://archive.example/"
)
@click.pass_context
def claims_export(
    ctx: click.Context, target: str | None, out_dir: Path | None, export_all: bool, base_url: str
) -> None:
    """Write OUT/claims.json and OUT/claims.html: each exhibit cited by permalink (items/N)
    and sha256, with its standing, for a reader to check against a published release."""
    from strongroom.claims import export

    if export_all and out_dir is None and target is not None:
        out_dir = Path(target)
        target = None
    if out_dir is None or (target is None) == (not export_all):
        raise UsageError(
            "give a claim id or --all, and an output directory",
            hint="strongroom claims export 3 report/",
        )
    if target is not None and not target.isdigit():
        raise UsageError(f"{target!r} is not a claim id")
    ids = None if export_all else [int(target or 0)]
    result = export(open_case(ctx), ids, out_dir, _actor(), base_url)
    out.print(f"wrote {escape(result['json'])} and {escape(result['html'])}")


COMMANDS = [claims_group]
