"""The evaluation module: FID, KID, precision/recall, density/coverage and mode counts.

It knows nothing of ganzoo and loads no dataset: give it images (a tensor, a folder or a
sampling function) and it returns numbers. Main entry points::

    from evaluation import Evaluator, run_suite, load_suite, write_results_json
    results = run_suite("smoke", generated=sample_fn, reference=reference_images)

Metric maths (``evaluation.fid``, ``kid``, ``prdc``) are pure functions on feature arrays; the
metric registry (``evaluation.metrics``: ``get_metric``, ``metric_direction``) says what each
metric needs and which way it is better, plugins (group ``ganzoo.metrics``) included.
"""

from evaluation.collapse import CollapseReport, CollapseRule, detect_collapse
from evaluation.errors import (
    EvaluationError,
    ImageInputError,
    SuiteError,
    WeightsNotFoundError,
)
from evaluation.metrics import (
    LOWER_IS_BETTER,
    METRICS,
    RESULT_KEYS,
    Metric,
    MetricInputs,
    ResultKey,
    get_metric,
    metric_direction,
    metric_names,
    result_keys,
)
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
    "METRICS",
    "RESULT_KEYS",
    "Metric",
    "MetricInputs",
    "ResultKey",
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
    "get_metric",
    "load_suite",
    "metric_direction",
    "metric_names",
    "result_keys",
    "run_suite",
    "write_results_json",
]
