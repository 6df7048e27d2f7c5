"""Vega-Lite charts from real experiment projects (``Project.exp_plots``).

Every spec is rendered to SVG with vl-convert, which compiles it with Vega-Lite and
Vega: a spec they refuse fails the test.
"""

from __future__ import annotations

from typing import Any

import pytest
import vl_convert
from conftest import git
from exp_project import FILES
from plots_project import PLOTS_FILES, loss_at

from jupyter_exp import Project
from jupyter_exp.errors import (
    ExperimentNotFoundError,
    InvalidArgumentError,
    PipelineError,
    PlotDefinitionError,
    RevisionNotFoundError,
)
from jupyter_exp.plots import PlotSpec
from jupyter_exp.plots.templates import BUILDERS


def rendered(plot: PlotSpec) -> str:
    svg = vl_convert.vegalite_to_svg(plot.spec)
    assert svg.startswith("<svg")
    return svg


def values(plot: PlotSpec) -> list[dict[str, Any]]:
    return plot.spec["data"]["values"]


def series(plot: PlotSpec) -> dict[str, list[tuple[Any, Any]]]:
    """``{series: [(x, y)...]}`` of a dvc.yaml plot."""
    found: dict[str, list[tuple[Any, Any]]] = {}
    for record in values(plot):
        found.setdefault(record["series"], []).append((record["x"], record["y"]))
    return found


@pytest.fixture(scope="module")
def experiments(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The plots project with experiments ``fast`` (lr 0.3) and ``slow`` (lr 0.1); the
    workspace holds ``slow``'s results. Read-only for the tests that use it."""
    from conftest import write_tree

    root = tmp_path_factory.mktemp("plots") / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write_tree(root, PLOTS_FILES)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    project = Project(root)
    project.exp_run(name="fast", params=["train.lr=0.3"])
    project.exp_run(name="slow", params=["train.lr=0.1", "train.epochs=5"])
    return project


# --- charts of the exp show table --------------------------------------------------------


def test_metrics_bars_of_the_chosen_experiments(experiments: Project) -> None:
    (plot,) = experiments.exp_plots(kind="metrics")
    rendered(plot)
    by_row = {r["experiment"]: r["value"] for r in values(plot) if r["name"] == "acc"}
    assert by_row == {"workspace": 0.6, "fast": 0.8, "slow": 0.6}  # main never ran
    (chosen,) = experiments.exp_plots(["fast", "main"], kind="metrics", metrics=["acc"])
    assert [(r["experiment"], r["value"]) for r in values(chosen)] == [("fast", 0.8)]


def test_parallel_coordinates_of_the_params_that_vary(experiments: Project) -> None:
    (plot,) = experiments.exp_plots(["fast", "slow"], kind="parallel")
    rendered(plot)
    assert plot.spec["encoding"]["x"]["sort"] == ["train.lr", "train.epochs", "acc"]
    slow = {r["name"]: r["value"] for r in values(plot) if r["experiment"] == "slow"}
    assert slow == {"train.lr": 0.1, "train.epochs": 5, "acc": 0.6}


def test_table_chart_mistakes(experiments: Project) -> None:
    with pytest.raises(InvalidArgumentError, match="unknown plot kind 'pie'"):
        experiments.exp_plots(kind="pie")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="no numeric metric named 'nope'"):
        experiments.exp_plots(kind="metrics", metrics=["nope"])
    with pytest.raises(InvalidArgumentError, match="no checkpoint experiment"):
        experiments.exp_plots(kind="steps")
    with pytest.raises(ExperimentNotFoundError, match="'ghost'"):
        experiments.exp_plots(["ghost"], kind="metrics")


def test_steps_of_a_checkpoint_experiment(make_project: Any) -> None:
    from checkpoint_project import FILES as CHECKPOINT_FILES

    project = Project(make_project(CHECKPOINT_FILES))
    project.exp_run(name="ckpt")
    (plot,) = project.exp_plots(["ckpt"], kind="steps", metrics=["loss"])
    rendered(plot)
    points = sorted((r["step"], r["value"]) for r in values(plot))
    assert points == [(0, 1.0), (1, 0.5), (2, 0.3333), (3, 0.3333)]


# --- dvc.yaml plots across revisions -----------------------------------------------------


