"""One module per CLI subcommand; each registers itself on `protoverify.cli.cli`."""
