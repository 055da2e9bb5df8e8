"""ALFWorld's household tasks and text interface, reproduced natively and generated from seeds.

ALFWorld's game files can only be downloaded from GitHub releases, which many machines cannot reach,
so nothing here reads them: rooms, objects and goals are generated, and the TextWorld interface
(commands, feedback texts, admissible commands) is re-implemented.

``world``    object and receptacle kinds, their properties, which room has what, what fits where
``tasks``    the six task types: goal texts, success checks, goal combinations and the split rule
``state``    the mutable household (receptacles, objects, agent) a game is played on
``generate`` one game from (split, task type, game number)
``grammar``  command text -> ``Command`` (tolerant of case, spacing and the ``put``/``move`` variants)
``texts``    the feedback sentences, worded as ALFWorld's
``engine``   executes commands on a household and lists the admissible ones
``expert``   a planner that reads the state and solves every generated game
``env``      ``ALFWorldEnv``, registered as ``rlvr/ALFWorld-v0``

Nothing is imported here, so ``import rlvr.envs.alfworld.world`` stays light.
"""
