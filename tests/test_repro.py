"""`Project.repro` end to end on real Git repositories: what runs, what is skipped,
what is restored, and what happens on failure."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from jupyter_exp import Project
from jupyter_exp.core.lockfile import read_lockfile
from jupyter_exp.core.repo import Repo
from jupyter_exp.errors import (
    MissingDependencyError,
    MissingOutputError,
    MissingParamError,
    RepositoryLockedError,
    ReproductionFailedError,
    StageFailedError,
)
from jupyter_exp.events import StageRestored, StageSkipped, StageStarted

# Every stage command appends its name to $RUNLOG, so tests see what really ran.
PIPELINE = {
    "params.yaml": """
        prep:
          factor: 2
        train:
          lr: 0.1
          epochs: 3
        unused: 1
    """,
    "data": {"raw.txt": "1\n2\n3\n"},
    "dvc.yaml": """
        stages:
          prep:
            cmd: echo prep >> "$RUNLOG" && mkdir -p out && cp data/raw.txt out/a.txt
            deps:
            - data/raw.txt
            params:
            - prep.factor
            outs:
            - out
          train:
            cmd: >-
              echo train >> "$RUNLOG" && cp out/a.txt model.txt &&
              echo '{"acc": 1}' > metrics.json
            deps:
            - out
            params:
            - train
            outs:
            - model.txt
            metrics:
            - metrics.json:
                cache: false
    """,
}


class Runner:
    """Runs repro with a run log and records the events."""

    def __init__(self, root: Path, tmp: Path) -> None:
        self.root = root
        self.log = tmp / f"runlog-{root.name}"
        self.events: list = []

    def repro(self, *targets: str, **kwargs) -> list[str]:
        """Reproduce and return the stages whose commands ran, in order."""
        self.log.write_text("")
        self.events = []
        Project(self.root, on_event=self.events.append).repro(
            targets, env={"RUNLOG": str(self.log)}, **kwargs
        )
        return self.ran()

    def ran(self) -> list[str]:
        return self.log.read_text().split()

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
def project(make_project, tmp_path) -> Runner:
    return Runner(make_project(PIPELINE), tmp_path)


def test_first_run_runs_everything_and_records_the_lock(project: Runner):
    assert project.repro() == ["prep", "train"]
    lock = read_lockfile(Repo(project.root), "dvc.lock")
    assert list(lock) == ["prep", "train"]
    assert lock["train"].params == {"params.yaml": {"train": {"lr": 0.1, "epochs": 3}}}
    assert lock["prep"].outs["out"].md5.endswith(".dir")
    assert lock["prep"].outs["out"].nfiles == 1
    assert set(lock["train"].outs) == {"metrics.json", "model.txt"}
    ignored = (project.root / ".gitignore").read_text().splitlines()
    assert ignored == ["/out", "/model.txt"]


def test_second_run_is_a_no_op(project: Runner):
    project.repro()
    assert project.repro() == []
    assert [e.reason for e in project.of(StageSkipped)] == ["unchanged", "unchanged"]


def test_changed_dependency_reruns_it_and_downstream(project: Runner):
    project.repro()
    (project.root / "data/raw.txt").write_text("4\n")
    assert project.repro() == ["prep", "train"]


def test_downstream_only_when_its_input_changes(project: Runner):
    project.repro()
    params = project.root / "params.yaml"
    params.write_text(params.read_text().replace("epochs: 3", "epochs: 4"))
    assert project.repro() == ["train"]
    started = project.of(StageStarted)
    assert started[0].reasons == ("param 'train' modified in 'params.yaml'",)


def test_untracked_param_change_invalidates_nothing(project: Runner):
    project.repro()
    params = project.root / "params.yaml"
    params.write_text(params.read_text().replace("unused: 1", "unused: 2"))
    assert project.repro() == []


def test_run_cache_restores_a_signature_seen_before(project: Runner):
    project.repro()
    params = project.root / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("lr: 0.1", "lr: 0.2"))
    assert project.repro() == ["train"]
    params.write_text(original)
    assert project.repro() == []
    assert [(e.stage, e.source) for e in project.of(StageRestored)] == [("train", "run-cache")]
    assert (project.root / "metrics.json").read_text() == '{"acc": 1}\n'
    assert project.repro(run_cache=False, force=True) == ["prep", "train"]


def test_no_run_cache_runs_the_command(project: Runner):
    project.repro()
    params = project.root / "params.yaml"
    original = params.read_text()
    params.write_text(original.replace("lr: 0.1", "lr: 0.2"))
    project.repro()
    params.write_text(original)
    assert project.repro(run_cache=False) == ["train"]


def test_deleted_outputs_come_back_from_the_cache(project: Runner):
    project.repro()
    (project.root / "model.txt").unlink()
    (project.root / "out/a.txt").unlink()
    assert project.repro() == []
    assert sorted(e.stage for e in project.of(StageRestored)) == ["prep", "train"]
    assert (project.root / "model.txt").read_text() == "1\n2\n3\n"
    assert (project.root / "out/a.txt").exists()


def test_force_single_item_downstream_and_dry(project: Runner):
    project.repro()
    assert project.repro(force=True) == ["prep", "train"]
    assert project.repro("train", force=True, single_item=True) == ["train"]
    assert project.repro("prep", force=True, downstream=True) == ["prep", "train"]
    (project.root / "data/raw.txt").write_text("9\n")
    assert project.repro(dry=True) == []
    assert [e.stage for e in project.of(StageStarted)] == ["prep"]


def test_force_downstream_reruns_descendants_of_a_changed_stage(make_project, tmp_path):
    files = {
        "a.txt": "a",
        "dvc.yaml": """
            stages:
              one:
                cmd: echo one >> "$RUNLOG" && echo same > one.out
                deps: [a.txt]
                outs: [one.out]
              two:
                cmd: echo two >> "$RUNLOG" && cp one.out two.out
                deps: [one.out]
                outs: [two.out]
        """,
    }
    runner = Runner(make_project(files), tmp_path)
    runner.repro()
    (runner.root / "a.txt").write_text("b")
    assert runner.repro() == ["one"]  # one.out is byte-identical, so two is up to date
    (runner.root / "a.txt").write_text("c")
    assert runner.repro(force_downstream=True) == ["one", "two"]


def test_interactive_declines(project: Runner):
    asked: list[str] = []

    def ask(stage: str) -> bool:
        asked.append(stage)
        return stage == "prep"

    assert project.repro(interactive=ask) == ["prep"]
    assert asked == ["prep", "train"]


def test_failing_stage_keeps_earlier_results_and_reports_the_exit_code(make_project, tmp_path):
    files = dict(PIPELINE)
    files["dvc.yaml"] = PIPELINE["dvc.yaml"].replace(
        "cp out/a.txt model.txt", "echo partial > model.txt && exit 7"
    )
    runner = Runner(make_project(files), tmp_path)
    with pytest.raises(StageFailedError) as info:
        runner.repro()
    assert (info.value.stage, info.value.returncode) == ("train", 7)
    assert info.value.exit_code == 7
    lock = read_lockfile(Repo(runner.root), "dvc.lock")
    assert list(lock) == ["prep"]  # the half-written model.txt is not recorded
    with pytest.raises(StageFailedError):
        runner.repro()
    assert runner.ran() == ["train"]  # prep stays done


def test_keep_going_runs_independent_branches(make_project, tmp_path):
    files = {
        "dvc.yaml": """
            stages:
              bad:
                cmd: echo bad >> "$RUNLOG" && exit 3
                outs: [bad.out]
              after_bad:
                cmd: echo after_bad >> "$RUNLOG" && touch after.out
                deps: [bad.out]
                outs: [after.out]
              good:
                cmd: echo good >> "$RUNLOG" && touch good.out
                outs: [good.out]
              other_bad:
                cmd: echo other_bad >> "$RUNLOG" && exit 4
                outs: [other.out]
        """,
    }
    runner = Runner(make_project(files), tmp_path)
    with pytest.raises(ReproductionFailedError) as info:
        runner.repro(keep_going=True)
    assert runner.ran() == ["bad", "good", "other_bad"]
    assert info.value.stages == ["bad", "other_bad"]
    with pytest.raises(ReproductionFailedError):
        runner.repro(ignore_errors=True)
    assert "after_bad" in runner.ran()


def test_missing_dependency_fails_before_anything_runs(make_project, tmp_path):
    files = {
        "dvc.yaml": """
            stages:
              first:
                cmd: echo first >> "$RUNLOG" && touch first.out
                outs: [first.out]
              second:
                cmd: echo second >> "$RUNLOG"
                deps: [first.out, nowhere.csv]
                outs: [second.out]
        """,
    }
    runner = Runner(make_project(files), tmp_path)
    with pytest.raises(MissingDependencyError) as info:
        runner.repro()
    assert str(info.value) == "stage 'second': dependency 'nowhere.csv' does not exist"
    assert runner.ran() == []


def test_missing_params_key_fails_before_anything_runs(make_project, tmp_path):
    files = dict(PIPELINE)
    files["dvc.yaml"] = PIPELINE["dvc.yaml"].replace("- train\n", "- train.momentum\n")
    runner = Runner(make_project(files), tmp_path)
    with pytest.raises(MissingParamError) as info:
        runner.repro()
    assert info.value.key == "train.momentum"
    assert runner.ran() == []


def test_output_not_created_is_an_error(make_project, tmp_path):
    files = {"dvc.yaml": 'stages:\n  s:\n    cmd: echo s >> "$RUNLOG"\n    outs: [never.txt]\n'}
    runner = Runner(make_project(files), tmp_path)
    with pytest.raises(MissingOutputError) as info:
        runner.repro()
    assert str(info.value) == "stage 's': output 'never.txt' was not created by the command"
    assert read_lockfile(Repo(runner.root), "dvc.lock") == {}


def test_stage_environment_and_list_commands(make_project, tmp_path):
    files = {
        "dvc.yaml": """
            stages:
              env:
                cmd:
                - echo "$DVC_ROOT" > env.txt
                - echo "$DVC_STAGE" >> env.txt
                outs: [env.txt]
        """,
    }
    runner = Runner(make_project(files), tmp_path)
    runner.repro()
    lines = (runner.root / "env.txt").read_text().splitlines()
    assert lines == [str(runner.root.resolve()), "env"]


def test_persist_output_is_not_deleted_before_running(make_project, tmp_path):
    files = {
        "dvc.yaml": """
            stages:
              grow:
                cmd: echo x >> log.txt
                deps: [in.txt]
                outs:
                - log.txt:
                    persist: true
        """,
        "in.txt": "1",
    }
    runner = Runner(make_project(files), tmp_path)
    runner.repro()
    (runner.root / "in.txt").write_text("2")
    runner.repro()
    assert (runner.root / "log.txt").read_text() == "x\nx\n"


def test_second_repro_at_once_is_refused_with_a_clear_error(project: Runner):
    repo = Repo(project.root)
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with repo.lock():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    try:
        started = time.monotonic()
        with pytest.raises(RepositoryLockedError) as info:
            Project(project.root).repro()
        assert time.monotonic() - started < 10
        assert "locked" in str(info.value)
    finally:
        release.set()
        thread.join()
    assert project.repro() == ["prep", "train"]


def test_nested_pipeline_with_wdir_and_foreach(make_project, tmp_path):
    files = {
        "sub": {
            "params.yaml": "sizes: [1, 2]\n",
            "dvc.yaml": """
                stages:
                  gen:
                    foreach: ${sizes}
                    do:
                      cmd: echo gen-${item} >> "$RUNLOG" && echo ${item} > out-${item}.txt
                      outs:
                      - out-${item}.txt
            """,
        },
    }
    runner = Runner(make_project(files), tmp_path)
    assert runner.repro("sub/dvc.yaml") == ["gen-1", "gen-2"]
    lock = read_lockfile(Repo(runner.root), "sub/dvc.lock")
    assert list(lock) == ["gen@1", "gen@2"]
    assert (runner.root / "sub/out-2.txt").read_text() == "2\n"
    assert runner.repro("sub/dvc.yaml:gen@2", force=True) == ["gen-2"]
    assert Project(runner.root).status() == {}


def test_status_reports_like_dvc(project: Runner):
    project.repro()
    (project.root / "data/raw.txt").write_text("x\n")
    (project.root / "model.txt").unlink()
    params = project.root / "params.yaml"
    params.write_text(params.read_text().replace("epochs: 3", "epochs: 5"))
    assert Project(project.root).status() == {
        "prep": [{"changed deps": {"data/raw.txt": "modified"}}],
        "train": [
            {"changed deps": {"params.yaml": {"train": "modified"}}},
            {"changed outs": {"model.txt": "deleted"}},
        ],
    }


def test_tracked_data_source_is_restored_and_recommitted(make_project, tmp_path):
    files = {
        "dvc.yaml": """
            stages:
              use:
                cmd: echo use >> "$RUNLOG" && cp data.csv copy.csv
                deps: [data.csv]
                outs: [copy.csv]
        """,
        "data.csv": "a,b\n1,2\n",
    }
    runner = Runner(make_project(files), tmp_path)
    Project(runner.root).add(["data.csv"])
    assert runner.repro() == ["use"]
    (runner.root / "data.csv").unlink()
    assert runner.repro() == []
    assert (runner.root / "data.csv").read_text() == "a,b\n1,2\n"
    (runner.root / "data.csv").write_text("a,b\n3,4\n")
    assert runner.repro() == ["use"]
    assert "md5:" in (runner.root / "data.csv.dvc").read_text()
    assert Project(runner.root).status() == {}
