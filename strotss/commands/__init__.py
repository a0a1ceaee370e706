"""CLI verbs: each module defines HELP, add_arguments(parser) and run(args) and imports heavy code lazily."""
