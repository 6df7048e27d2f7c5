"""The run-cache: DVC's keys, layout and record format; lookups and corrupt records."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from jupyter_exp.core.lockfile import (
    dump_lock_yaml,
    lock_entry_to_dict,
    read_lockfile,
)
from jupyter_exp.core.objects import HashInfo, LockEntry
from jupyter_exp.core.pipeline.model import Dependency, Output, ParamsDependency, Stage
from jupyter_exp.core.repo import Repo
from jupyter_exp.core.runcache import RunCache, is_cacheable

pytest_plugins = ["dvc_oracle"]

# `dvc repro` of one stage (DVC 3.67): its lock entry and the run-cache file it wrote.
DVC_ENTRY = LockEntry(
    cmd="echo hi > a.txt",
    deps={"params.yaml": HashInfo("78a3bb7b0c5aa64f491058ea8199e4c9", 5)},
    params={"params.yaml": {"x": 1}},
    outs={"a.txt": HashInfo("764efa883dda1e11db47671c4a3bbd9e", 3)},
)
DVC_KEY = "5817641ed4fd7979e2ac51754f7a0ed0e4aa8e40442b603571f1b763bc3072fa"
DVC_VALUE = "872722a8f5ed3508e511ed3128d7d44206ad63ed63525e5bb95222415976f6bf"


def without_outs(entry: LockEntry) -> LockEntry:
    return LockEntry(cmd=entry.cmd, deps=entry.deps, params=entry.params)


def test_key_and_value_equal_dvcs(tmp_path: Path) -> None:
    cache = RunCache(Repo(tmp_path))
    assert cache.key(DVC_ENTRY) == DVC_KEY
    assert cache.value(DVC_ENTRY) == DVC_VALUE
    assert cache.record_path(DVC_KEY, DVC_VALUE) == (
        tmp_path / ".dvc" / "cache" / "runs" / "58" / DVC_KEY / DVC_VALUE
    )


def test_key_ignores_output_hashes_and_sizes_everywhere() -> None:
    other_out = LockEntry(
        cmd=DVC_ENTRY.cmd,
        deps=DVC_ENTRY.deps,
        params=DVC_ENTRY.params,
        outs={"a.txt": HashInfo("0" * 32, 99)},
    )
    assert RunCache.key(other_out) == DVC_KEY
    assert RunCache.value(other_out) != DVC_VALUE
    resized = LockEntry(
        cmd=DVC_ENTRY.cmd,
        deps={"params.yaml": HashInfo("78a3bb7b0c5aa64f491058ea8199e4c9", 12345, nfiles=3)},
        params=DVC_ENTRY.params,
        outs={"a.txt": HashInfo("764efa883dda1e11db47671c4a3bbd9e", None)},
    )
    assert (RunCache.key(resized), RunCache.value(resized)) == (DVC_KEY, DVC_VALUE)
    # DVC's dict_filter drops *every* key named size/nfiles, params included.
    a = LockEntry(cmd="x", params={"params.yaml": {"size": 1, "m": [{"nfiles": 1, "k": 2}]}})
    b = LockEntry(cmd="x", params={"params.yaml": {"size": 2, "m": [{"nfiles": 7, "k": 2}]}})
    assert RunCache.key(a) == RunCache.key(b)
    c = LockEntry(cmd="x", params={"params.yaml": {"size": 1, "m": [{"nfiles": 1, "k": 3}]}})
    assert RunCache.key(a) != RunCache.key(c)
    assert RunCache.key(LockEntry(cmd="y", params=a.params)) != RunCache.key(a)


def test_save_writes_dvc_record_once(tmp_path: Path) -> None:
    cache = RunCache(Repo(tmp_path))
    assert cache.save(DVC_ENTRY) is True
    path = cache.record_path(DVC_KEY, DVC_VALUE)
    assert path.read_text() == dump_lock_yaml(lock_entry_to_dict(DVC_ENTRY))
    assert path.read_text().startswith("cmd: echo hi > a.txt\ndeps:\n- path: params.yaml\n")
    os.utime(path, (1_000_000, 1_000_000))
    assert cache.save(DVC_ENTRY) is False
    assert path.stat().st_mtime == 1_000_000
    assert sorted(p.name for p in path.parent.iterdir()) == [DVC_VALUE]  # no temp file


def test_lookup(tmp_path: Path) -> None:
    cache = RunCache(Repo(tmp_path))
    probe = without_outs(DVC_ENTRY)
    assert cache.lookup(probe, ["a.txt"]) is None  # no runs dir at all
    cache.save(DVC_ENTRY)
    assert cache.lookup(probe, ["a.txt"]) == DVC_ENTRY
    assert cache.lookup(probe, ["b.txt"]) is None
    assert cache.lookup(probe, ["a.txt", "b.txt"]) is None
    changed = LockEntry(cmd=probe.cmd, deps=probe.deps, params={"params.yaml": {"x": 2}})
    assert cache.lookup(changed, ["a.txt"]) is None


def test_lookup_takes_newest_and_out_path_order_is_irrelevant(tmp_path: Path) -> None:
    cache = RunCache(Repo(tmp_path))
    old = LockEntry(cmd="c", deps={"d": HashInfo("1" * 32, 1)}, outs={"o": HashInfo("2" * 32)})
    old.outs["p"] = HashInfo("3" * 32)
    new = LockEntry(cmd="c", deps=old.deps, outs={"o": HashInfo("4" * 32), "p": old.outs["p"]})
    cache.save(old)
    cache.save(new)
    key = cache.key(old)
    os.utime(cache.record_path(key, cache.value(old)), (2_000_000, 2_000_000))
    os.utime(cache.record_path(key, cache.value(new)), (1_000_000, 1_000_000))
    assert cache.lookup(without_outs(old), ["p", "o"]) == old
    os.utime(cache.record_path(key, cache.value(new)), (3_000_000, 3_000_000))
    assert cache.lookup(without_outs(old), ["o", "p"]) == new


@pytest.mark.parametrize(
    "content",
    [b"cmd: [unclosed\n", b"deps: []\n", b"- a\n", b"", b"\xff\xfe", b"cmd: x\nbad: 1\n"],
)
def test_corrupt_newest_record_is_removed_and_misses(tmp_path: Path, content: bytes) -> None:
    cache = RunCache(Repo(tmp_path))
    cache.save(DVC_ENTRY)
    corrupt = cache.record_path(DVC_KEY, "f" * 64)
    corrupt.write_bytes(content)
    os.utime(corrupt, (4_000_000_000, 4_000_000_000))
    assert cache.lookup(without_outs(DVC_ENTRY), ["a.txt"]) is None  # as DVC: no fallback
    assert not corrupt.exists()
    assert cache.lookup(without_outs(DVC_ENTRY), ["a.txt"]) == DVC_ENTRY


def test_corrupt_record_is_replaced_on_save(tmp_path: Path) -> None:
    cache = RunCache(Repo(tmp_path))
    path = cache.record_path(DVC_KEY, DVC_VALUE)
    path.parent.mkdir(parents=True)
    path.write_text("cmd: [\n")
    assert cache.save(DVC_ENTRY) is True
    assert cache.lookup(without_outs(DVC_ENTRY), ["a.txt"]) == DVC_ENTRY


def test_values_json_cannot_encode_are_not_cached(tmp_path: Path) -> None:
    cache = RunCache(Repo(tmp_path))
    entry = LockEntry(
        cmd="x",
        params={"params.yaml": {"when": datetime.date(2024, 1, 2)}},
        outs={"o": HashInfo("1" * 32)},
    )
    assert cache.save(entry) is False
    assert cache.lookup(without_outs(entry), ["o"]) is None


def test_runs_dir_follows_cache_dir_config(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text("[cache]\n    dir = ../elsewhere\n")
    cache = RunCache(Repo(tmp_path))
    cache.save(DVC_ENTRY)
    assert (tmp_path / "elsewhere" / "runs" / "58" / DVC_KEY / DVC_VALUE).is_file()


def _stage(**kwargs: object) -> Stage:
    base: dict[str, object] = {
        "name": "s",
        "dvcfile": "dvc.yaml",
        "cmd": "run",
        "deps": (Dependency("in", "in"),),
        "outs": (Output("out", "out"),),
    }
    base.update(kwargs)
    return Stage(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        (_stage(), True),
        (_stage(cmd=["a", "b"]), True),
        (_stage(deps=(), params=(ParamsDependency("params.yaml", "params.yaml", ("x",)),)), True),
        (_stage(outs=(Output("m.json", "m.json", kind="metric", cache=False),)), True),
        (_stage(cmd=None), False),
        (_stage(cmd=""), False),
        (_stage(deps=()), False),
        (_stage(outs=()), False),
        (_stage(always_changed=True), False),
        (_stage(outs=(Output("out", "out", persist=True),)), False),
        (_stage(outs=(Output("../out", "../out"),)), False),
        (_stage(deps=(Dependency("s3://bucket/x", "s3://bucket/x"),)), False),
        (_stage(outs=(Output("remote://r/x", "remote://r/x"),)), False),
    ],
)
def test_is_cacheable(stage: Stage, expected: bool) -> None:
    assert is_cacheable(stage) is expected


# --- against DVC ---------------------------------------------------------------------------

PROJECT = {
    "data": {"a.txt": "a\n", "b": {"c.txt": "c\n"}},
    "params.yaml": """\
        prep:
          size: 10
          nfiles: 2
          ratio: 0.25
        seed: 7
        """,
    "other.yaml": "b: 2\n",
    "dvc.yaml": """\
        stages:
          prep:
            cmd: mkdir -p prepared && cp -r data/* prepared/ && echo done > prep.txt
            deps: [data]
            params: [prep, seed]
            outs: [prepared, prep.txt]
          train:
            cmd: >-
              cat prep.txt > model.txt && echo '{"acc": 0.5}' > m.json
            deps: [prepared, prep.txt]
            params:
            - other.yaml:
            outs: [model.txt]
            metrics:
            - m.json:
                cache: false
          persist:
            cmd: echo p >> p.txt
            deps: [prep.txt]
            outs:
            - p.txt:
                persist: true
          always:
            cmd: echo a > always.txt
            deps: [prep.txt]
            outs: [always.txt]
            always_changed: true
          nodeps:
            cmd: echo n > n.txt
            outs: [n.txt]
        """,
    "sub": {
        "dvc.yaml": """\
            stages:
              s:
                wdir: ..
                cmd: cat data/a.txt > sub/s.txt
                deps: [data/a.txt]
                outs: [sub/s.txt]
            """
    },
}
CACHEABLE = {"dvc.lock": ["prep", "train"], "sub/dvc.lock": ["s"]}


def _records(repo: Repo) -> set[Path]:
    runs = repo.cache_dir / "runs"
    return {p for p in runs.rglob("*") if p.is_file()} if runs.exists() else set()


@pytest.mark.oracle
def test_dvc_run_cache_has_our_keys_and_records(make_project, dvc) -> None:
    root = make_project(PROJECT)
    dvc(root, "init", "-q")
    dvc(root, "repro", "-P")
    repo = Repo(root)
    cache = RunCache(repo)
    expected: dict[Path, LockEntry] = {}
    for lock, names in CACHEABLE.items():
        entries = read_lockfile(repo, lock)
        assert set(names) <= set(entries)
        for name in names:
            entry = entries[name]
            expected[cache.record_path(cache.key(entry), cache.value(entry))] = entry
            # Our lookup finds DVC's record from the inputs alone.
            assert cache.lookup(without_outs(entry), list(entry.outs)) == entry
    assert _records(repo) == set(expected)  # and none for persist/always/no-deps stages
    for path, entry in expected.items():
        assert path.read_text(encoding="utf-8") == dump_lock_yaml(lock_entry_to_dict(entry))


@pytest.mark.oracle
def test_dvc_restores_from_our_records(make_project, dvc) -> None:
    root = make_project(PROJECT)
    dvc(root, "init", "-q")
    dvc(root, "repro", "-P")
    repo = Repo(root)
    cache = RunCache(repo)
    original = read_lockfile(repo, "dvc.lock")["train"]
    dvc_records = {p: p.read_bytes() for p in _records(repo)}
    # Replace DVC's records by ours, written from the lock entries alone.
    for path in dvc_records:
        path.unlink()
    for lock, names in CACHEABLE.items():
        entries = read_lockfile(repo, lock)
        for name in names:
            assert cache.save(entries[name]) is True
    assert {p: p.read_bytes() for p in _records(repo)} == dvc_records

    # Another value of the params: DVC runs `train` again; back to the old value, DVC
    # must take the outputs from our record instead of running.
    (root / "other.yaml").write_text("b: 3\n")
    assert "Running stage 'train'" in dvc(root, "repro", "train").stdout
    (root / "other.yaml").write_text("b: 2\n")
    out = dvc(root, "repro", "train").stdout
    assert "Stage 'train' is cached - skipping run, checking out outputs" in out
    assert "Running stage 'train'" not in out
    assert read_lockfile(repo, "dvc.lock")["train"] == original
