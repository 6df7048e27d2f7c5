"""dvc.lock reading and writing, checked against literal DVC output and against DVC itself."""

from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from jupyter_exp.core.lockfile import (
    dump_lock_yaml,
    lock_entry_from_dict,
    lock_entry_to_dict,
    read_lockfile,
    remove_lock_entries,
    write_lock_entries,
)
from jupyter_exp.core.objects import HashInfo, LockEntry
from jupyter_exp.core.repo import Repo
from jupyter_exp.core.yamlio import dump_yaml, load_yaml
from jupyter_exp.errors import PipelineSchemaError, PipelineSyntaxError

pytest_plugins = ["dvc_oracle"]

# Written by DVC 3.67 (`dvc repro` on a scratch project); kept literally.
DVC_LOCK = """\
schema: '2.0'
stages:
  z_first:
    cmd: "python -c \\"import sys, os; open('out/ä ö.txt', 'w').write('x')\\" && mkdir
      -p outdir && cp data/x outdir/ && echo \\"a very long command line that should
      wrap because it is longer than eighty characters: yes\\" > long.txt"
    deps:
    - path: data
      hash: md5
      md5: f62bf14ce8e66489b698d57f812b9f77.dir
      size: 4
      nfiles: 2
    - path: params.yaml
      hash: md5
      md5: e106054dfffec43a23c88fabf5c209e2
      size: 148
    params:
      params.yaml:
        lr: 0.001
        name: 'héllo: world'
        size: 3
        train:
          epochs: 10
          layers:
          - 1
          - 2
          - a: b
          zeta:
          alpha: yes
      other.yaml:
        a:
        - x
        - y
        b: 2
    outs:
    - path: long.txt
      hash: md5
      md5: bae2245eeec9e30e63a96bb617dbcb08
      size: 91
    - path: out/ä ö.txt
      hash: md5
      md5: 9dd4e461268c8034f5c8564e155c67a6
      size: 1
    - path: outdir
      hash: md5
      md5: aab41784c76ad7606d1268dea09ec286.dir
      size: 2
      nfiles: 1
  list:
    cmd:
    - echo 1 > l1.txt
    - 'echo "quoted: value" > l2.txt'
    - chmod +x l1.txt
    - 'echo {"acc": 1} > m.json'
    deps:
    - path: long.txt
      hash: md5
      md5: bae2245eeec9e30e63a96bb617dbcb08
      size: 91
    params:
      params.yaml:
        big: 12345678901234567890
        flag: true
      other.yaml:
        b: 2
    outs:
    - path: l1.txt
      hash: md5
      md5: b026324c6904b2a9cb4b88d6d61c81d1
      size: 2
      isexec: true
    - path: l2.txt
      hash: md5
      md5: cc67050986f7af5b4d62b503e1530c3c
      size: 14
    - path: m.json
      hash: md5
      md5: d3afceeffee9cba23bcc9e2576092e98
      size: 9
  multi:
    cmd: "echo one > multi.txt\\necho more >> multi.txt"
    outs:
    - path: multi.txt
      hash: md5
      md5: 15452f415f0a50b61ebe9506663bd0b8
      size: 9
"""

# A DVC 2 lock file: no `hash: md5`, so md5s are dos2unix ("md5-dos2unix") hashes.
DVC2_LOCK = """\
schema: '2.0'
stages:
  train:
    cmd: python train.py
    deps:
    - path: train.py
      md5: 0d2f3a8c61c8a4e3b2ad53dd5ab30b5e
      size: 120
    outs:
    - path: model
      md5: 3863d0e317dee0a55c4e59d2ec0eef33.dir
      size: 10
      nfiles: 2
"""


def shuffled(entry: LockEntry) -> LockEntry:
    """The same entry with every mapping in reverse insertion order."""
    return LockEntry(
        cmd=entry.cmd,
        deps=dict(reversed(entry.deps.items())),
        params={f: dict(reversed(v.items())) for f, v in reversed(entry.params.items())},
        outs=dict(reversed(entry.outs.items())),
    )


def test_missing_lockfile_reads_empty(tmp_path: Path) -> None:
    assert read_lockfile(Repo(tmp_path), "dvc.lock") == {}
    assert read_lockfile(Repo(tmp_path), "sub/dvc.lock") == {}


