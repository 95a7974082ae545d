"""The in-memory fast path hands over exactly the DataLoader's batches, in its order, and leaves
the global RNG where the DataLoader leaves it (so the noise that follows is the same)."""

from __future__ import annotations

import torch

from ganzoo.config import load_config
from ganzoo.data import build_dataset
from ganzoo.data.block_loader import InMemoryBlockLoader
from ganzoo.engine.factories import build_loader


def _epochs(loader, count=2, seed=7):
    """Every batch of ``count`` epochs, and a draw of the global RNG after each epoch."""
    torch.manual_seed(seed)
    batches, draws = [], []
    for _ in range(count):
        batches += [[t.clone() for t in batch] for batch in loader]
        draws.append(torch.rand(3))
    return batches, draws


def test_block_loader_gives_the_dataloaders_batches_and_rng_state():
    """Two epochs of mnist5k (n_critic 2 x batch 16): images, labels and the RNG draws after
    each epoch are identical, element for element, to the default DataLoader's."""
    config = load_config(
        None,
        ["data.name=mnist5k", "data.limit=160", "train.batch_size=16", "train.n_critic=2"],
    )
    dataset = build_dataset("mnist5k", limit=160)
    slow = build_loader(config, dataset)
    fast = build_loader(config, dataset, device=torch.device("cpu"))
    assert isinstance(fast, InMemoryBlockLoader) and not isinstance(slow, InMemoryBlockLoader)
    assert len(fast) == len(slow) == 5
    want, want_draws = _epochs(slow)
    got, got_draws = _epochs(fast)
    assert len(got) == len(want) == 10
    for (images, labels), (want_images, want_labels) in zip(got, want, strict=True):
        assert images.dtype == want_images.dtype == torch.float32
        assert torch.equal(images, want_images) and torch.equal(labels, want_labels)
    assert all(torch.equal(a, b) for a, b in zip(got_draws, want_draws, strict=True))
    assert not torch.equal(got[0][0], got[5][0])  # each epoch has its own order


def test_block_loader_starts_mid_epoch_where_ignite_tells_it():
    """On a resume Ignite sets the batch sampler's start_iteration: the fast loader then
    continues with the same batches as the DataLoader does."""
    config = load_config(None, ["data.name=mnist5k", "data.limit=96", "train.batch_size=16"])
    dataset = build_dataset("mnist5k", limit=96)
    tails = []
    for device in (None, torch.device("cpu")):
        loader = build_loader(config, dataset, device=device)
        torch.manual_seed(3)
        loader.batch_sampler.start_iteration = 4
        tails.append([batch[1].clone() for batch in loader])
    assert len(tails[0]) == 2 and all(map(torch.equal, *tails))
