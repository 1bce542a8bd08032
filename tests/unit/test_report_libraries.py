"""The per-library verdicts: each fix's cells of one library in one shape, counted from the
records (only cells that ran), with the properties it fails."""

from __future__ import annotations

from ctxreset.matrix.loader import DEFAULT_MATRIX_PATH, load_matrix
from ctxreset.records import CellId
from ctxreset.report.libraries import library_verdicts
from ctxreset.report.merge import CellRecord, Merged

MATRIX = load_matrix(DEFAULT_MATRIX_PATH)


def _record(target, fix, scenario, failing=(), status="checked"):
    return CellRecord(CellId("3.11", target, fix, scenario, "asyncio"), status, tuple(failing))


def _merged(*records):
    return Merged("hash", {r.cell: r for r in records}, [], [], [])


def test_one_verdict_per_library_and_shape():
    merged = _merged(
        _record("sentry-2.42.0", "none", "held_aclose", ["no-error", "no-leak"]),
        _record("sentry-2.42.0", "none", "held_aclosing"),
        _record("sentry-2.42.1", "upstream", "held_aclose", ["no-leak"]),
        _record("sentry-2.42.1", "upstream", "held_aclosing"),
        _record("sentry-2.42.0", "held_private_context", "held_aclose"),
        _record("sentry-2.42.0", "held_private_context", "held_aclosing", status="not run"),
        _record("minimal", "none", "other_task", ["no-error"]),
    )
    verdicts = {(v["library"], v["shape"]): {f["fix"]: f for f in v["fixes"]}
                for v in library_verdicts(merged, MATRIX)}
    assert set(verdicts) == {("sentry-sdk", "held"), ("minimal", "streamed")}
    sentry = verdicts[("sentry-sdk", "held")]
    assert sentry["none"]["text"] == "fails 1 of 2 cells (no-error, no-leak)"
    assert sentry["upstream"]["text"] == "fails 1 of 2 cells (no-leak)"
    assert sentry["upstream"]["targets"] == ["sentry-2.42.1"]
    # a cell that did not run never counts as a pass
    assert sentry["held_private_context"]["cells_run"] == 1
    assert sentry["held_private_context"]["text"] == "passes every property in all 1 cells"


def test_a_fix_with_no_cell_run_is_not_run():
    merged = _merged(_record("minimal", "none", "held_aclose", status="not run"))
    (group,) = library_verdicts(merged, MATRIX)
    assert group["fixes"][0]["text"] == "not run"
