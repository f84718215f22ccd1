"""The CLI's pure renderers: tables fitted to a width, inline previews, run and compare views."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from flowyml.cli import previews, term
from flowyml.cli.render_runs import compare_lines, run_lines, runs_lines
from flowyml.core.records import ArtifactRef, RunRecord, RunStatus, StepRecord, StepStatus

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("width", [40, 60, 80, 100])
def test_table_fits_by_shortening_flexible_columns(width: int) -> None:
    rows = [["a", "x" * 90, "keep-me-whole"], ["bb", "short", "keep"]]
    lines = term.table(["K", "LONG", "FIXED"], rows, flexible={1: 5}, max_width=width)
    assert all(len(line) <= max(width, 2 + 2 + 5 + 2 + 13) for line in lines)
    assert lines[1].endswith("keep-me-whole")  # a fixed column is never cut
    assert ("…" in lines[1]) == (width < 2 + 2 + 90 + 2 + 13)


def test_table_leaves_a_table_that_fits_alone() -> None:
    lines = term.table(["A", "B"], [["1", "2"]], flexible={1: 1}, max_width=100)
    assert lines == ["A  B", "1  2"]


def test_width_honours_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "83")
    assert term.width() == 83


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.93125, "0.9313"),
        (42, "42"),
        ("ok", "'ok'"),
        ({"accuracy": 0.9, "loss": 0.25}, "{accuracy=0.9, loss=0.25}"),
        ([1, 2, 3], "[1, 2, 3]"),
        (list(range(100)), "list of 100 items"),
        ({"nested": {"a": 1}}, None),
        ("x" * 100, None),
    ],
)
def test_inline_views(value: object, expected: str | None) -> None:
    assert previews.inline(value) == expected


def test_inline_views_of_arrays_and_frames() -> None:
    np = pytest.importorskip("numpy", reason="numpy is not installed (the [data] extra)")
    pd = pytest.importorskip("pandas", reason="pandas is not installed (the [data] extra)")
    assert previews.inline(np.zeros((3, 2), dtype="float32")) == "ndarray (3, 2) float32"
    frame = pd.DataFrame({"a": range(10), "b": range(10)})
    assert previews.inline(frame) == "DataFrame 10x2"
    assert len(previews.head_lines(frame, rows=3)) == 4  # header + 3 rows


def test_pickles_and_large_payloads_are_not_loaded() -> None:
    loaded = []
    pickle = ArtifactRef("file:///x.pkl", "builtins.set", "pickle", 10, "sha256:0")
    big = ArtifactRef("file:///x.json", "builtins.dict", "json", 10**9, "sha256:0")
    for ref in (pickle, big):
        text, value = previews.describe(ref, loaded.append)
        assert value is None and "," in text
    assert loaded == []


def test_metrics_of_a_number_and_a_dict() -> None:
    assert previews.metrics_of(0.5, "score") == {"score": 0.5}
    assert previews.metrics_of({"acc": 1, "name": "x", "ok": True}, "evaluate") == {
        "evaluate.acc": 1
    }


def _run(run_id: str, epochs: int, executor: str | None = None) -> RunRecord:
    ref = ArtifactRef(f"file:///s/p/{run_id}/train/output.json", "builtins.dict", "json", 9, "h")
    step = StepRecord(
        run_id,
        "train",
        StepStatus.COMPLETED,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=2),
        attempts=1,
        outputs={"output": ref},
        executor=executor,
    )
    return RunRecord(
        run_id, "p", RunStatus.COMPLETED, T0, T0 + timedelta(seconds=3), "local", {"epochs": epochs},
        steps=(step,),
    )  # fmt: skip


def test_run_lines_show_inline_outputs_and_where_steps_ran() -> None:
    lines = run_lines(
        _run("r1" * 16, 5, executor="docker"),
        {"train": Decimal("0.01")},
        inline={"train": {"output": "{acc=0.9}"}},
        artifacts=[("train", "dict, 9 B", "p/r1/train/output.json")],
        store_root="file:///s",
    )
    header = next(line for line in lines if line.startswith("STEP"))
    assert header.split() == ["STEP", "STATUS", "DURATION", "CACHED", "ATTEMPTS", "WHERE", "COST", "OUTPUTS"]  # fmt: skip
    row = lines[lines.index(header) + 1].split()
    assert row[5] == "docker" and row[-1] == "{acc=0.9}"
    assert "Artifacts (in file:///s):" in lines


def test_runs_lines_show_params() -> None:
    lines = runs_lines([_run("a" * 32, 5)])
    assert lines[0].split()[-1] == "PARAMS" and lines[1].endswith("epochs=5")


def test_compare_marks_what_differs() -> None:
    lines = compare_lines(
        [_run("a" * 32, 5), _run("b" * 32, 50)],
        [{"train": Decimal(0)}, {"train": Decimal(0)}],
        [{"train.acc": 0.5}, {"train.acc": 0.75}],
    )
    rows = {line[2:].split("  ")[0]: line for line in lines[1:] if line.strip()}
    assert rows["param epochs"].startswith("*") and rows["param epochs"].split()[-2:] == ["5", "50"]
    assert rows["metric train.acc"].split()[-2:] == ["0.5", "0.75"]
    assert rows["pipeline"].startswith(" ") and rows["cost"].split()[-2:] == ["$0.00", "$0.00"]