def test_reads_dvc3_lockfile(tmp_path: Path) -> None:
    (tmp_path / "dvc.lock").write_text(DVC_LOCK, encoding="utf-8")
    entries = read_lockfile(Repo(tmp_path), "dvc.lock")
    assert list(entries) == ["z_first", "list", "multi"]
    first = entries["z_first"]
    assert first.cmd.startswith("python -c \"import sys, os; open('out/ä ö.txt'")
    assert first.deps["data"] == HashInfo("f62bf14ce8e66489b698d57f812b9f77.dir", 4, 2)
    assert first.params["params.yaml"]["train"]["alpha"] == "yes"  # YAML 1.2: a string
    assert first.params["params.yaml"]["train"]["zeta"] is None
    assert first.params["params.yaml"]["lr"] == 0.001
    assert entries["list"].outs["l1.txt"].isexec is True
    assert entries["list"].params["params.yaml"]["big"] == 12345678901234567890
    assert entries["multi"].cmd == "echo one > multi.txt\necho more >> multi.txt"
    assert entries["multi"].deps == {} and entries["multi"].params == {}


def test_reads_dvc2_entries_as_legacy(tmp_path: Path) -> None:
    (tmp_path / "dvc.lock").write_text(DVC2_LOCK)
    entry = read_lockfile(Repo(tmp_path), "dvc.lock")["train"]
    assert entry.deps["train.py"].legacy is True
    assert entry.outs["model"] == HashInfo(
        "3863d0e317dee0a55c4e59d2ec0eef33.dir", 10, 2, legacy=True
    )
    # Written back unchanged: legacy entries keep their missing `hash` field.
    assert dump_yaml({"schema": "2.0", "stages": {"train": lock_entry_to_dict(entry)}}) == (
        DVC2_LOCK
    )


def test_write_reproduces_dvc_bytes_from_shuffled_entries(tmp_path: Path) -> None:
    (tmp_path / "dvc.lock").write_text(DVC_LOCK, encoding="utf-8")
    repo = Repo(tmp_path)
    entries = read_lockfile(repo, "dvc.lock")
    (tmp_path / "dvc.lock").unlink()
    for name, entry in entries.items():  # one stage at a time, as `dvc repro` dumps
        assert write_lock_entries(repo, "dvc.lock", {name: shuffled(entry)}) is True
    assert (tmp_path / "dvc.lock").read_text(encoding="utf-8") == DVC_LOCK
    (tmp_path / "dvc.lock").unlink()
    assert write_lock_entries(repo, "dvc.lock", {n: shuffled(e) for n, e in entries.items()})
    assert (tmp_path / "dvc.lock").read_text(encoding="utf-8") == DVC_LOCK


def test_lock_entry_to_dict_order() -> None:
    entry = LockEntry(
        cmd="run",
        deps={"b": HashInfo("2" * 32, 1), "a": HashInfo("1" * 32, 2, isexec=True)},
        params={
            "z.yaml": {"k": 1},
            "params.yaml": {"y": {"b": 1, "a": 2}, "x": [3, 1]},
            "a.json": {"q": None},
        },
        outs={"o/2": HashInfo("3" * 32 + ".dir", 5, 2), "o/1": HashInfo("4" * 32, 0)},
    )
    data = lock_entry_to_dict(entry)
    assert list(data) == ["cmd", "deps", "params", "outs"]
    assert [d["path"] for d in data["deps"]] == ["a", "b"]
    assert list(data["deps"][0]) == ["path", "hash", "md5", "size", "isexec"]
    assert list(data["params"]) == ["params.yaml", "a.json", "z.yaml"]
    assert list(data["params"]["params.yaml"]) == ["x", "y"]
    assert list(data["params"]["params.yaml"]["y"]) == ["b", "a"]  # nested: untouched
    assert data["params"]["params.yaml"]["x"] == [3, 1]
    assert [o["path"] for o in data["outs"]] == ["o/1", "o/2"]
    assert list(data["outs"][1]) == ["path", "hash", "md5", "size", "nfiles"]
    assert lock_entry_to_dict(LockEntry(cmd=["a", "b"])) == {"cmd": ["a", "b"]}


