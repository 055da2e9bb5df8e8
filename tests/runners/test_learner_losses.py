"""Training sequences from rollout token ids, and the PPO-clip loss, by hand and on SmolLM2."""

from __future__ import annotations

import math
from typing import Any

import pytest

from rlvr.core.records import Trajectory, Turn
from rlvr.runners.learner.sequences import build_samples

torch = pytest.importorskip("torch", reason="the learner's losses need torch (pip install 'rlvr-gym[torch]')")
from rlvr.runners.learner.losses import PPOConfig, ppo_clip_loss, sequence_logprobs, token_mean  # noqa: E402


def turn(role, index, prompt, completion, logprobs=None):
    return Turn(
        "E", "ep", role, index, "obs", "act", completion="x", prompt_token_ids=prompt,
        completion_token_ids=completion, completion_logprobs=logprobs or [-0.5] * len(completion),
    )  # fmt: skip


def test_a_seat_s_turns_merge_when_the_next_prompt_extends_the_last_sequence():
    trajectory = Trajectory("E", "ep", 0)
    trajectory.turns = [
        turn("p0", 0, [1, 2], [3, 4]),
        turn("p1", 1, [9], [8]),
        turn("p0", 2, [1, 2, 3, 4, 5, 6], [7]),  # extends p0's sequence: merged, 5 and 6 masked
        turn("p0", 3, [1, 2, 99], [7]),  # does not: a new sample
    ]
    samples = build_samples([trajectory], [[1.0, 2.0, -1.0, None]])
    p0, p1 = samples[0], samples[1]
    assert p0.input_ids == [1, 2, 3, 4, 5, 6, 7] and p0.loss_mask == [0, 0, 1, 1, 0, 0, 1]
    assert p0.advantages == [0, 0, 1.0, 1.0, 0, 0, -1.0] and p0.turn_indices == [0, 2]
    assert p0.old_logprobs == [0, 0, -0.5, -0.5, 0, 0, -0.5]
    assert p1.input_ids == [9, 8] and p1.loss_mask == [0, 1] and p1.advantages == [0, 2.0]
    assert len(samples) == 2  # the None turn is not trained on
    unmerged = build_samples([trajectory], [[1.0, 2.0, -1.0, None]], merge_turns=False)
    assert [s.input_ids for s in unmerged] == [[1, 2, 3, 4], [9, 8], [1, 2, 3, 4, 5, 6, 7]]


def test_turns_without_token_ids_cannot_be_trained_on():
    trajectory = Trajectory("E", "ep", 0, turns=[Turn("E", "ep", "p0", 0, "o", "a", completion="x")])
    with pytest.raises(ValueError, match="no token ids"):
        build_samples([trajectory], [[1.0]])


def test_ppo_clip_and_dual_clip_by_hand():
    old = torch.zeros(4)
    new = torch.tensor([math.log(1.5), math.log(0.5), math.log(5.0), 0.0])
    advantages = torch.tensor([1.0, -1.0, -1.0, 2.0])
    mask = torch.tensor([1, 1, 1, 0])
    loss, stats = ppo_clip_loss(
        new, old, advantages, mask, PPOConfig(clip_low=0.2, clip_high=0.2, dual_clip=3.0)
    )
    # token 0: max(-1.5, -1.2) = -1.2; token 1: max(0.5, 0.8) = 0.8; token 2: max(5, 1.2) = 5 -> dual clip 3
    assert loss.item() == pytest.approx((-1.2 + 0.8 + 3.0) / 3)
    no_dual, _ = ppo_clip_loss(new, old, advantages, mask, PPOConfig(dual_clip=None))
    assert no_dual.item() == pytest.approx((-1.2 + 0.8 + 5.0) / 3)
    assert stats["clip_fraction"] == pytest.approx(2 / 3)
    # At ratio 1 (fresh samples) the loss is -token_mean(A): REINFORCE.
    fresh, _ = ppo_clip_loss(old, old, advantages, mask)
    assert fresh.item() == pytest.approx(-(1.0 - 1.0 - 1.0) / 3)
    with_kl, stats = ppo_clip_loss(old, old, advantages, mask, PPOConfig(kl_coef=0.5), ref_logprobs=new)
    delta = new[:3]
    assert stats["kl"] == pytest.approx((torch.exp(delta) - delta - 1).mean().item())
    assert with_kl.item() == pytest.approx(fresh.item() + 0.5 * stats["kl"])


@pytest.mark.xdist_group("smollm2")
def test_samples_from_smollm2_rollouts_decode_to_what_it_saw_and_train(smollm2: Any):
    from rlvr.agents import SamplingParams
    from rlvr.runners.episodes import EpisodeSpec
    from rlvr.runners.rollout import Player, rollout

    player = Player(smollm2, sampling=SamplingParams(temperature=1.0, max_tokens=8, seed=0))
    specs = [EpisodeSpec("rlvr/TicTacToe-v0", seed, {"player_0": "lm", "player_1": "lm"}) for seed in (0, 1)]
    trajectories = rollout(specs, {"lm": player})
    advantages = [[1.0 for _ in t.turns] for t in trajectories]
    samples = build_samples(trajectories, advantages)
    tokenizer, model = smollm2.tokenizer, smollm2.model
    for sample in samples:
        turn = trajectories[[t.episode_id for t in trajectories].index(sample.episode_id)].turns[
            sample.turn_indices[0]
        ]
        prompt_text = tokenizer.apply_chat_template(turn.prompt, add_generation_prompt=True, tokenize=False)
        assert tokenizer.decode(sample.input_ids).startswith(prompt_text + turn.completion)

    sample = samples[0]
    ids = torch.tensor([sample.input_ids])
    mask = torch.tensor([sample.loss_mask])
    old = torch.tensor([sample.old_logprobs])
    adv = torch.tensor([sample.advantages])
    saved = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    try:
        with torch.no_grad():
            now = sequence_logprobs(model, ids, torch.ones_like(ids))
        # The learner's logprobs of the generated tokens are the rollout's: ratio 1 before any update.
        assert torch.allclose(now[mask.bool()], old[mask.bool()], atol=1e-3)
        model.train()
        loss, _ = ppo_clip_loss(sequence_logprobs(model, ids, torch.ones_like(ids)), old, adv, mask)
        assert loss.item() == pytest.approx(-1.0, abs=1e-3)
        loss.backward()
        with torch.no_grad():
            for parameter in model.parameters():
                if parameter.grad is not None:
                    parameter -= 1e-3 * parameter.grad
            model.zero_grad(set_to_none=True)
            after = sequence_logprobs(model, ids, torch.ones_like(ids))
        # A step on positive advantages makes the generated tokens more likely.
        assert token_mean(after[0], mask[0]).item() > token_mean(now[0], mask[0]).item()
    finally:
        model.eval()
        smollm2.load_weights(saved)
