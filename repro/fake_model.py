"""An in-process ``Model`` for openai-agents that replays a ``ModelScript``: no network, no key.

Each call (``stream_response`` or ``get_response``) answers the script's next turn: a function
tool call (its arguments streamed in pieces), a handoff (a call of the handoff's tool), or the
final text (deltas, optionally pausing or failing part-way). Like the real Responses model, it
opens a ``response_span`` around each call unless tracing is disabled, so a run records the
same span tree as it would against the API.

The ``Model`` method signatures differ between releases (0.0.11 takes
``previous_response_id``; later ones add ``conversation_id``, ``prompt`` and more), so the
methods accept any arguments; events are built with only the fields the installed ``openai``
types know, so old and new ``openai`` releases both work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from agents.models.interface import Model, ModelProvider, ModelTracing
from agents.tracing import response_span
from ctxreset.repro.model_script import Handoff, ModelScript, ToolCall
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
)


def _build(model_type: Any, **fields: Any) -> Any:
    """Construct an openai type from the fields this openai release defines."""
    known = model_type.model_fields
    return model_type(**{name: value for name, value in fields.items() if name in known})


def _message(text: str) -> Any:
    content = _build(ResponseOutputText, type="output_text", text=text, annotations=[], logprobs=[])
    return _build(
        ResponseOutputMessage,
        id="msg_fake",
        type="message",
        role="assistant",
        status="completed",
        content=[content],
    )


def _function_call(turn: Any, name: str, arguments: str) -> Any:
    return _build(
        ResponseFunctionToolCall,
        id=f"fc_fake_{turn}",
        call_id=f"call_fake_{turn}",
        type="function_call",
        name=name,
        arguments=arguments,
        status="completed",
    )


def _response(output: list[Any], turn: int) -> Any:
    return _build(
        Response,
        id=f"resp_fake_{turn}",
        object="response",
        created_at=time.time(),
        model="fake-model",
        output=output,
        parallel_tool_calls=False,
        tool_choice="auto",
        tools=[],
        status="completed",
    )


def _tracing(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The ``ModelTracing`` the runner passed (positionally or by name), if any."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, ModelTracing):
            return value
    return None


def _handoff_tool(args: tuple[Any, ...], kwargs: dict[str, Any], to: str) -> str:
    """The tool name of the handoff to the agent whose name ends in ``-<to>``."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, list):
            for item in value:
                agent_name = getattr(item, "agent_name", None)
                if isinstance(agent_name, str) and agent_name.endswith(f"-{to}"):
                    return str(item.tool_name)
    raise RuntimeError(f"the script hands off to {to!r}, but the agent has no such handoff")


class FakeStreamingModel(Model):
    """Answers its script's turns in order; one model serves every agent of a run."""

    def __init__(self, script: ModelScript) -> None:
        self.script = script
        self.turn = 0

    def _next_step(self) -> Any:
        """The script's step for this call (None: the final text turn)."""
        index = self.turn
        self.turn += 1
        return self.script.before[index] if index < len(self.script.before) else None

    def _call_items(self, step: Any, turn: int, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> tuple[list[Any], tuple[str, ...]]:
        """The function call items of one turn, and each one's streamed argument pieces."""
        if isinstance(step, ToolCall):
            items = [_function_call(f"{turn}_{n}", step.tool, step.arguments)
                     for n in range(step.calls)]
            return items, step.argument_deltas()
        assert isinstance(step, Handoff)
        return [_function_call(turn, _handoff_tool(args, kwargs, step.to), "{}")], ("{}",)

    @staticmethod
    def _span(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        tracing = _tracing(args, kwargs)
        return response_span(disabled=tracing is None or tracing.is_disabled())

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        from agents.items import ModelResponse
        from agents.usage import Usage

        turn, step = self.turn, self._next_step()
        with self._span(args, kwargs) as span:
            if step is None:
                output = [_message(self.script.text)]
            else:
                output = self._call_items(step, turn, args, kwargs)[0]
            response = _response(output, turn)
            span.span_data.response = response
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        turn, step = self.turn, self._next_step()
        with self._span(args, kwargs) as span:
            if step is None:
                events = self._text_events(turn)
            else:
                events = self._call_events(turn, *self._call_items(step, turn, args, kwargs))
            async for event in events:
                yield event
            span.span_data.response = self._last_response

    _last_response: Any = None
    """The response of the last turn streamed (what the real model records on its span)."""

    async def _text_events(self, turn: int) -> AsyncIterator[Any]:
        sequence = 0
        async for delta in self.script.stream():
            yield _build(
                ResponseTextDeltaEvent,
                type="response.output_text.delta",
                item_id="msg_fake",
                output_index=0,
                content_index=0,
                delta=delta,
                logprobs=[],
                sequence_number=sequence,
            )
            sequence += 1
        self._last_response = _response([_message(self.script.text)], turn)
        yield _build(
            ResponseCompletedEvent,
            type="response.completed",
            response=self._last_response,
            sequence_number=sequence,
        )

    async def _call_events(
        self, turn: int, items: list[Any], deltas: tuple[str, ...]
    ) -> AsyncIterator[Any]:
        sequence = 0
        for index, item in enumerate(items):
            pending = item.model_copy(update={"status": "in_progress", "arguments": ""})
            yield _build(
                ResponseOutputItemAddedEvent, type="response.output_item.added", item=pending,
                output_index=index, sequence_number=sequence,
            )
            sequence += 1
            for delta in deltas:
                yield _build(
                    ResponseFunctionCallArgumentsDeltaEvent,
                    type="response.function_call_arguments.delta", item_id=item.id,
                    output_index=index, delta=delta, sequence_number=sequence,
                )
                sequence += 1
                await asyncio.sleep(0)  # arguments arrive in pieces, as over the network
            yield _build(
                ResponseOutputItemDoneEvent, type="response.output_item.done", item=item,
                output_index=index, sequence_number=sequence,
            )
            sequence += 1
        self._last_response = _response(items, turn)
        yield _build(
            ResponseCompletedEvent, type="response.completed", response=self._last_response,
            sequence_number=sequence,
        )


class FakeModelProvider(ModelProvider):
    """Resolves every model name to one fake model.

    A ``RunConfig`` always has a provider; the default one builds an OpenAI client, which in
    early releases (0.0.3) happens as the ``RunConfig`` is created and raises without an API
    key. The agent's own model is used for the run; this provider is never asked for one.
    """

    def __init__(self, model: Model) -> None:
        self.model = model

    def get_model(self, model_name: Any) -> Model:
        return self.model
