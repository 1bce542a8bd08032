"""No test reaches the network: the default OpenAI exporter is replaced, sockets are guarded."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import threading

import pytest

from ctxreset.libraries import load_library
from ctxreset.run.cell import run_cell
from ctxreset.run.netguard import BLOCKED_ATTEMPTS, NetworkBlocked


def test_default_exporter_sees_nothing_during_a_cell(monkeypatch, matrix, targets):
    pytest.importorskip("agents", reason="openai-agents is not installed here")
    if any(matrix.excluded(t, "server_stream", "asyncio", "3.11") for t in targets):
        pytest.skip("a held-shape target: test_default_exporter_sees_nothing_in_a_held_cell")
    from agents.tracing import processors

    calls = []
    for name in ("on_trace_start", "on_trace_end", "on_span_start", "on_span_end"):
        monkeypatch.setattr(
            processors.BatchTraceProcessor, name,
            lambda self, item, _name=name: calls.append(_name),
        )
    monkeypatch.setattr(
        processors.BackendSpanExporter, "export", lambda self, items: calls.append("export")
    )
    result = run_cell(load_library("openai-agents"), "server_stream", "context_rerun", "asyncio",
                      target="agents")
    assert result.failing == ()  # the recorder saw the trace and its spans, over real HTTP...
    assert calls == []  # ...the default processor and exporter saw nothing
    assert BLOCKED_ATTEMPTS == []  # ...and nothing tried to leave loopback


def test_default_exporter_sees_nothing_in_a_held_cell(monkeypatch, matrix, targets, library_of):
    """The held shape over real HTTP, on whichever held-shape target is installed: openai-agents'
    default processor, sentry's transport or anything else never sends a byte off loopback."""
    held = [t for t in targets if not matrix.excluded(t, "held_server_disconnect", "asyncio",
                                                      "3.11")]
    if not held:
        pytest.skip("no target with the held shape installed here")
    calls = []
    if importlib.util.find_spec("agents") is not None:
        from agents.tracing import processors

        monkeypatch.setattr(processors.BackendSpanExporter, "export",
                            lambda self, items: calls.append("export"))
    result = run_cell(library_of(held[0]), "held_server_disconnect", "none", "asyncio",
                      target=held[0])
    assert result.status == "checked", result.reason
    assert result.properties["trace-ended-once"]["status"] == "pass"  # the recorder saw it
    assert calls == []
    assert BLOCKED_ATTEMPTS == []


def test_the_guard_stops_the_real_exporter_from_reaching_openai():
    agents = pytest.importorskip("agents", reason="openai-agents is not installed here")
    from agents.tracing.processors import BackendSpanExporter

    exporter = BackendSpanExporter(api_key="sk-not-a-key", max_retries=1)
    try:
        with pytest.raises(NetworkBlocked, match=r"api\.openai\.com"):
            exporter.export([agents.trace("guard-test")])  # a real trace, never started
        assert any("api.openai.com" in attempt for attempt in BLOCKED_ATTEMPTS)
    finally:
        exporter.close()
        BLOCKED_ATTEMPTS.clear()  # this test made the attempt on purpose


def test_non_loopback_connection_fails_loudly():
    with socket.socket() as sock, pytest.raises(NetworkBlocked, match="only loopback"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed anyway
    assert BLOCKED_ATTEMPTS == ["socket.connect: ('192.0.2.1', 443)"]
    BLOCKED_ATTEMPTS.clear()


def test_a_swallowed_attempt_in_another_thread_is_still_recorded():
    def background_exporter() -> None:
        with contextlib.suppress(Exception):  # what a retrying exporter thread does
            socket.getaddrinfo("example.com", 443)

    thread = threading.Thread(target=background_exporter)
    thread.start()
    thread.join()
    assert BLOCKED_ATTEMPTS == ["socket.getaddrinfo: name lookup of 'example.com'"]
    BLOCKED_ATTEMPTS.clear()  # else the guard fails this test at teardown, as it should


def test_loopback_connection_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
    assert BLOCKED_ATTEMPTS == []
