"""Errors we expect and can explain to the caller, each with its HTTP status and exit code."""


class AppError(Exception):
    """An error we expect and can explain to the caller."""

    status_code = 400
    exit_code = 2
    code = "bad_request"
    # What an HTTP caller is told instead of the message, when the message names what only
    # the operator should see (a database's host and name); the message goes to the log.
    public: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ParseError(AppError):
    """The input could not be read as a comment thread."""

    status_code = 422
    code = "parse_error"


class InputTooLarge(ParseError):
    """The input is larger than the configured limit."""

    status_code = 413
    code = "input_too_large"


class FetchError(AppError):
    """A page could not be fetched from a URL (or fetching is not allowed)."""

    code = "fetch_error"