def test_dvc_plots_draw_a_line_per_revision(experiments: Project) -> None:
    plots = experiments.exp_plots(kind="dvc")
    assert [p.title for p in plots] == ["acc-curve", "logs.csv", "preds.json"]
    for plot in plots:
        rendered(plot)
    curve, logs, preds = plots
    # The cached logs.csv of each experiment comes from the DVC cache; main never ran.
    assert series(logs) == {
        "workspace": list(enumerate(loss_at(0.1))),
        "fast": list(enumerate(loss_at(0.3))),
        "slow": list(enumerate(loss_at(0.1))),
    }
    assert logs.spec["mark"] == {"type": "line", "point": True}  # linear, DVC's default
    assert logs.spec["encoding"]["x"]["title"] == "step"
    assert logs.spec["encoding"]["y"]["title"] == "loss"
    # Two fields of one file: a line per revision and field, smoothed.
    assert set(series(curve)) == {
        f"{r}: {f}" for r in ("workspace", "fast", "slow") for f in ("acc", "loss")
    }
    assert curve.spec["layer"][0]["transform"][0]["loess"] == "y"
    # The confusion matrix: a heat map per revision, fast is off by one class.
    assert preds.spec["facet"]["column"]["field"] == "series"
    fast = [(r["x"], r["y"]) for r in values(preds) if r["rev"] == "fast"]
    assert fast == [(a, (a + 1) % 3) for a in (0, 1, 2, 0, 1, 2)]


def test_dvc_plots_of_chosen_revisions_and_targets(experiments: Project) -> None:
    plots = experiments.exp_plots(["fast", "main", "workspace"], kind="dvc", targets=["logs.csv"])
    # acc-curve reads logs.csv too, so both are targeted; main has no data.
    assert [p.title for p in plots] == ["acc-curve", "logs.csv"]
    assert list(series(plots[1])) == ["fast", "workspace"]
    with pytest.raises(InvalidArgumentError, match=r"no plot named 'nope\.csv'"):
        experiments.exp_plots(kind="dvc", targets=["nope.csv"])
    with pytest.raises(RevisionNotFoundError, match="'ghost'"):
        experiments.exp_plots(["ghost"], kind="dvc")


def test_a_git_tracked_plot_file_at_a_branch_and_in_the_workspace(make_project: Any) -> None:
    root = make_project(
        {
            "dvc.yaml": "plots:\n- hist.tsv:\n    x: epoch\n",
            "hist.tsv": "epoch\tloss\n1\t0.9\n2\t0.5\n",
        }
    )
    (root / "hist.tsv").write_text("epoch\tloss\n1\t0.8\n2\t0.2\n3\t0.1\n")
    (plot,) = Project(root).exp_plots(["workspace", "main"], kind="dvc")
    rendered(plot)
    assert series(plot) == {
        "workspace": [(1, 0.8), (2, 0.2), (3, 0.1)],
        "main": [(1, 0.9), (2, 0.5)],
    }


TEMPLATE_DATA = {
    "curve.json": '[{"epoch": 1, "loss": 0.9, "acc": 0.1}, {"epoch": 2, "loss": 0.4, "acc": 0.5}]',
    "classes.csv": "actual,predicted\ncat,cat\ncat,dog\ndog,dog\n",
    "importance.yaml": (
        "features:\n- {name: petal, importance: 0.6}\n- {name: sepal, importance: 0.4}\n"
    ),
}


@pytest.mark.parametrize("template", list(BUILDERS))
def test_every_template_renders(template: str, make_project: Any) -> None:
    if template.startswith("confusion"):
        file, props = "classes.csv", "x: actual\n    y: predicted"
    elif template.startswith("bar"):
        file, props = "importance.yaml", "x: importance\n    y: name"
    else:
        file, props = "curve.json", "x: epoch\n    y: loss"
    dvc_yaml = f"plots:\n- {file}:\n    template: {template}\n    {props}\n    title: T\n"
    root = make_project({"dvc.yaml": dvc_yaml, **TEMPLATE_DATA})
    (plot,) = Project(root).exp_plots(["workspace"], kind="dvc")
    assert plot.title == "T"
    svg = rendered(plot)
    assert "workspace" in svg  # the revision is named in the legend or facet header


def test_default_axes_folders_and_headerless_files(make_project: Any) -> None:
    root = make_project(
        {
            "dvc.yaml": """\
                plots:
                - curves
                stages:
                  noop:
                    cmd: echo
                    plots:
                    - stage.yaml:
                        cache: false
                    - raw.csv:
                        cache: false
                        header: false
                        x: "0"
                """,
            "curves": {
                "with_step.csv": "step,loss,acc\n0,0.9,0.1\n1,0.5,0.4\n",
                "no_step.json": '{"train": [{"loss": 0.7}, {"loss": 0.6}]}',
                "figure.png": "not data",
            },
            "raw.csv": "1,10\n2,20\n",
            "stage.yaml": "- {epoch: 1, score: 3}\n- {epoch: 2, score: 4}\n",
        }
    )
    plots = {p.title: p for p in Project(root).exp_plots(["workspace"], kind="dvc")}
    assert sorted(plots) == ["curves/no_step.json", "curves/with_step.csv", "raw.csv", "stage.yaml"]
    for plot in plots.values():
        rendered(plot)
    # x: the data's step, else the row number; y: the last field that is not x.
    assert series(plots["curves/with_step.csv"]) == {"workspace": [(0, 0.1), (1, 0.4)]}
    assert series(plots["curves/no_step.json"]) == {"workspace": [(0, 0.7), (1, 0.6)]}
    assert series(plots["raw.csv"]) == {"workspace": [(1, 10), (2, 20)]}
    assert series(plots["stage.yaml"]) == {"workspace": [(0, 3), (1, 4)]}  # no step field
    assert plots["stage.yaml"].spec["encoding"]["y"]["title"] == "score"


