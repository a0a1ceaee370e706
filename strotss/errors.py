"""One exception type for problems the user can fix; the CLI prints it as one line, never a traceback."""


class UserError(Exception):
    """A problem with the user's input or environment, phrased as: what is wrong, where, what to do."""
