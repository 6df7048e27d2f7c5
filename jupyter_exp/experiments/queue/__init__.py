"""The experiment queue: ``exp run --queue``, ``queue start|status|logs|stop|kill|remove``.

- :mod:`.store`: the persistent entries (JSON under ``.dvc/tmp/jupyter-exp/queue/``) and
  the ``exp show`` hook (:func:`~.store.queue_rows`, :func:`~.store.exp_show_entries`);
- :mod:`.enqueue`: queueing one experiment or a sweep, each as its own snapshot commit;
- :mod:`.entry`: running one entry in a worktree, safe from any process
  (:func:`~.entry.run_entry`), and writing down runs whose process died;
- :mod:`.workers`: the local pool of detached worker processes;
- :mod:`.dask_backend`: the same on a Dask cluster (optional ``dask`` extra);
- :mod:`.control`: status, logs, waiting, stop, kill, remove.

Submodules are imported where used, so ``import jupyter_exp`` stays light.
"""
