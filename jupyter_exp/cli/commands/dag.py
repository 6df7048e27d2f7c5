"""``jupyter exp dag``: draw the stage graph."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..render import UI
from . import Subparsers, add_command, open_project


def register(subparsers: Subparsers, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``dag``."""
    parser = add_command(
        subparsers,
        parents,
        "dag",
        help="Visualize the pipeline(s) as a graph of connected stages.",
        run=run,
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="Stages or dvc.yaml files whose upstream graph to show (default: all).",
    )
    fmt = parser.add_mutually_exclusive_group()
    for flag, value, text in (
        ("--mermaid", "mermaid", "Print the graph as a Mermaid flowchart."),
        ("--md", "md", "Print the Mermaid flowchart inside a Markdown code block."),
        ("--dot", "dot", "Print the graph in Graphviz DOT format."),
        ("--json", "json", "Print the nodes and edges as JSON."),
    ):
        fmt.add_argument(flag, dest="fmt", action="store_const", const=value, help=text)
    parser.set_defaults(fmt="text")


def run(args: argparse.Namespace, ui: UI) -> int:
    """Print the graph in the chosen format (an indented tree by default)."""
    text = open_project().dag(args.targets, fmt=args.fmt)
    if args.fmt == "json":
        ui.data(text)
    elif text:
        ui.write(text)
    return 0
