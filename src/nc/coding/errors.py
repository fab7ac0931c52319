"""Errors raised by the coders."""


class CorruptStreamError(ValueError):
    """Tokens or side information that do not decode to a consistent input (checksum mismatch,
    impossible window content, truncated stream, malformed side information)."""