def test_write_keeps_other_stages_and_order(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    entry = LockEntry(cmd="one", outs={"o": HashInfo("a" * 32, 1)})
    assert write_lock_entries(repo, "dvc.lock", {"b": entry, "a": entry, "c": entry})
    changed = LockEntry(cmd="two", outs={"o": HashInfo("b" * 32, 1)})
    assert write_lock_entries(repo, "dvc.lock", {"a": changed, "new": entry})
    data = load_yaml((tmp_path / "dvc.lock").read_text())
    assert list(data) == ["schema", "stages"]
    assert data["schema"] == "2.0"
    assert list(data["stages"]) == ["b", "a", "c", "new"]
    assert data["stages"]["a"]["cmd"] == "two"
    assert (tmp_path / "dvc.lock").read_text().startswith("schema: '2.0'\nstages:\n  b:\n")


def test_write_without_change_writes_nothing(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    entry = LockEntry(cmd="x", deps={"d": HashInfo("c" * 32, 3)}, params={"p.yaml": {"a": 1}})
    (tmp_path / "sub").mkdir()
    assert write_lock_entries(repo, "sub/dvc.lock", {"s": entry}) is True
    path = tmp_path / "sub" / "dvc.lock"
    os.utime(path, (1_000_000, 1_000_000))
    assert write_lock_entries(repo, "sub/dvc.lock", {"s": shuffled(entry)}) is False
    assert path.stat().st_mtime == 1_000_000
    assert write_lock_entries(repo, "sub/dvc.lock", {}) is False
    assert sorted(p.name for p in path.parent.iterdir()) == ["dvc.lock"]  # no temp files


def test_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        (tmp_path / "sub").mkdir()
        write_lock_entries(Repo(tmp_path), "sub/dvc.lock", {"s": LockEntry(cmd="x")})
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "sub" / "dvc.lock").stat().st_mode)
    assert mode == 0o644
    assert (tmp_path / "sub" / "dvc.lock").read_text() == (
        "schema: '2.0'\nstages:\n  s:\n    cmd: x\n"
    )


def test_file_without_schema_gets_it_appended_not_prepended(tmp_path: Path) -> None:
    # DVC puts `schema` first only in a new file; `stages` goes after existing keys.
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\n")
    assert read_lockfile(Repo(tmp_path), "dvc.lock") == {}
    write_lock_entries(Repo(tmp_path), "dvc.lock", {"s": LockEntry(cmd="x")})
    assert (tmp_path / "dvc.lock").read_text() == "schema: '2.0'\nstages:\n  s:\n    cmd: x\n"


def test_hand_edited_file_keeps_comments_and_layout(tmp_path: Path) -> None:
    # DVC updates lock files with ruamel's round trip: comments and flow style survive.
    text = textwrap.dedent(
        """\
        schema: '2.0'
        # kept
        stages:
          a:
            cmd: one   # trailing
            outs: [{path: o, hash: md5, md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, size: 1}]
          b:
            cmd: two
        """
    )
    (tmp_path / "dvc.lock").write_text(text)
    repo = Repo(tmp_path)
    assert read_lockfile(repo, "dvc.lock")["a"].outs["o"].md5 == "a" * 32
    assert write_lock_entries(repo, "dvc.lock", {"b": LockEntry(cmd="three")})
    assert (tmp_path / "dvc.lock").read_text() == text.replace("cmd: two", "cmd: three")


