"""Code tasks judged by running programs.

``checkers``   output comparisons (exact, tokens, float) and custom checker programs
``judge``      ``Judge``: compile once, run every I/O test in a sandbox, return a ``Verdict``
``problems``   ``Problem``, the bundled ``core`` set (data/), its test builder, public-set loaders
``extract``    the program in a model's reply (the last fenced code block)
``env``        ``CodeJudgeEnv``, registered as ``rlvr/CodeJudge-v0``

Nothing is imported here, so ``import rlvr.envs.code.checkers`` stays light.
"""
