"""The activation leaderboard: activations x a fixed, versioned task suite (``tasks``) x seeds,
run on the grid runner (``runner``), ranked (``board``) and written (``report``)."""

from ganzoo.leaderboard.tasks import TASKS, Cell, Metric, Task, get_task

__all__ = ["TASKS", "Cell", "Metric", "Task", "get_task"]
