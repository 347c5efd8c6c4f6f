"""Write docs/cli.md from the CLI itself, so the reference cannot drift from the code.

Run: .venv/bin/python scripts/gen_cli_docs.py  (tests/test_docs.py checks it is current)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from strongroom.cli import cli
from strongroom.errors import ExitStatus

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def render() -> str:
    lines = [
        "# strongroom command reference",
        "",
        "Generated from the CLI by `scripts/gen_cli_docs.py`; do not edit by hand.",
        "",
    ]
    # The help option names a real run gets from the group's context_settings: click caches
    # each command's help option once made, so a context without them would render "--help" or
    # "-h, --help" depending on whether a command already ran in this process.
    root = click.Context(
        cli,
        info_name="strongroom",
        terminal_width=100,
        max_content_width=100,
        **cli.context_settings,
    )
    lines += ["```", cli.get_help(root), "```", ""]
    for name in sorted(cli.list_commands(root)):
        command = cli.get_command(root, name)
        assert command is not None
        context = click.Context(command, info_name=name, parent=root)
        lines += [f"## strongroom {name}", "", "```", command.get_help(context), "```", ""]
        if isinstance(command, click.Group):
            for sub in sorted(command.list_commands(context)):
                subcommand = command.get_command(context, sub)
                assert subcommand is not None
                inner = click.Context(subcommand, info_name=sub, parent=context)
                lines += [
                    f"### strongroom {name} {sub}",
                    "",
                    "```",
                    subcommand.get_help(inner),
                    "```",
                    "",
                ]
    lines += ["## Exit status", "", "| code | meaning |", "|---|---|"]
    meanings = {
        ExitStatus.OK: "everything asked was done",
        ExitStatus.ERROR: "an unexpected internal error (a bug: please report it)",
        ExitStatus.USAGE: "bad arguments, options or query syntax",
        ExitStatus.SOME_INPUTS_FAILED: "the run completed but some inputs or items failed; "
        "`strongroom report --failures` lists them",
        ExitStatus.NOT_FOUND: "the item, input or file named does not exist",
        ExitStatus.CASE_INVALID: "the case directory is missing, not a case, or of a newer schema",
    }
    lines += [f"| {status.value} | {meanings[status]} |" for status in ExitStatus]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    DOC.write_text(render())
    sys.stdout.write(f"wrote {DOC}\n")
