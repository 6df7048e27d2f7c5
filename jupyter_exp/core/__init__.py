"""The engine: pipelines, hashing, cache, lock files and reproduction.

Nothing in this package imports a front-end library or prints; progress leaves as
events (:mod:`jupyter_exp.events`) and failures as :mod:`jupyter_exp.errors`.
"""
