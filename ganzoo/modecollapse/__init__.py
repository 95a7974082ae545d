"""``ganzoo bench mode-collapse``, a preset of the grid runner (:mod:`ganzoo.experiments`):
``runner`` turns the bench's settings into a leaderboard task and runs its cells into a results
store, ``legacy`` imports the ``runs.jsonl`` of the bench before it, ``summary`` formats the
leaderboard's board as the bench's text table and CSV. The training is the leaderboard's
(:mod:`ganzoo.leaderboard.mode_collapse`).
"""
