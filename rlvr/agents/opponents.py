"""Any policy as the opponent of a single-agent game view: ``gym.make(id, opponent=as_opponent(policy))``.

The gym view seats text opponents as ``str -> str`` callables (envs never import agents). This adapter
is that callable for a ``Policy``: it keeps the opponent's own chat across its turns, starts a fresh
one when the env says an episode begins, and passes the env the think-stripped, extracted answer.
"""

from __future__ import annotations

from rlvr.agents.base import Policy, PolicyError, SamplingParams
from rlvr.agents.conversation import Conversation
from rlvr.agents.extraction import IDENTITY, ActionExtractor


class PolicyOpponent:
    """A ``Policy`` behind the ``str -> str`` opponent protocol, one conversation per episode.

    The env prepends the rules to the first observation of each episode, so there is no system
    message: the rules arrive as the first user message. Calls block (one completion per turn); for
    batched play against many opponents use the runner's AEC view instead.
    """

    def __init__(
        self,
        policy: Policy,
        sampling: SamplingParams | None = None,
        extractor: ActionExtractor = IDENTITY,
        history_window: int | None = None,
    ) -> None:
        self.policy = policy
        self.sampling = sampling
        self.extractor = extractor
        self.history_window = history_window
        self.conversation = Conversation(history_window=history_window, pin_first_observation=True)

    def new_episode(self) -> None:
        self.conversation = Conversation(history_window=self.history_window, pin_first_observation=True)

    def __call__(self, observation: str) -> str:
        self.conversation.add_observation(observation)
        (completion,) = self.policy.generate([self.conversation.to_messages()], self.sampling)
        if completion.error is not None:
            raise PolicyError(f"opponent policy failed: {completion.error}")
        self.conversation.add_action(completion.text)
        return self.extractor(completion.text)


def as_opponent(policy: Policy, sampling: SamplingParams | None = None, **options: object) -> PolicyOpponent:
    """``policy`` as a gym-view opponent; ``options`` go to ``PolicyOpponent``."""
    return PolicyOpponent(policy, sampling, **options)  # type: ignore[arg-type]
