"""No test reaches the network: the default OpenAI exporter is replaced, sockets are guarded."""

from __future__ import annotations

import socket

import pytest

from harness.cell import run_cell
from harness.targets import load_library
from tests.conftest import NetworkBlocked


def test_default_exporter_sees_nothing_during_a_cell(monkeypatch):
    pytest.importorskip("agents", reason="openai-agents is not installed here")
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
    result = run_cell(load_library("openai-agents"), "same_task", "none", "asyncio")
    assert result.failing == ()  # the recorder did see the trace and its spans...
    assert calls == []  # ...and the default processor and exporter saw nothing


def test_non_loopback_connection_fails_loudly():
    with socket.socket() as sock, pytest.raises(NetworkBlocked, match="only loopback"):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed anyway


def test_loopback_connection_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
