import torch

from ganzoo.modecollapse.runner import MixtureSettings, run_mixture_benchmark

TINY = MixtureSettings(iterations=15, batch_size=32, hidden_dim=16, depth=2, num_samples=500)


def test_same_seed_gives_identical_results_and_another_seed_differs():
    """A run is fully seeded: same arguments, same mode counts and losses; seed 1 differs."""
    a = run_mixture_benchmark("ring8", "leaky_relu", 0, TINY)
    b = run_mixture_benchmark("ring8", "leaky_relu", 0, TINY)
    c = run_mixture_benchmark("ring8", "leaky_relu", 1, TINY)
    assert a["mode_counts"] == b["mode_counts"]
    assert a["final_loss_d"] == b["final_loss_d"] and a["final_loss_g"] == b["final_loss_g"]
    assert (a["final_loss_d"], a["final_loss_g"]) != (c["final_loss_d"], c["final_loss_g"])
    assert a["num_modes"] == 8 and a["settings"]["iterations"] == 15


def test_global_rng_and_thread_count_are_left_as_they_were():
    """The benchmark does not disturb the caller's RNG stream or torch thread setting."""
    torch.manual_seed(123)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    run_mixture_benchmark("grid25", "elu", 0, TINY, threads=1)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
