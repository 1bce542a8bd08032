"""Results files are whole or absent, and carry their provenance."""

from __future__ import annotations

import json

import pytest

from ctxreset.matrix.loader import matrix_hash
from ctxreset.records import (
    CellId,
    CellResult,
    Problem,
    Stale,
    cell_files,
    cell_path,
    provenance,
    read_cell,
    write_atomically,
    write_cell,
)


def _result(scenario: str = "other_task") -> CellResult:
    return CellResult("3.11", "minimal", "none", scenario, "asyncio", "checked")


def test_cell_file_has_result_and_provenance(tmp_path):
    path = write_cell(tmp_path, _result(), provenance(matrix_hash()))
    data = json.loads(path.read_text())
    assert path == cell_path(tmp_path, _result().cell)
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
    assert cell_files(tmp_path) == [first]  # and the reader lists no temporary file


def test_the_reader_gives_back_what_the_writer_wrote(tmp_path):
    properties = {"no-error": {"status": "pass", "evidence": []},
                  "no-leak": {"status": "fail", "evidence": ["leaked"]}}
    result = CellResult("3.11", "minimal", "none", "other_task", "asyncio", "checked",
                        properties=properties, notes=["a note"], duration_s=0.5)
    path = write_cell(tmp_path, result, provenance(matrix_hash()))
    found = read_cell(path, result.cell, matrix_hash())
    assert found.result == result
    assert found.result.failing == ("no-leak",)
    assert found.result.evidence == {"no-leak": ["leaked"]}
    assert found.provenance["matrix_hash"] == matrix_hash()
    with pytest.raises(Stale):
        read_cell(path, result.cell, "another-hash")
    with pytest.raises(Problem, match="its contents name another cell"):
        read_cell(path, CellId("3.11", "minimal", "safe_reset", "other_task", "asyncio"))
