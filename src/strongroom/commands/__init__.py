"""CLI command groups beyond the core ones in `strongroom.cli`; each module exports COMMANDS."""
