"""The training engine's handlers, one module per concern: monitoring (running averages,
progress, NaN guard, metrics and TensorBoard), sample grids, checkpoints, learning-rate
schedule, EMA and periodic evaluation. Each ``attach_*`` takes what it needs explicitly."""
