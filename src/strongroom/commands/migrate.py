"""`strongroom migrate`: bring a catalog's schema up to this strongroom's (see
strongroom/catalog/migrations), or with --check say whether that is needed."""

from __future__ import annotations

import click

from strongroom.case import Case
from strongroom.commands.common import case_root, err, out, print_json
from strongroom.errors import CaseError


@click.command()
@click.option("--check", "check_only", is_flag=True, help="Only say whether migrating is needed.")
@click.option("--json", "as_json", is_flag=True, help="Print the schema status as JSON.")
@click.pass_context
def migrate(ctx: click.Context, check_only: bool, as_json: bool) -> None:
    """Bring the catalog's schema up to this strongroom's (back it up first).

    Opening a catalog that needs migrating is refused until this has run. With --check,
    nothing is changed: exit status 5 when a migration is pending or the tables differ from
    the ones this strongroom defines (listed), 0 when the catalog is current.
    """
    from strongroom.catalog import migrations

    catalog = Case.catalog_at(case_root(ctx))
    if not catalog.exists():
        raise CaseError(f"{catalog.name} is not a strongroom catalog", hint="create it with init")
    before = migrations.status(catalog.engine)
    if before.newer:
        raise CaseError(
            f"the catalog's schema revision {before.current} is newer than this strongroom's "
            f"({before.head})",
            hint="upgrade strongroom",
        )
    applied: list[str] = []
    if not check_only:
        applied = migrations.upgrade(catalog.engine)
    after = migrations.status(catalog.engine) if applied else before
    if as_json:
        print_json({**after.to_json(), "applied": applied})
    elif applied:
        out.print(f"migrated from {before.current_or_baseline} to {after.head}: {applied}")
    elif after.pending:
        out.print(f"at revision {after.current_or_baseline}; pending: {', '.join(after.pending)}")
    else:
        out.print(f"at revision {after.current_or_baseline}, the newest")
    for difference in after.differences:
        err.print(f"differs from this strongroom's tables: {difference}")
    if after.pending:
        raise CaseError("the catalog needs migrating", hint="run: strongroom migrate")
    if after.differences:
        raise CaseError(
            "the catalog's tables differ from this strongroom's",
            hint="a table changed without a revision in strongroom/catalog/migrations/versions",
        )


COMMANDS = [migrate]
