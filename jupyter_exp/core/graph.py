"""The stage graph: which stage feeds which, validated before anything runs.

A stage depends on another when one of its dependencies (or params files) is, contains,
or lies inside one of the other's outputs, which is how DVC links stages. Building the
graph also rejects what DVC rejects: the same output from two stages, an output inside
another stage's output, and cycles.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator

from ..errors import CyclicGraphError, OutputDuplicatedError, OverlappingOutputError
from .pipeline.model import Stage


def _ancestors(path: str) -> Iterator[str]:
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path


class OutputIndex:
    """Outputs by repo path, answering "who writes this path or something near it"."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        self.owner: dict[str, Stage] = {}
        for stage in stages:
            for out in stage.outs:
                other = self.owner.get(out.repo_path)
                if other is not None and other is not stage:
                    raise OutputDuplicatedError(out.repo_path, [other.address, stage.address])
                self.owner[out.repo_path] = stage
        self._sorted = sorted(self.owner)
        for path, stage in self.owner.items():
            for parent in _ancestors(path):
                parent_stage = self.owner.get(parent)
                if parent_stage is not None and parent_stage is not stage:
                    raise OverlappingOutputError(path, stage.address, parent, parent_stage.address)

    def overlapping(self, path: str) -> Iterator[tuple[str, Stage]]:
        """Outputs equal to ``path``, containing it, or inside it."""
        if path in self.owner:
            yield path, self.owner[path]
        for parent in _ancestors(path):
            if parent in self.owner:
                yield parent, self.owner[parent]
        if path == ".":
            yield from ((p, s) for p, s in self.owner.items() if p != ".")
            return
        prefix = path + "/"
        start = bisect.bisect_left(self._sorted, prefix)
        for candidate in self._sorted[start:]:
            if not candidate.startswith(prefix):
                break
            yield candidate, self.owner[candidate]

    def stage_of(self, path: str) -> Stage | None:
        """The stage whose output is ``path`` or contains it."""
        if path in self.owner:
            return self.owner[path]
        for parent in _ancestors(path):
            if parent in self.owner:
                return self.owner[parent]
        return None


class PipelineGraph:
    """Stages and their dependency edges, in a stable order (definition order)."""

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = stages
        self.order = {id(stage): i for i, stage in enumerate(stages)}
        self.outputs = OutputIndex(stages)
        self.upstream: dict[int, list[Stage]] = {}
        self.downstream: dict[int, list[Stage]] = {id(s): [] for s in stages}
        for stage in stages:
            parents: dict[int, Stage] = {}
            inputs = [d.repo_path for d in stage.deps] + [p.repo_path for p in stage.params]
            for path in inputs:
                for _, producer in self.outputs.overlapping(path):
                    if producer is not stage:
                        parents[id(producer)] = producer
            ordered = sorted(parents.values(), key=lambda s: self.order[id(s)])
            self.upstream[id(stage)] = ordered
            for parent in ordered:
                self.downstream[id(parent)].append(stage)
        self._check_acyclic()

    # --- queries -------------------------------------------------------------------------

    def parents(self, stage: Stage) -> list[Stage]:
        """Stages whose outputs ``stage`` reads."""
        return self.upstream[id(stage)]

    def children(self, stage: Stage) -> list[Stage]:
        """Stages that read ``stage``'s outputs."""
        return self.downstream[id(stage)]

    def with_upstream(self, roots: Iterable[Stage]) -> set[int]:
        """Ids of ``roots`` and everything they depend on, transitively."""
        return self._closure(roots, self.upstream)

    def with_downstream(self, roots: Iterable[Stage]) -> set[int]:
        """Ids of ``roots`` and everything depending on them, transitively."""
        return self._closure(roots, self.downstream)

    def component(self, roots: Iterable[Stage]) -> set[int]:
        """Ids of the whole pipelines (connected components) containing ``roots``."""
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            stage = stack.pop()
            if id(stage) in seen:
                continue
            seen.add(id(stage))
            stack.extend(self.upstream[id(stage)])
            stack.extend(self.downstream[id(stage)])
        return seen

    def topological(self, selected: set[int] | None = None) -> list[Stage]:
        """Stages (all, or the ``selected`` ids) with parents first, ties in file order."""
        pool = [s for s in self.stages if selected is None or id(s) in selected]
        ids = {id(s) for s in pool}
        pending = {id(s): sum(1 for p in self.upstream[id(s)] if id(p) in ids) for s in pool}
        by_id = {id(s): s for s in pool}
        ready = [(self.order[i], i) for i, n in pending.items() if n == 0]
        heapq.heapify(ready)
        result: list[Stage] = []
        while ready:
            _, sid = heapq.heappop(ready)
            result.append(by_id[sid])
            for child in self.downstream[sid]:
                cid = id(child)
                if cid in pending:
                    pending[cid] -= 1
                    if pending[cid] == 0:
                        heapq.heappush(ready, (self.order[cid], cid))
        return result

    # --- internals -----------------------------------------------------------------------

    @staticmethod
    def _closure(roots: Iterable[Stage], edges: dict[int, list[Stage]]) -> set[int]:
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            stage = stack.pop()
            if id(stage) not in seen:
                seen.add(id(stage))
                stack.extend(edges[id(stage)])
        return seen

    def _check_acyclic(self) -> None:
        white, grey, black = 0, 1, 2
        color = {id(s): white for s in self.stages}
        for root in self.stages:
            if color[id(root)] != white:
                continue
            path: list[Stage] = []
            stack: list[tuple[Stage, Iterator[Stage]]] = [(root, iter(self.upstream[id(root)]))]
            color[id(root)] = grey
            path.append(root)
            while stack:
                stage, parents = stack[-1]
                for parent in parents:
                    if color[id(parent)] == grey:
                        start = next(i for i, s in enumerate(path) if s is parent)
                        cycle = [s.address for s in path[start:]]
                        raise CyclicGraphError(list(reversed(cycle)))
                    if color[id(parent)] == white:
                        color[id(parent)] = grey
                        path.append(parent)
                        stack.append((parent, iter(self.upstream[id(parent)])))
                        break
                else:
                    color[id(stage)] = black
                    path.pop()
                    stack.pop()
