"""A user's own test, as it would sit in their suite (not collected here).

``tests/test_apply_fix.py`` copies it into a scratch directory as ``test_stream_endpoint.py``
and runs pytest on it in a subprocess, with and without ``-p ctxreset.apply_fix``. It knows
nothing of the harness except the in-process fake model: an endpoint starts a streamed run and
a response task (as Starlette's ``StreamingResponse`` does) consumes ``stream_events()``.
"""

import asyncio
import logging

import agents
from agents import Agent, Runner
from ctxreset.repro.fake_model import FakeStreamingModel
from ctxreset.repro.model_script import ModelScript


class EndedTraces(agents.TracingProcessor):
    """Replaces the default exporter (no network); remembers which traces ended."""

    def __init__(self):
        self.ended = []

    def on_trace_start(self, trace):
        pass

    def on_trace_end(self, trace):
        self.ended.append(trace.trace_id)

    def on_span_start(self, span):
        pass

    def on_span_end(self, span):
        pass

    def shutdown(self):
        pass

    def force_flush(self):
        pass


async def endpoint():
    agent = Agent(name="assistant", model=FakeStreamingModel(ModelScript()))
    result = Runner.run_streamed(agent, "Say something.")

    async def body():
        chunks = []
        async for event in result.stream_events():
            if event.type == "raw_response_event" and event.data.type.endswith("text.delta"):
                chunks.append(event.data.delta)
        return "".join(chunks)

    return result, asyncio.create_task(body())


def test_streamed_answer(caplog):
    traces = EndedTraces()
    agents.set_trace_processors([traces])

    async def serve():
        result, response = await endpoint()
        text = await response
        return result, text, agents.get_current_trace()

    with caplog.at_level(logging.WARNING):
        result, text, current_after = asyncio.run(serve())

    assert text == "The quick brown fox jumps."
    assert result.final_output == text
    assert len(traces.ended) == 1
    assert current_after is None  # the finished trace is not left current for the next run
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
