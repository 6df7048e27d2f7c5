"""``jupyter exp ...``: the command line front end (console script ``jupyter-exp``).

Parse the arguments (:mod:`.main`), call :class:`jupyter_exp.api.Project`, render what
comes back (:mod:`.render`) and turn errors into one line and an exit code
(:mod:`.errors`). Each command lives in its own module under :mod:`.commands`.
"""
