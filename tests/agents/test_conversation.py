import itertools

import gymnasium as gym
import pytest

import rlvr  # noqa: F401  (registers the rlvr/ ids)
from rlvr.agents import Conversation, RandomLegalPolicy, strip_think

FEW_SHOT = [
    {"role": "user", "content": "Example board. Legal moves: [4]"},
    {"role": "assistant", "content": "[4]"},
]


def _play_episode(**options):
    """Play one TicTacToe episode with think-wrapped random moves; return the conversation."""
    env = gym.make("rlvr/TicTacToe-v0", opponent="random", seat=0)
    observation, info = env.reset(seed=3)
    conversation = Conversation.from_reset(observation, info, **options)
    policy = RandomLegalPolicy(seed=3)
    done = False
    while not done:
        completion = policy.generate([conversation.to_messages()])[0]
        raw = f"<think>I pick {completion.text}.</think>{completion.text}"
        conversation.add_action(raw)
        observation, _, terminated, truncated, info = env.step(strip_think(raw))
        assert not info["invalid_action"]
        done = terminated or truncated
        if not done:
            conversation.add_observation(observation)
    return conversation, env.unwrapped.game.instructions("player_0")


def test_system_prompt_is_the_instructions_and_turns_alternate():
    conversation, instructions = _play_episode()
    messages = conversation.to_messages()
    assert messages[0] == {"role": "system", "content": instructions}
    roles = [message["role"] for message in messages[1:]]
    assert roles[0] == "user"
    assert all(a != b for a, b in itertools.pairwise(roles))
    assert len(roles) >= 6  # X moves at least three times before the game can end


def test_assistant_messages_keep_the_raw_completion_with_think_blocks():
    conversation, _ = _play_episode()
    replies = [m["content"] for m in conversation.history if m["role"] == "assistant"]
    assert replies and all(reply.startswith("<think>I pick [") for reply in replies)


def test_history_window_keeps_system_and_last_exchanges():
    conversation, _ = _play_episode(history_window=1)
    full = conversation.history
    messages = conversation.to_messages()
    assert messages[0]["role"] == "system"
    assert messages[1:] == full[-2:]  # the episode ended on a reply: one whole exchange remains
    conversation.add_observation("next")
    assert conversation.to_messages()[1:] == [*full[-3:-1], {"role": "user", "content": "next"}]


def test_history_window_zero_keeps_only_the_current_observation():
    conversation = Conversation("rules", history_window=0)
    conversation.add_observation("first")
    conversation.add_action("a")
    conversation.add_observation("second")
    assert conversation.to_messages() == [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "second"},
    ]


def test_pinned_first_observation_survives_the_window():
    conversation = Conversation("rules", history_window=1, pin_first_observation=True)
    for index in range(4):
        conversation.add_observation(f"obs {index}")
        conversation.add_action(f"act {index}")
    conversation.add_observation("obs 4")
    contents = [m["content"] for m in conversation.to_messages()]
    assert contents == ["rules", "obs 0", "act 0", "obs 3", "act 3", "obs 4"]


def test_few_shot_goes_after_the_system_prompt_and_is_never_windowed():
    conversation, instructions = _play_episode(history_window=1, few_shot=FEW_SHOT)
    messages = conversation.to_messages()
    assert messages[0]["content"] == instructions
    assert messages[1:3] == FEW_SHOT
    assert messages[3:] == conversation.history[-2:]


def test_no_instructions_means_no_system_message():
    conversation = Conversation.from_reset("hello", {})
    assert conversation.to_messages() == [{"role": "user", "content": "hello"}]


def test_consecutive_observations_merge_into_one_user_message():
    conversation = Conversation()
    conversation.add_observation("a")
    conversation.add_observation("b")
    assert conversation.to_messages() == [{"role": "user", "content": "a\n\nb"}]


def test_reply_without_observation_is_rejected():
    conversation = Conversation("rules")
    with pytest.raises(ValueError, match="add_observation"):
        conversation.add_action("[4]")


def test_malformed_few_shot_is_rejected():
    with pytest.raises(ValueError, match="assistant"):
        Conversation(few_shot=[{"role": "user", "content": "only a question"}])
    with pytest.raises(ValueError, match="few-shot message 0"):
        Conversation(few_shot=[{"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}])


def test_to_messages_returns_copies():
    conversation = Conversation("rules")
    conversation.add_observation("obs")
    conversation.to_messages()[1]["content"] = "changed"
    assert conversation.history[0]["content"] == "obs"
