"""The one exception tree of strongroom. Each class carries its CLI exit code and HTTP status,
so each shell maps errors in exactly one place."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Process exit codes of the CLI (documented in docs/cli.md)."""

    OK = 0
    ERROR = 1  # an unexpected internal error
    USAGE = 2  # bad arguments or options (click uses 2 as well)
    SOME_INPUTS_FAILED = 3  # the run completed but some inputs or items failed; see `report`
    NOT_FOUND = 4  # the case, item or file named does not exist
    CASE_INVALID = 5  # the case directory is missing, not a case, or of a newer schema


class StrongroomError(Exception):
    """Base of every error strongroom raises on purpose."""

    exit_status: ExitStatus = ExitStatus.ERROR
    http_status: int = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"error": type(self).__name__, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        return body


class UsageError(StrongroomError):
    exit_status = ExitStatus.USAGE
    http_status = 400


class NotFound(StrongroomError):
    exit_status = ExitStatus.NOT_FOUND
    http_status = 404


class CaseError(StrongroomError):
    exit_status = ExitStatus.CASE_INVALID
    http_status = 500


class NotAllowed(StrongroomError):
    """The viewer may not do this (a reader writing, a non-admin reading the audit log)."""

    exit_status = ExitStatus.USAGE
    http_status = 403


class LoginRequired(StrongroomError):
    exit_status = ExitStatus.USAGE
    http_status = 401
