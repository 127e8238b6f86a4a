"""The one exception type for expected failures, and hagentctl's exit statuses."""

from enum import IntEnum


class ExitCode(IntEnum):
    """hagentctl's exit status; every command follows it (see EXIT_CODES_HELP)."""

    OK = 0
    FAILED = 1  # the operation failed (the kernel or the module refused, I/O error)
    USAGE = 2  # a bad command line: Typer's checks and hagentctl's own
    NOT_LOADED = 3  # the module is not loaded, or not visible from this network namespace
    FINDINGS = 4  # triage found panic-relevant problems


# What each status means, for the top-level --help (one line each, in order).
EXIT_CODES_MEANING: dict[ExitCode, str] = {
    ExitCode.OK: "ok (triage: nothing panic-relevant found)",
    ExitCode.FAILED: "the operation failed (refused by the kernel or the module, "
    "a file that cannot be read)",
    ExitCode.USAGE: "usage error: a bad option or argument (pid, node list, sample, "
    "PARAM=VALUE, a --ko that is not hagent, ...), checked before anything is done",
    ExitCode.NOT_LOADED: "the hagent module is not loaded, or not visible from this "
    "network namespace",
    ExitCode.FINDINGS: "triage found panic-relevant problems (WARNING, BUG, Oops, panic, "
    "CHECK failed, assertion, bad page, lockup)",
}

EXIT_CODES_HELP = "Exit status: " + "; ".join(
    f"{int(code)} {meaning}" for code, meaning in EXIT_CODES_MEANING.items()
)


class HagentError(Exception):
    """An expected failure: the CLI prints one line (and a hint) and exits.

    ``exit_code`` is an ExitCode: FAILED unless the failure is a bad argument
    (USAGE) or a missing module (NOT_LOADED).  Anything else that escapes a
    command is a bug and keeps its traceback.
    """

    def __init__(
        self, message: str, hint: str | None = None, exit_code: int = ExitCode.FAILED
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


def usage_error(message: str, hint: str | None = None) -> HagentError:
    """A HagentError for a bad argument (exit status USAGE)."""
    return HagentError(message, hint, exit_code=ExitCode.USAGE)
