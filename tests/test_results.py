"""Results files are whole or absent, and carry their provenance."""

from __future__ import annotations

import json

import pytest

from harness.cell import CellResult
from harness.results import cell_path, provenance, read_cells, write_atomically, write_cell

pytestmark = pytest.mark.once_per_run


def _result(scenario: str = "other_task") -> CellResult:
    return CellResult("3.11", "minimal", "none", scenario, "asyncio", "checked")


def test_cell_file_has_result_and_provenance(tmp_path):
    path = write_cell(tmp_path, _result(), provenance())
    data = json.loads(path.read_text())
    assert path == cell_path(tmp_path, _result())
    assert data["cell"]["scenario"] == "other_task"
    assert data["schema_version"] == 1
    assert {"python", "implementation", "os", "packages", "matrix_hash", "written_at"} <= set(data)
    assert "pyyaml" in data["packages"]


def test_a_crash_while_writing_leaves_earlier_files_whole(tmp_path):
    first = write_cell(tmp_path, _result("same_task"), {})
    before = first.read_text()

    class Unserializable:
        pass

    with pytest.raises(TypeError):
        write_atomically(first, {"cell": Unserializable()})  # dies mid-dump
    assert first.read_text() == before  # the old file is untouched
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temp file left
    assert [c["cell"]["scenario"] for c in read_cells(tmp_path)] == ["same_task"]
