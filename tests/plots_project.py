"""The experiment project of :mod:`exp_project` with plots: in its ``dvc.yaml``.

``train`` also writes ``logs.csv`` (``step,loss,acc``: a cached stage plot, y ``loss``)
and ``preds.json`` (``{"test": [{actual, predicted}...]}``: an uncached confusion plot;
predictions are right when ``train.lr <= 0.2``, one class off otherwise). The top-level
``acc-curve`` plot draws ``acc`` and ``loss`` of ``logs.csv`` smoothed.
"""

from __future__ import annotations

from exp_project import DVC_YAML, FILES, TRAIN_PY

PLOTS_TRAIN_PY = (
    TRAIN_PY
    + """
lr = params["lr"]
with open("logs.csv", "w") as f:
    f.write("step,loss,acc\\n")
    for i in range(4):
        f.write(f"{i},{round(lr / (i + 1), 4)},{round(0.5 + i * lr / 10, 4)}\\n")
with open("preds.json", "w") as f:
    shift = 1 if lr > 0.2 else 0
    rows = [{"actual": a, "predicted": (a + shift) % 3} for a in (0, 1, 2, 0, 1, 2)]
    json.dump({"test": rows}, f)
"""
)

PLOTS_DVC_YAML = DVC_YAML.replace(
    """    metrics:
    - metrics.json:
        cache: false
""",
    """    metrics:
    - metrics.json:
        cache: false
    plots:
    - logs.csv:
        y: loss
    - preds.json:
        cache: false
        template: confusion
        x: actual
        y: predicted
plots:
- acc-curve:
    template: smooth
    x: step
    y:
      logs.csv: [acc, loss]
""",
)

PLOTS_FILES = {**FILES, "train.py": PLOTS_TRAIN_PY, "dvc.yaml": PLOTS_DVC_YAML}


def loss_at(lr: float) -> list[float]:
    """The ``loss`` column ``train`` writes for learning rate ``lr``."""
    return [round(lr / (i + 1), 4) for i in range(4)]
