"""``ganzoo bench mode-collapse``, a preset of the leaderboard's grid runner (``runner``); the
training is the leaderboard's (:mod:`ganzoo.leaderboard.mode_collapse`)."""
