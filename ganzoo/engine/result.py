"""What a training run ends as: :class:`RunResult`, returned by :func:`ganzoo.train`.

The status says how the run ended, the iteration how far it got, and the metrics are the last
evaluation's values as ``metrics.jsonl`` records them. A result also travels as JSON, from the
rank-0 process of a spawned distributed run back to the process that started it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ganzoo.engine.runlog import read_records
from ganzoo.runs import METRICS_FILE

FINISHED = "finished"
INTERRUPTED = "interrupted"  # a signal stopped it after a checkpoint: it resumes
FAILED = "failed"  # it stopped on its own (a NaN loss, a failed write)
NOTHING_TO_DO = "nothing_to_do"  # a resume of a run that had already reached its end
STATUSES = (FINISHED, INTERRUPTED, FAILED, NOTHING_TO_DO)


@dataclass(frozen=True)
class RunResult:
    """How one training run ended.

    ``run_dir``: the run directory (``runs/<name>/<stamp>/``); ``status``: ``finished``,
    ``interrupted`` (a signal; resume it), ``failed`` (a NaN loss or another stop of its own)
    or ``nothing_to_do`` (a resumed run already at its end); ``iteration``: the last trained
    iteration; ``metrics``: the last evaluation's values (``{}`` when none ran). ``detail`` is
    one line saying why when the run did not finish, and ``exit_code`` the status a command
    exits with for it (0, 2 for a failure, 128 + the signal's number for an interrupt).
    """

    run_dir: Path
    status: str
    iteration: int
    metrics: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    exit_code: int = 0

    @property
    def ok(self) -> bool:
        """Whether the run is complete (finished now, or already before this call)."""
        return self.status in (FINISHED, NOTHING_TO_DO)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "run_dir": str(self.run_dir)})

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        data = json.loads(text)
        return cls(**{**data, "run_dir": Path(data["run_dir"])})


def last_evaluation(run_dir: Path, up_to: int | None = None) -> dict[str, float]:
    """The values of the last evaluation in ``run_dir``'s metrics.jsonl (at or before
    iteration ``up_to`` when given); ``{}`` when there is none."""
    for record in reversed(read_records(Path(run_dir) / METRICS_FILE)):
        values = record.get("eval")
        iteration = record.get("iteration")
        if not isinstance(values, dict):
            continue
        if up_to is not None and isinstance(iteration, int) and iteration > up_to:
            continue
        return {k: float(v) for k, v in values.items() if isinstance(v, int | float)}
    return {}


def result_from(
    run_dir: Path, status: str, iteration: int, detail: str = "", exit_code: int = 0
) -> RunResult:
    """A :class:`RunResult` whose metrics are read from the run's own records."""
    metrics: dict[str, Any] = last_evaluation(run_dir, up_to=iteration)
    return RunResult(Path(run_dir), status, int(iteration), metrics, detail, exit_code)
