"""Schedule exploration: every cell under many seeded interleavings (``nox -s explore``).

``results`` is the files' layout and reader, ``cli`` the runner (``python -m
ctxreset.explore``, also replay of one seed), ``section`` the report's "Interleavings" section
and what it adds to the verdict. The loop is ``ctxreset.run.loops.SeededLoop``.
"""
