"""Write verl parquet files of rlvr episodes (train / validation seeds) for ``RlvrAgentLoop``.

    python examples/verl_rows.py --env rlvr/KuhnPoker-v0 --out data/kuhn --train 512 --val 64

then train with verl's own entry point (``python -m verl.trainer.main_ppo``), e.g.::

    data.train_files=data/kuhn/train.parquet data.val_files=data/kuhn/val.parquet
    actor_rollout_ref.rollout.mode=async actor_rollout_ref.rollout.multi_turn.enable=true
    actor_rollout_ref.rollout.agent.agent_loop_config_path=examples/verl_agent_loop.yaml

Needs ``pyarrow`` (verl installs it). Validation seeds start after the training seeds, so no
validation episode was trained on.
"""

from __future__ import annotations

import argparse
import json

from rlvr.runners.integrations.verl import verl_rows, write_verl_parquet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="rlvr/KuhnPoker-v0")
    parser.add_argument("--env-kwargs", default="{}", help="JSON object passed to make(env_id, ...)")
    parser.add_argument("--out", default="data/rlvr_verl")
    parser.add_argument("--train", type=int, default=512, help="number of training seeds")
    parser.add_argument("--val", type=int, default=64, help="number of validation seeds")
    args = parser.parse_args()
    env_kwargs = json.loads(args.env_kwargs)
    splits = {"train": range(args.train), "val": range(args.train, args.train + args.val)}
    for split, seeds in splits.items():
        path = write_verl_parquet(verl_rows(args.env, seeds, **env_kwargs), f"{args.out}/{split}.parquet")
        print(f"{split}: {len(seeds)} rows -> {path}")


if __name__ == "__main__":
    main()
