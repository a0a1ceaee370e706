"""Exception types for problems the user can fix; the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """A problem with the user's input or environment, phrased as: what is wrong, where, what to do."""


class InputError(UserError):
    """One input file that cannot be used (unreadable, corrupt, too large); verbs over many inputs skip it."""
