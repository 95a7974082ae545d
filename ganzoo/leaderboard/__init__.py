"""The activation leaderboard: activations x a fixed, versioned task suite (``tasks``) x seeds,
run on the grid runner (``runner``), ranked (``board``) and written (``report``)."""
