"""Multi-trial episodes with verbal reflections (Reflexion) and constitutions carried across tasks
(OmniReflect), around any single-agent env that reports success. See ``ReflexionWrapper``."""

from rlvr.envs.reflection.env import (
    ConstitutionWrapper,
    ReflexionWrapper,
    TrialResult,
    build_inner_env,
    make_reflexion_env,
)
from rlvr.envs.reflection.store import Constitution, ReflectionRecord, ReflectionStore
from rlvr.envs.reflection.text import (
    CURATION_PROMPT,
    REFLECTION_PROMPT,
    constitution_block,
    format_constitution,
    format_memory,
    parse_principles,
)

__all__ = [
    "CURATION_PROMPT",
    "REFLECTION_PROMPT",
    "Constitution",
    "ConstitutionWrapper",
    "ReflectionRecord",
    "ReflectionStore",
    "ReflexionWrapper",
    "TrialResult",
    "build_inner_env",
    "constitution_block",
    "format_constitution",
    "format_memory",
    "make_reflexion_env",
    "parse_principles",
]
