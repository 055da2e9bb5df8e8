"""Bridges to external trainers: exported samples (``export``), TRL reward functions (``trl``) and
multi-turn rollouts (``trl_rollouts``), a verl agent loop (``verl``), an OpenRLHF agent
(``openrlhf``) and SkyRL-gym text envs (``skyrl``).

Nothing here is imported by the rest of the library, and only ``export`` (no optional imports at load)
is re-exported here, so the optional packages (``pyarrow``, ``datasets``, ``trl``, ``verl``,
``openrlhf``, ``skyrl-gym``) are needed only by whoever imports their adapter or asks for Parquet / a
``datasets.Dataset``. The verl and OpenRLHF adapters import their trainer only when its classes are
built, so their episode logic runs (and is tested) without it.
"""

from rlvr.runners.integrations.export import (
    ESTIMATORS,
    compute_advantages,
    export_samples,
    export_text_samples,
    to_hf_dataset,
    write_jsonl,
    write_parquet,
)

__all__ = [
    "ESTIMATORS",
    "compute_advantages",
    "export_samples",
    "export_text_samples",
    "to_hf_dataset",
    "write_jsonl",
    "write_parquet",
]