def test_remove_entries(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    entry = LockEntry(cmd="x")
    write_lock_entries(repo, "dvc.lock", {"a": entry, "b": entry, "c": entry})
    assert remove_lock_entries(repo, "dvc.lock", ["b", "missing"]) is True
    assert list(read_lockfile(repo, "dvc.lock")) == ["a", "c"]
    assert remove_lock_entries(repo, "dvc.lock", ["zzz"]) is False
    assert remove_lock_entries(repo, "dvc.lock", ["a", "c"]) is True
    assert not (tmp_path / "dvc.lock").exists()  # DVC deletes a lock with no stage left
    assert remove_lock_entries(repo, "dvc.lock", ["a"]) is False


@pytest.mark.parametrize(
    ("text", "error", "line", "needle"),
    [
        ("schema: '2.0'\nstages: [\n", PipelineSyntaxError, 3, "invalid YAML"),
        ("a:\n  cmd: x\n", PipelineSchemaError, 1, "'schema' not provided (a DVC 1"),
        ("stages: {}\n", PipelineSchemaError, 1, "'schema'"),
        ("", PipelineSchemaError, 1, "'schema'"),  # DVC refuses an empty dvc.lock too
        ("schema: '2.0'\nstages: {}\nextra: 1\n", PipelineSchemaError, 3, "'extra'"),
        ("schema: '2.0'\nstages:\n", PipelineSchemaError, 2, "'stages'"),
        ("schema: '3.0'\nstages: {}\n", PipelineSchemaError, 1, "schema version"),
        ("schema: 2.0\nstages: {}\n", PipelineSchemaError, 1, "schema version"),
        ("schema: '2.0'\nstages: [a]\n", PipelineSchemaError, 2, "'stages'"),
        ("- a\n", PipelineSchemaError, 1, "mapping"),
        ("schema: '2.0'\nstages:\n  a:\n    cmd: x\n    foo: 1\n", PipelineSchemaError, 5, "foo"),
        ("schema: '2.0'\nstages:\n  a:\n    deps: []\n", PipelineSchemaError, 3, "'cmd'"),
        (
            "schema: '2.0'\nstages:\n  a:\n    cmd: x\n    outs:\n    - md5: abc\n",
            PipelineSchemaError,
            6,
            "'path'",
        ),
        (
            "schema: '2.0'\nstages:\n  a:\n    cmd: x\n    params:\n      p.yaml: [1]\n",
            PipelineSchemaError,
            6,
            "params",
        ),
        (
            "schema: '2.0'\nstages:\n  a:\n    cmd: x\n    deps:\n    - path: a\n      bad: 1\n",
            PipelineSchemaError,
            7,
            "bad",
        ),
    ],
)
def test_malformed_lockfile_errors(
    tmp_path: Path, text: str, error: type[Exception], line: int, needle: str
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "dvc.lock").write_text(text)
    with pytest.raises(error) as info:
        read_lockfile(Repo(tmp_path), "sub/dvc.lock")
    assert info.value.path == "sub/dvc.lock"
    assert info.value.line == line
    assert needle in str(info.value)
    assert str(info.value).startswith(f"sub/dvc.lock:{line}: ")
    with pytest.raises(error):  # a write never clobbers a file DVC could not read
        write_lock_entries(Repo(tmp_path), "sub/dvc.lock", {"a": LockEntry(cmd="x")})
    assert (tmp_path / "sub" / "dvc.lock").read_text() == text


def test_md5_is_lower_cased_and_digits_only_md5_read_as_text() -> None:
    entry = lock_entry_from_dict(
        {"cmd": "x", "outs": [{"path": "o", "md5": "ABCDEF"}, {"path": "p", "md5": 123456}]}
    )
    assert entry.outs["o"].md5 == "abcdef"
    assert entry.outs["p"].md5 == "123456"


# --- property tests: our dumper vs DVC's ---------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=120)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _text
    | st.sampled_from(["yes", "no", "on", "1e3", "0x1f", "010", "1_000", "~", "null", ""])
)
_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=12,
)
_cmds = _text.filter(bool) | st.lists(_text.filter(bool), min_size=1, max_size=3)
_md5 = st.text("0123456789abcdef", min_size=32, max_size=32)
_hashes = st.builds(
    HashInfo,
    md5=_md5 | _md5.map(lambda m: m + ".dir"),
    size=st.none() | st.integers(0, 2**40),
    nfiles=st.none() | st.integers(0, 10**6),
    isexec=st.booleans(),
    legacy=st.booleans(),
)
_paths = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
_entries = st.builds(
    LockEntry,
    cmd=_cmds,
    deps=st.dictionaries(_paths, _hashes, max_size=3),
    params=st.dictionaries(
        st.sampled_from(["params.yaml", "a.json", "z.toml", "sub/p.yaml"]),
        st.dictionaries(_text, _values, max_size=4),
        max_size=3,
    ),
    outs=st.dictionaries(_paths, _hashes, max_size=3),
)
_lockfiles = st.dictionaries(_text.filter(bool), _entries, min_size=1, max_size=3)

_DVC_DUMPS = """
import json, sys
from dvc.utils.serialize import dumps_yaml
docs = json.loads(sys.stdin.read())
print(json.dumps([dumps_yaml(doc) for doc in docs]))
"""


def _lock_doc(entries: dict[str, LockEntry]) -> dict:
    return {"schema": "2.0", "stages": {n: lock_entry_to_dict(e) for n, e in entries.items()}}


