"""The activation leaderboard: activations x a fixed, versioned task suite x seeds.

:mod:`~ganzoo.leaderboard.tasks` defines the tasks, :mod:`~ganzoo.leaderboard.store` keeps
finished cells, :mod:`~ganzoo.leaderboard.runner` runs the missing ones in parallel,
:mod:`~ganzoo.leaderboard.board` ranks and tests them with the report's aggregator
(:mod:`ganzoo.report.aggregate`), and :mod:`~ganzoo.leaderboard.report` writes
``leaderboard.md``, ``leaderboard.json`` and figures.
"""

from ganzoo.leaderboard.tasks import TASKS, Cell, Metric, Task, get_task

__all__ = ["TASKS", "Cell", "Metric", "Task", "get_task"]
