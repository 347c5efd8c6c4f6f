"""Where a release's redaction plan comes from: the case's review decisions, when the PII review
capability provides them, and/or a file of values to hide everywhere.

A redact file is UTF-8 text with one value per line, optionally followed by a tab and its type
(`4111 1111 1111 1111<TAB>card`); blank lines and lines starting with `#` are ignored.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strongroom.case import Case
from strongroom.errors import UsageError
from strongroom.pii.plan import RedactionPlan

# The review capability's entry point: redaction_plan(catalog) -> RedactionPlan.
DECISIONS_MODULE = "strongroom.pii.decisions"


def read_redact_file(path: Path) -> RedactionPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{path} is not UTF-8 text: {error}") from error
    except OSError as error:
        raise UsageError(f"cannot read the redact file {path}: {error}") from error
    values: set[str] = set()
    types: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        value, _, kind = line.partition("\t")
        value, kind = value.strip(), kind.strip()
        if len(value) < 3:
            raise UsageError(
                f"{path} line {number}: {value!r} is too short to redact safely",
                hint="a value of one or two characters would erase ordinary text",
            )
        values.add(value)
        if kind:
            types[value] = kind
    return RedactionPlan(everywhere=frozenset(values), types=types)


def review_plan(case: Case) -> RedactionPlan | None:
    """The plan from the case's review decisions, or None where that capability is absent."""
    try:
        module = importlib.import_module(DECISIONS_MODULE)
    except ModuleNotFoundError:
        return None
    make: Callable[[Any], RedactionPlan] | None = getattr(module, "redaction_plan", None)
    return make(case.catalog) if make is not None else None


def merge(*plans: RedactionPlan | None) -> RedactionPlan:
    by_item: dict[int, set[str]] = {}
    everywhere: set[str] = set()
    types: dict[str, str] = {}
    undecided = 0
    for plan in plans:
        if plan is None:
            continue
        undecided += plan.undecided
        everywhere |= plan.everywhere
        for num, values in plan.by_item.items():
            by_item.setdefault(num, set()).update(values)
        types.update(plan.types)
    return RedactionPlan(
        by_item={num: frozenset(values) for num, values in by_item.items()},
        everywhere=frozenset(everywhere),
        types=types,
        undecided=undecided,
    )


def has_values(plan: RedactionPlan) -> bool:
    return bool(plan.everywhere) or any(plan.by_item.values())
