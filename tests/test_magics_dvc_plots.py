"""``%exp_plots dvc``: the plots of dvc.yaml for the experiments ``%exp_show`` selects."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from plots_project import PLOTS_FILES, loss_at

from jupyter_exp.ipython.plots import VEGALITE_MIME, Chart, Charts


@pytest.fixture
def ip() -> Any:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_exp")
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_exp")


def test_dvc_plots_of_the_selected_experiments(
    ip: Any, make_project: Any, in_dir: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    in_dir(make_project(PLOTS_FILES))
    ip.run_line_magic("exp_run", "-n fast -S train.lr=0.3")
    ip.run_line_magic("exp_run", "-n slow -S train.lr=0.1")
    charts = ip.run_line_magic("exp_plots", "dvc --hide-workspace")
    assert isinstance(charts, Charts)
    assert [c.title for c in charts] == ["acc-curve", "logs.csv", "preds.json"]
    logs = charts[1]
    lines = {}
    for record in logs.spec["data"]["values"]:
        lines.setdefault(record["series"], []).append(record["y"])
    assert lines == {"fast": loss_at(0.3), "slow": loss_at(0.1)}  # the baseline never ran
    bundle = logs._repr_mimebundle_()
    assert bundle[VEGALITE_MIME]["title"] == "logs.csv"
    assert bundle["image/svg+xml"].startswith("<svg")

    # Only the plots named; the cell shows each chart as its own output.
    only = ip.run_line_magic("exp_plots", "dvc preds.json")
    assert [c.title for c in only] == ["preds.json"]
    shown: list[Any] = []
    ip.display_pub.publish = lambda data, **kwargs: shown.append(data)
    try:
        ip.run_cell("%exp_plots dvc --hide-workspace")  # the cell's value
    finally:
        del ip.display_pub.publish
    assert [d[VEGALITE_MIME]["title"] for d in shown] == ["acc-curve", "logs.csv", "preds.json"]
    assert all(isinstance(c, Chart) for c in charts)

    with pytest.raises(UsageError, match=r"no plot named 'nope\.csv'"):
        ip.run_line_magic("exp_plots", "dvc nope.csv")


def test_no_plots_says_so(
    ip: Any, make_project: Any, in_dir: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from exp_project import FILES

    in_dir(make_project(FILES))
    charts = ip.run_line_magic("exp_plots", "dvc")
    assert list(charts) == []
    assert "No plot of dvc.yaml has data" in capsys.readouterr().out