def test_a_plot_of_several_files_names_each_line(make_project: Any) -> None:
    root = make_project(
        {
            "dvc.yaml": """\
                plots:
                - loss:
                    x: {train.csv: epoch, eval.csv: round}
                    y: {train.csv: loss, eval.csv: [loss]}
                    y_label: the loss
                """,
            "train.csv": "epoch,loss\n1,0.9\n2,0.5\n",
            "eval.csv": "round,loss\n1,1.0\n2,0.7\n",
        }
    )
    (plot,) = Project(root).exp_plots(None, kind="dvc")
    rendered(plot)
    assert series(plot) == {
        "workspace: train.csv: loss": [(1, 0.9), (2, 0.5)],
        "workspace: eval.csv: loss": [(1, 1.0), (2, 0.7)],
        "main: train.csv: loss": [(1, 0.9), (2, 0.5)],
        "main: eval.csv: loss": [(1, 1.0), (2, 0.7)],
    }
    assert plot.spec["encoding"]["y"]["title"] == "the loss"
    assert plot.spec["encoding"]["x"]["title"] == "epoch, round"


@pytest.mark.parametrize(
    ("dvc_yaml", "files", "message", "source"),
    [
        (
            "plots:\n- a.csv:\n    template: pie\n",
            {"a.csv": "x,y\n1,2\n"},
            r"dvc\.yaml: plot 'a\.csv': unknown template 'pie'",
            None,
        ),
        (
            "plots:\n- a.csv:\n    y: acc\n",
            {"a.csv": "x,loss\n1,2\n"},
            r"dvc\.yaml: plot 'a\.csv': field 'acc' is not in 'a\.csv'",
            "a.csv",
        ),
        (
            "plots:\n- cm:\n    template: confusion\n    y: {a.csv: p}\n",
            {"a.csv": "t,p\n1,2\n"},
            r"plot 'cm': the confusion template needs x and y",
            None,
        ),
        (
            "plots:\n- both:\n    x: {b.csv: t}\n    y: {a.csv: p}\n",
            {"a.csv": "t,p\n1,2\n"},
            r"plot 'both': x names file 'b\.csv', which y does not",
            None,
        ),
        (
            "plots:\n- ../outside.csv\n",
            {},
            r"plot '\.\./outside\.csv': data file '\.\./outside\.csv' is outside the repository",
            "../outside.csv",
        ),
        (
            "plots:\n- a.json:\n    y: p\n",
            {"a.json": '{"p": 1}'},
            r"plot 'a\.json': 'a\.json' holds no list of records",
            "a.json",
        ),
        (
            "plots:\n- a.json:\n    y: p\n",
            {"a.json": "[{"},
            r"plot 'a\.json': 'a\.json' cannot be parsed",
            "a.json",
        ),
    ],
)
def test_bad_plots_name_their_file_and_id(
    dvc_yaml: str, files: dict[str, str], message: str, source: str | None, make_project: Any
) -> None:
    root = make_project({"dvc.yaml": dvc_yaml, **files})
    with pytest.raises(PlotDefinitionError, match=message) as caught:
        Project(root).exp_plots(["workspace"], kind="dvc")
    assert caught.value.path == "dvc.yaml"
    assert caught.value.source == source


def test_a_plot_definition_dvc_refuses_is_a_pipeline_error(make_project: Any) -> None:
    root = make_project({"dvc.yaml": "plots:\n- a.csv:\n    colour: red\n"})
    with pytest.raises(PipelineError, match=r"unknown key 'colour' in plot 'a\.csv'"):
        Project(root).exp_plots(kind="dvc")


def test_a_plot_with_no_data_anywhere_is_left_out(make_project: Any) -> None:
    root = make_project({**FILES, "dvc.yaml": FILES["dvc.yaml"] + "plots:\n- later.csv\n"})
    assert Project(root).exp_plots(kind="dvc") == []


def test_a_revision_whose_data_lacks_the_field_draws_nothing(make_project: Any) -> None:
    root = make_project({"dvc.yaml": "plots:\n- a.csv:\n    y: acc\n", "a.csv": "x,loss\n1,2\n"})
    (root / "a.csv").write_text("x,acc\n1,0.5\n")
    (plot,) = Project(root).exp_plots(None, kind="dvc")
    assert series(plot) == {"workspace": [(0, 0.5)]}
