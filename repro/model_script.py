"""What the fake model says, turn by turn, and how the agent around it is set up.

Library-neutral (standard library only): the stdlib model replays the final text turn; the
openai-agents fake model (``repro.fake_model``) replays every turn as Responses-API events.

A run is a list of turns. The earlier turns (``before``) are each a function tool call or a
handoff; the last turn streams text deltas, optionally pausing or failing part-way. An agent
run asks the model once per turn, so a script with a tool call is a two-turn run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Optional, Union


class ModelFailure(RuntimeError):
    """Raised by the fake model when a script says so; scenarios expect it to surface."""


TOOLS = {
    "lookup": "a function tool that awaits and answers",
    "broken": "a function tool that raises (the library hands the error to the model)",
    "ask_expert": "another agent called as a tool (Agent.as_tool: a nested Runner.run)",
}
"""The tools a script may call, by name (``repro.agents_setup`` builds them)."""
RECORDED_TOOLS = ("lookup", "broken")
"""Tools that note each call in the run record (``ask_expert`` is the library's own)."""


@dataclass(frozen=True)
class ToolCall:
    """A turn in which the model calls the function tool ``tool`` (``calls`` times at once,
    run concurrently by the library); its arguments are streamed in ``chunks`` pieces."""

    tool: str = "lookup"
    arguments: str = '{"query": "weather"}'
    chunks: int = 3
    calls: int = 1

    def argument_deltas(self) -> tuple[str, ...]:
        size = max(1, -(-len(self.arguments) // self.chunks))
        return tuple(self.arguments[i:i + size] for i in range(0, len(self.arguments), size))


@dataclass(frozen=True)
class Handoff:
    """A turn in which the model hands the run over to the agent named ``<agent>-<to>``."""

    to: str = "specialist"


Step = Union[ToolCall, Handoff]


@dataclass(frozen=True)
class Guardrail:
    """An input or output guardrail on the starting agent (openai-agents only).

    ``delay_turns``: loop turns it takes before answering; ``slow`` makes it outlast the whole
    stream (it waits until cancelled or until the run's stream has been read).
    """

    kind: str = "input"  # "input" or "output"
    trips: bool = False
    slow: bool = False
    delay_turns: int = 1


@dataclass(frozen=True)
class ModelScript:
    deltas: tuple[str, ...] = ("The ", "quick ", "brown ", "fox ", "jumps.")
    fail_after: Optional[int] = None
    """Raise ModelFailure after this many deltas of the final turn."""
    pause_after: Optional[int] = None
    """Wait (until cancelled) after this many deltas: holds a consumer mid-stream."""
    before: tuple[Step, ...] = ()
    """Turns before the final text turn: tool calls and handoffs, in order."""
    max_turns: Optional[int] = None
    """The run's ``max_turns`` (None: the library's default)."""
    guardrails: tuple[Guardrail, ...] = ()
    usage_limit: Optional[int] = None
    """The output tokens the library may produce (pydantic-ai's ``UsageLimits``); past it
    the library stops the stream with its own error."""

    @property
    def text(self) -> str:
        return "".join(self.deltas)

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(step for step in self.before if isinstance(step, ToolCall))

    @property
    def function_calls(self) -> int:
        """Function tool calls over the whole run (a parallel turn counts each call)."""
        return sum(call.calls for call in self.tool_calls)

    @property
    def recorded_calls(self) -> int:
        """Calls of the tools that note themselves in the run record."""
        return sum(call.calls for call in self.tool_calls if call.tool in RECORDED_TOOLS)

    @property
    def handoffs(self) -> tuple[Handoff, ...]:
        return tuple(step for step in self.before if isinstance(step, Handoff))

    @property
    def turns(self) -> int:
        return len(self.before) + 1

    @property
    def uses_agent_features(self) -> bool:
        """Whether the script needs tools, handoffs, guardrails or max_turns (the stdlib
        model has none of them)."""
        return bool(self.before or self.guardrails or self.max_turns is not None)

    async def stream(self) -> AsyncIterator[str]:
        """The final turn's text deltas."""
        for index, delta in enumerate(self.deltas):
            if index == self.fail_after:
                raise ModelFailure(f"model stream failed after {index} deltas")
            if index == self.pause_after:
                await asyncio.Event().wait()
            yield delta
            await asyncio.sleep(0)  # let the consumer interleave, as a network stream would
