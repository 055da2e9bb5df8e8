"""The contracts every other part speaks: text spaces, games and their env views, records, ids.

Submodules are imported on demand (``from rlvr.core.game import TurnGame``); this package itself stays
empty so that the gymnasium start-up hook, which imports ``rlvr.core.registry``, stays cheap.
"""
