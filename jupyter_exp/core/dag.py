"""Render the stage graph: an indented text tree, Mermaid, Graphviz dot or JSON."""

from __future__ import annotations

import json
from typing import Literal

from .index import Index
from .pipeline.model import Stage

DagFormat = Literal["text", "mermaid", "md", "dot", "json"]


def render_dag(index: Index, targets: tuple[str, ...], fmt: DagFormat) -> str:
    """The graph of ``targets`` and their upstream stages (or everything) as ``fmt``."""
    graph = index.graph
    if targets:
        roots = index.resolve(targets)
        selected = graph.with_upstream(roots)
    else:
        selected = {id(s) for s in index.stages}
    stages = graph.topological(selected)
    edges = [
        (parent, child)
        for child in stages
        for parent in graph.parents(child)
        if id(parent) in selected
    ]
    if fmt == "json":
        return json.dumps(
            {
                "nodes": [s.address for s in stages],
                "edges": [{"from": p.address, "to": c.address} for p, c in edges],
            },
            indent=2,
        )
    if fmt == "dot":
        lines = ["strict digraph  {"]
        lines += [f'"{s.address}";' for s in stages]
        lines += [f'"{p.address}" -> "{c.address}";' for p, c in edges]
        return "\n".join([*lines, "}"])
    if fmt in ("mermaid", "md"):
        ids = {id(s): f"node{i}" for i, s in enumerate(stages, 1)}
        lines = ["flowchart TD"]
        lines += [f'\t{ids[id(s)]}["{s.address}"]' for s in stages]
        lines += [f"\t{ids[id(p)]}-->{ids[id(c)]}" for p, c in edges]
        text = "\n".join(lines)
        return f"```mermaid\n{text}\n```" if fmt == "md" else text
    return _text_tree(index, stages, selected)


def _text_tree(index: Index, stages: list[Stage], selected: set[int]) -> str:
    """Each pipeline from its sources down; a stage reached twice is shown once in full."""
    graph = index.graph
    shown: set[int] = set()
    lines: list[str] = []

    def visit(stage: Stage, prefix: str, last: bool, depth: int) -> None:
        branch = "" if depth == 0 else ("└── " if last else "├── ")
        again = id(stage) in shown
        lines.append(f"{prefix}{branch}{stage.address}{' (see above)' if again else ''}")
        if again:
            return
        shown.add(id(stage))
        children = [c for c in graph.children(stage) if id(c) in selected]
        child_prefix = prefix if depth == 0 else prefix + ("    " if last else "│   ")
        for i, child in enumerate(children):
            visit(child, child_prefix, i == len(children) - 1, depth + 1)

    for stage in stages:
        if not any(id(p) in selected for p in graph.parents(stage)):
            visit(stage, "", True, 0)
    return "\n".join(lines)
