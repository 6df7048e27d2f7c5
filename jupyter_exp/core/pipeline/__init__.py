"""dvc.yaml and *.dvc files as :class:`~jupyter_exp.core.pipeline.model.Stage` objects."""
