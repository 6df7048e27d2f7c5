"""Experiments as Git refs: run, save, show, diff, apply, branch, remove, push, pull.

One module per verb; every function takes the :class:`~jupyter_exp.core.repo.Repo` and
:class:`~jupyter_exp.git.Git` it works on, raises from :mod:`jupyter_exp.errors` and
reports progress as :mod:`jupyter_exp.events`. Nothing here prints or imports a front end.
"""
