"""An in-process streaming ``Model`` for openai-agents: no network, no API key.

It replays a ``ModelScript`` as Responses-API stream events (text deltas, then
``response.completed`` with the whole message). The ``Model`` method signatures differ between
releases (0.0.11 takes ``previous_response_id``; later ones add ``conversation_id``,
``prompt`` and more), so the methods accept any arguments; events are built with only the
fields the installed ``openai`` types know, so old and new ``openai`` releases both work.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from agents.models.interface import Model, ModelProvider
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
)

from repro.model_script import ModelScript


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


def _response(text: str) -> Any:
    return _build(
        Response,
        id="resp_fake",
        object="response",
        created_at=time.time(),
        model="fake-model",
        output=[_message(text)],
        parallel_tool_calls=False,
        tool_choice="auto",
        tools=[],
        status="completed",
    )


class FakeStreamingModel(Model):
    """Streams its script; ``get_response`` answers the whole text at once."""

    def __init__(self, script: ModelScript) -> None:
        self.script = script

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        from agents.items import ModelResponse
        from agents.usage import Usage

        return ModelResponse(output=[_message(self.script.text)], usage=Usage(), response_id=None)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
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
        yield _build(
            ResponseCompletedEvent,
            type="response.completed",
            response=_response(self.script.text),
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
