"""The parts :class:`jupyter_exp.Project` is made of, one area of the API each."""