def _collect(strategy: st.SearchStrategy, count: int) -> list:
    """``count`` examples drawn by Hypothesis, so one oracle subprocess checks them all."""
    found: list = []

    @settings(
        max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(strategy)
    def draw(example: object) -> None:
        found.append(example)

    draw()
    return found


@pytest.mark.oracle
def test_dump_matches_dvc_dumper() -> None:
    from dvc_oracle import run_dvc_python

    docs = [_lock_doc(entries) for entries in _collect(_lockfiles, 150)]
    theirs = json.loads(run_dvc_python(_DVC_DUMPS, json.dumps(docs)))
    failures = [
        (doc, mine, expected)
        for doc, mine, expected in zip(docs, map(dump_lock_yaml, docs), theirs, strict=True)
        if mine != expected
    ]
    assert not failures, min(failures, key=lambda f: len(f[2]))


_DVC_DUMP_STAGES = """
import json, sys, types
from dvc import dvcfile
from dvc.fs import LocalFileSystem

# DVC's own Lockfile.dump_stages, fed with our serialised entries.
payload = {}
dvcfile.serialize.to_lockfile = lambda stage, **kw: {stage.name: payload[stage.name]}
repo = types.SimpleNamespace(
    fs=LocalFileSystem(), scm_context=types.SimpleNamespace(track_file=lambda p: None)
)
for case in json.loads(sys.stdin.read()):
    payload = case["updates"]
    stages = [types.SimpleNamespace(name=n) for n in payload]
    dvcfile.Lockfile(repo, case["path"]).dump_stages(stages)
"""


@pytest.mark.oracle
def test_update_matches_dvc_lockfile_dump(tmp_path: Path) -> None:
    """Our write_lock_entries against DVC's Lockfile.dump_stages on the same old file."""
    from dvc_oracle import run_dvc_python

    batch = _collect(
        st.tuples(st.none() | _lockfiles, _lockfiles, st.sampled_from(["", "# note\n"])), 100
    )
    repo = Repo(tmp_path)
    cases = []
    for index, (old, updates, comment) in enumerate(batch):
        # Some updates reuse existing names, so replacement in place is exercised too.
        if old:
            updates = {**dict(list(old.items())[:1]), **updates}
        for side in ("ours", "dvc"):
            folder = tmp_path / f"{index}-{side}"
            folder.mkdir()
            if old is not None:
                text = comment + dump_lock_yaml(_lock_doc(old))
                (folder / "dvc.lock").write_text(text, encoding="utf-8")
        write_lock_entries(repo, f"{index}-ours/dvc.lock", updates)
        cases.append(
            {
                "path": str(tmp_path / f"{index}-dvc" / "dvc.lock"),
                "updates": {n: lock_entry_to_dict(e) for n, e in updates.items()},
            }
        )
    run_dvc_python(_DVC_DUMP_STAGES, json.dumps(cases))
    for index in range(len(batch)):
        ours = (tmp_path / f"{index}-ours" / "dvc.lock").read_text(encoding="utf-8")
        theirs = (tmp_path / f"{index}-dvc" / "dvc.lock").read_text(encoding="utf-8")
        assert ours == theirs, batch[index]


def test_rewrite_keeps_dvc_float_quirk(tmp_path: Path) -> None:
    # ruamel's round trip (used by DVC for every lock update) re-renders this float of
    # the *other* stage with a different last digit; byte identity means we do too.
    repo = Repo(tmp_path)
    write_lock_entries(
        repo, "dvc.lock", {"a": LockEntry(cmd="x", params={"p.yaml": {"f": 5e-324}})}
    )
    assert "f: 5e-324\n" in (tmp_path / "dvc.lock").read_text()
    write_lock_entries(repo, "dvc.lock", {"b": LockEntry(cmd="y")})
    assert "f: 4e-324\n" in (tmp_path / "dvc.lock").read_text()


def test_aliases_inside_a_params_file_only() -> None:
    shared = {"lr": 1}
    entry = LockEntry(cmd="x", params={"params.yaml": {"base": shared, "x": shared}})
    text = dump_lock_yaml(_lock_doc({"a": entry, "b": entry}))
    # Like DVC: an anchor per stage, never an alias from one stage into another.
    assert text.count("&id00") == 2 and text.count("*id00") == 2
    assert "base: &id001" in text and "base: &id002" in text


@settings(max_examples=60, deadline=None)
@given(_lockfiles)
def test_reader_reads_what_writer_wrote(entries: dict[str, LockEntry]) -> None:
    text = dump_lock_yaml(_lock_doc(entries))
    # ruamel writes NEL/LS/PS raw inside quotes, and every YAML reader (ruamel's and
    # DVC's too) folds them into spaces: such strings do not survive in DVC either.
    assume(not any(c in text for c in "\x85\u2028\u2029"))
    again = {n: lock_entry_to_dict(e) for n, e in _read_text(text).items()}
    assert dump_lock_yaml({"schema": "2.0", "stages": again}) == text


def _read_text(text: str) -> dict[str, LockEntry]:
    data = load_yaml(text)
    return {n: lock_entry_from_dict(raw, name=n, text=text) for n, raw in data["stages"].items()}


# --- against `dvc repro` -------------------------------------------------------------------

REPRO_PROJECT = {
    "data": {"x": "a\n", "y": "b\n"},
    "params.yaml": """\
        lr: 0.001
        eps: 2.851635673793205e+16
        size: 3
        train:
          epochs: 10
          layers: [1, 2, {a: b}]
          zeta: null
          alpha: yes
        name: "héllo: world"
        flag: true
        big: 12345678901234567890
        """,
    "other.yaml": "b: 2\na: [x, y]\n",
    "sub": {"params.yaml": "k: v\nn: [1.5, .inf]\n"},
    "dvc.yaml": """\
        stages:
          z_first:
            cmd: >-
              python -c "import os; os.makedirs('out', exist_ok=True);
              open('out/ä ö.txt', 'w').write('x')" && mkdir -p outdir && cp data/x outdir/
              && echo "a very long command line that should wrap because it is longer
              than eighty characters: yes" > long.txt
            deps: [data, other.yaml]
            params:
            - train
            - lr
            - size
            - other.yaml:
            - name
            outs: [out/ä ö.txt, outdir, long.txt]
          list:
            cmd:
            - echo 1 > l1.txt
            - 'echo "quoted: value" > l2.txt'
            - chmod +x l1.txt
            - 'echo {"acc": 1} > m.json'
            deps: [long.txt]
            params:
            - other.yaml: [b]
            - big
            - flag
            outs: [l1.txt, l2.txt]
            metrics:
            - m.json:
                cache: false
          multi:
            cmd: "echo one > multi.txt\\necho 'two: 2' >> multi.txt"
            params: [eps]
            outs: [multi.txt]
        """,
    "sub/dvc.yaml": """\
        stages:
          s:
            wdir: ..
            cmd: cat data/x > sub/s.txt
            deps: [data/x]
            params:
            - sub/params.yaml:
            outs: [sub/s.txt]
        """,
}


def _ran_stages(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


@pytest.mark.oracle
def test_rewriting_dvc_repro_lockfiles_is_byte_identical(make_project, dvc) -> None:
    root = make_project(REPRO_PROJECT)
    dvc(root, "init", "-q")
    dvc(root, "repro", "-P")
    repo = Repo(root)
    for lock in ("dvc.lock", "sub/dvc.lock"):
        expected = (root / lock).read_text(encoding="utf-8")
        entries = read_lockfile(repo, lock)
        (root / lock).unlink()
        for name, entry in entries.items():
            write_lock_entries(repo, lock, {name: shuffled(entry)})
        assert (root / lock).read_text(encoding="utf-8") == expected

    # An update of an existing (here hand-commented) file: the stages DVC re-ran, written
    # in its order into the old file, give DVC's new file.
    before = "# edited by hand\n" + (root / "dvc.lock").read_text(encoding="utf-8")
    (root / "dvc.lock").write_text(before, encoding="utf-8")
    params = (root / "params.yaml").read_text(encoding="utf-8")
    (root / "params.yaml").write_text(params.replace("flag: true", "flag: false"))
    ran = _ran_stages(dvc(root, "repro").stdout)
    assert ran == ["list"]
    after = (root / "dvc.lock").read_text(encoding="utf-8")
    assert "eps: 2.851635673793204e+16" in after  # DVC's round trip changed another stage
    new = read_lockfile(repo, "dvc.lock")
    (root / "dvc.lock").write_text(before, encoding="utf-8")
    for name in ran:
        assert write_lock_entries(repo, "dvc.lock", {name: shuffled(new[name])})
    assert (root / "dvc.lock").read_text(encoding="utf-8") == after
