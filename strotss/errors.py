"""Exception types for problems the user can fix, and the one rule for raising and reporting errors.

The rule, for every layer:

1. Whatever the user gave (a file, a flag, a config value, the machine) and can fix raises `UserError`, or a
   subclass when callers must tell cases apart (`InputError`, `strotss.teacher.guidance.UnpairedRegion`), in
   the layer that first sees the problem. The message says what is wrong, where, and what to do.
2. A lower layer is given the names its message needs (a file's name, a flag, what to suggest instead) as
   arguments; library code never catches a strotss error to re-word it or change its type.
3. `ValueError` or `TypeError` means a caller broke a function's contract: a bug, shown with its traceback.
   Choices typed as `Literal` are checked where they enter (argparse, LightningCLI, `strotss.choices`); values a
   user writes inside a config's dicts (a network's `model_kwargs`) raise `UserError` where they are read.
4. Only the boundary turns a `UserError` into one line: `strotss.cli.main` (exit code 2) and the GUI's
   handlers. There, and only there, a message may be prefixed with the input it concerns (a verb over many
   files) or a precise subclass phrased in the page's own words. Errors of third-party libraries become
   `UserError` where they are caught, in the layer that calls the library.
5. Code that goes on past a bad input (a folder of photos, a training data set) catches `InputError` only: the
   errors that mean "this input is unusable". Catching `ValueError` there would count a bug as a skipped image.
"""

import sys


class UserError(Exception):
    """A problem with the user's input or environment, phrased as: what is wrong, where, what to do."""


class InputError(UserError):
    """One input file that cannot be used (unreadable, corrupt, too large); verbs and data sets over many inputs
    skip it. It is the only error they skip: any other exception is a bug and ends the run with its traceback."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a scheduler's stop) raised like Ctrl+C, so that unfinished outputs are removed on the way."""


def warn(message: str) -> None:
    """Tell the user in one line on stderr about a choice made for them; the run goes on."""
    print(f"strotss: warning: {message}", file=sys.stderr)
