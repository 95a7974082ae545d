"""The mode-collapse tasks' plain training loop (ganzoo.leaderboard.mode_collapse): seeded,
isolated from the caller's RNG and thread count, and giving the numbers the bench's own loop
(ganzoo/modecollapse/runner.py before it moved here) gave."""

import pytest
import torch

from ganzoo.leaderboard.mode_collapse import MixtureSettings, run_mixture_benchmark

TINY = MixtureSettings(iterations=15, batch_size=32, hidden_dim=16, depth=2, num_samples=500)

# One thread: the numbers below were measured on one, and another count sums in another order.
pytestmark = pytest.mark.usefixtures("one_thread")


def test_same_seed_gives_identical_results_and_another_seed_differs():
    """A run is fully seeded: same arguments, same mode counts and losses; seed 1 differs."""
    a = run_mixture_benchmark("ring8", "leaky_relu", 0, TINY)
    b = run_mixture_benchmark("ring8", "leaky_relu", 0, TINY)
    c = run_mixture_benchmark("ring8", "leaky_relu", 1, TINY)
    assert a["mode_counts"] == b["mode_counts"]
    assert a["final_loss_d"] == b["final_loss_d"] and a["final_loss_g"] == b["final_loss_g"]
    assert (a["final_loss_d"], a["final_loss_g"]) != (c["final_loss_d"], c["final_loss_g"])
    assert a["num_modes"] == 8


def test_global_rng_and_thread_count_are_left_as_they_were():
    """The benchmark does not disturb the caller's RNG stream or torch thread setting."""
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    run_mixture_benchmark("grid25", "elu", 0, TINY, threads=2)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_scoring_along_the_way_leaves_the_training_and_its_end_unchanged():
    """With eval_at, the curve's last point is the run's final metrics, and the final metrics
    and losses are those of the same run scored only at the end."""
    plain = run_mixture_benchmark("ring8", "elu", 2, TINY)
    scored = run_mixture_benchmark("ring8", "elu", 2, TINY, eval_at=[5, 15])
    assert [p["iteration"] for p in scored["curve"]] == [5, 15]
    assert scored["curve"][-1]["mode_counts"] == scored["mode_counts"] == plain["mode_counts"]
    assert scored["final_loss_g"] == plain["final_loss_g"]


# Measured on 2026-12-04 with the bench's loop before it moved here (commit 993fa26,
# ganzoo.modecollapse.runner.run_mixture_benchmark, one thread): (task, activation, seed,
# settings) -> mode counts, high-quality share, reverse KL, final D and G losses.
OLD_LOOP = [
    (
        ("ring8", "leaky_relu", 0, MixtureSettings(iterations=150, batch_size=32)),
        ([0, 0, 4, 1, 3, 0, 0, 0], 0.0032, 1.1051267888104865),
        (1.203930139541626, 0.9688493013381958),
    ),
    (
        ("grid25", "elu", 1, MixtureSettings(iterations=40, batch_size=16)),
        (
            [0, 2, 0, 1, 0, 2, 1, 1, 2, 0, 2, 3, 1, 0, 0, 2, 2, 1, 3, 0, 0, 0, 0, 0, 2],
            0.01,
            0.6518293703939156,
        ),
        (1.5047571659088135, 0.9858013391494751),
    ),
    (
        (
            "ring8",
            "elu",
            0,
            MixtureSettings(iterations=30, batch_size=16, loss="hinge", n_critic=2),
        ),
        ([0, 0, 0, 1, 0, 0, 0, 2], 0.0012, 1.442927373385023),
        None,
    ),
]


@pytest.mark.parametrize(("run", "metrics", "losses"), OLD_LOOP)
def test_the_loop_gives_the_numbers_of_the_bench_loop_it_replaced(run, metrics, losses):
    """Bit-identical mode counts, high-quality share and KL (and losses) to the old loop's."""
    task, activation, seed, settings = run
    result = run_mixture_benchmark(task, activation, seed, settings)
    got = (result["mode_counts"], result["high_quality_fraction"], result["reverse_kl"])
    assert got == metrics
    if losses is not None:
        assert (result["final_loss_d"], result["final_loss_g"]) == losses
