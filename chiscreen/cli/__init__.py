"""Command-line interface: one ``chiscreen`` entry point with subcommands.

Each ``cmd_*.py`` module in this package defines ``register(subparsers)``; its handlers call
library functions that return objects (jobs/ scripts call the same functions).
"""
