"""The stage graph: edges from overlapping paths, DVC's validation, stable order."""

from __future__ import annotations

import pytest

from jupyter_exp.core.graph import PipelineGraph
from jupyter_exp.core.pipeline.model import Dependency, Output, ParamsDependency, Stage
from jupyter_exp.errors import CyclicGraphError, OutputDuplicatedError, OverlappingOutputError


def stage(name: str, deps=(), outs=(), params=(), dvcfile: str = "dvc.yaml") -> Stage:
    return Stage(
        name=name,
        dvcfile=dvcfile,
        cmd=f"run {name}",
        deps=tuple(Dependency(d, d) for d in deps),
        outs=tuple(Output(o, o) for o in outs),
        params=tuple(ParamsDependency(p, p) for p in params),
    )


def names(stages) -> list[str]:
    return [s.name for s in stages]


def test_edges_follow_exact_nested_and_containing_paths():
    prep = stage("prep", outs=["data/prepared"])
    exact = stage("exact", deps=["data/prepared"], outs=["a"])
    inside = stage("inside", deps=["data/prepared/train.csv"], outs=["b"])
    around = stage("around", deps=["data"], outs=["c"])
    unrelated = stage("unrelated", deps=["data/raw"], outs=["d"])
    graph = PipelineGraph([prep, exact, inside, around, unrelated])
    assert names(graph.children(prep)) == ["exact", "inside", "around"]
    assert graph.parents(unrelated) == []


def test_params_file_written_by_a_stage_is_an_edge():
    gen = stage("gen", outs=["params.yaml"])
    use = stage("use", params=["params.yaml"], outs=["x"])
    graph = PipelineGraph([use, gen])
    assert names(graph.topological()) == ["gen", "use"]


def test_topological_order_is_parents_first_then_file_order():
    c = stage("c", deps=["b.out"], outs=["c.out"])
    a = stage("a", outs=["a.out"])
    b = stage("b", deps=["a.out"], outs=["b.out"])
    z = stage("z", outs=["z.out"])
    graph = PipelineGraph([c, a, b, z])
    assert names(graph.topological()) == ["a", "b", "c", "z"]


def test_selection_helpers():
    a = stage("a", outs=["a.out"])
    b = stage("b", deps=["a.out"], outs=["b.out"])
    c = stage("c", deps=["b.out"], outs=["c.out"])
    other = stage("other", outs=["o.out"])
    graph = PipelineGraph([a, b, c, other])
    assert names(graph.topological(graph.with_upstream([b]))) == ["a", "b"]
    assert names(graph.topological(graph.with_downstream([b]))) == ["b", "c"]
    assert names(graph.topological(graph.component([c]))) == ["a", "b", "c"]


def test_duplicate_output_names_both_stages():
    with pytest.raises(OutputDuplicatedError) as info:
        PipelineGraph([stage("one", outs=["model.pkl"]), stage("two", outs=["model.pkl"])])
    assert info.value.stages == ["one", "two"]
    assert str(info.value) == "output 'model.pkl' is written by several stages: 'one', 'two'"


def test_output_inside_another_output_is_rejected():
    with pytest.raises(OverlappingOutputError) as info:
        PipelineGraph([stage("dir", outs=["data"]), stage("file", outs=["data/x.csv"])])
    assert (
        str(info.value)
        == "stage 'file': output 'data/x.csv' is inside output 'data' of stage 'dir'"
    )


def test_cycle_is_reported_with_its_stages():
    a = stage("a", deps=["c.out"], outs=["a.out"])
    b = stage("b", deps=["a.out"], outs=["b.out"])
    c = stage("c", deps=["b.out"], outs=["c.out"])
    with pytest.raises(CyclicGraphError) as info:
        PipelineGraph([a, b, c, stage("free", outs=["f"])])
    assert sorted(info.value.cycle) == ["a", "b", "c"]
    assert str(info.value).startswith("pipeline has a cycle: ")


def test_self_dependency_through_own_output_is_not_a_cycle():
    # A stage that reads a file inside its own output dir (persisted state) is allowed.
    s = stage("s", deps=["out/state.json"], outs=["out"])
    assert names(PipelineGraph([s]).topological()) == ["s"]


def test_addresses_of_nested_pipelines():
    nested = stage("train", dvcfile="sub/dvc.yaml")
    assert nested.address == "sub/dvc.yaml:train"
    assert nested.lockfile == "sub/dvc.lock"
    assert stage("train").address == "train"
