"""The evaluation module: FID, KID, precision/recall, density/coverage and mode counts.

It knows nothing of ganzoo: give it images (a tensor, a folder, a sampling function or a
dataset name it can load itself) and it returns numbers. Main entry points::

    from evaluation import Evaluator, run_suite, load_suite, write_results_json
    results = run_suite("smoke", generated=sample_fn, reference="mnist5k")

Metric maths (``evaluation.fid``, ``kid``, ``prdc``) are pure functions on feature arrays.
"""

from evaluation.collapse import CollapseReport, CollapseRule, detect_collapse
from evaluation.errors import (
    EvaluationError,
    ImageInputError,
    SuiteError,
    WeightsNotFoundError,
)
from evaluation.metrics import LOWER_IS_BETTER, METRIC_TABLE, RESULT_KEYS
from evaluation.suite import (
    Evaluator,
    Suite,
    available_suites,
    load_suite,
    run_suite,
    write_results_json,
)

__all__ = [
    "LOWER_IS_BETTER",
    "METRIC_TABLE",
    "RESULT_KEYS",
    "CollapseReport",
    "CollapseRule",
    "EvaluationError",
    "Evaluator",
    "ImageInputError",
    "Suite",
    "SuiteError",
    "WeightsNotFoundError",
    "available_suites",
    "detect_collapse",
    "load_suite",
    "run_suite",
    "write_results_json",
]
