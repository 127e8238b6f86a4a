"""The one exception type for expected failures."""


class HagentError(Exception):
    """An expected failure: the CLI prints one line (and a hint) and exits.

    Anything else that escapes a command is a bug and keeps its traceback.
    """

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
