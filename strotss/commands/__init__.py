"""CLI verbs: each module is one verb of `strotss` (strotss.cli finds them), defines HELP, add_arguments(parser)
and run(args), and imports heavy code lazily."""
