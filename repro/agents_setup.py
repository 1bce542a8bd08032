"""The openai-agents agent a script describes: its function tools, handoffs and guardrails.

Built the way application code builds agents (``Agent``, ``function_tool``, ``handoffs=``,
``InputGuardrail``/``OutputGuardrail``), around the one fake model of the run. The tools and
guardrails do what real ones do that matters here: they await (yield to the loop) and open a
span of their own for their work, under whatever the library made current.
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

from ctxreset.repro.model_script import Guardrail

from ctxreset.probe import RunRecord

SLOW_GUARDRAIL_TURNS = 100
"""Loop turns a slow guardrail takes: more than the whole scripted stream."""


EXPERT_ANSWER = ("The ", "expert ", "agrees.")


class ToolFailure(RuntimeError):
    """What the ``broken`` tool raises; the library reports it to the model as the result."""


def _tool(agents: ModuleType, run: RunRecord, name: str) -> Any:
    if name == "ask_expert":
        from ctxreset.repro.fake_model import FakeStreamingModel
        from ctxreset.repro.model_script import ModelScript

        expert = agents.Agent(name=f"{run.agent_name}-expert",
                              model=FakeStreamingModel(ModelScript(deltas=EXPERT_ANSWER)))
        return expert.as_tool(tool_name=name, tool_description="Ask the expert.")

    async def tool(query: str) -> str:
        """Look something up."""
        run.tool_calls.append(name)
        with agents.custom_span(f"{name}-work"):
            await asyncio.sleep(0)  # the tool's own I/O
        if name == "broken":
            raise ToolFailure(f"{name} failed on {query!r}")
        return f"{query}: sunny"

    return agents.function_tool(tool, name_override=name)


def _guardrail(agents: ModuleType, spec: Guardrail) -> Any:
    turns = SLOW_GUARDRAIL_TURNS if spec.slow else spec.delay_turns

    async def check(context: Any, agent: Any, payload: Any) -> Any:
        for _ in range(turns):
            await asyncio.sleep(0)
        return agents.GuardrailFunctionOutput(output_info=None, tripwire_triggered=spec.trips)

    if spec.kind == "input":
        return agents.InputGuardrail(guardrail_function=check, name="check-input")
    return agents.OutputGuardrail(guardrail_function=check, name="check-output")


def build_agent(agents: ModuleType, run: RunRecord, model: Any) -> Any:
    """The starting agent ``agent-<n>``; a handoff goes to ``agent-<n>-<to>``, same model."""
    script = run.script
    tools = [_tool(agents, run, name) for name in sorted({c.tool for c in script.tool_calls})]
    handoffs = [
        agents.Agent(name=f"{run.agent_name}-{step.to}", model=model, tools=tools)
        for step in script.handoffs
    ]
    guardrails = [_guardrail(agents, spec) for spec in script.guardrails]
    return agents.Agent(
        name=run.agent_name,
        model=model,
        tools=tools,
        handoffs=handoffs,
        input_guardrails=[g for g in guardrails if isinstance(g, agents.InputGuardrail)],
        output_guardrails=[g for g in guardrails if isinstance(g, agents.OutputGuardrail)],
    )
