"""The in-memory fast path of the training loader: a whole iteration's block of images
(``n_critic x batch_size``) gathered by one index into a tensor already on the device.

:class:`InMemoryBlockLoader` is a DataLoader in every respect Ignite relies on (its batch
sampler, length, reproducible order, resume in mid-epoch) but replaces the per-image Python
``__getitem__`` and collation by one indexing of the dataset's uint8 images, converted to
[-1, 1] on the device. It draws the same random numbers in the same order as the DataLoader it
replaces, so a CPU run sees the very same batches and noise.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader

from ganzoo.data.base import ImageTensorDataset
from ganzoo.data.transforms import to_unit_range


class InMemoryBlockLoader(DataLoader):
    """Batches of an :class:`ImageTensorDataset` as ``[images, labels]``, gathered on ``device``.

    ``images`` are float32 in [-1, 1] and ``labels`` int64, both on ``device`` (where the
    dataset's uint8 images are copied once), exactly as the default DataLoader would give them
    after the step moved them there.
    """

    def __init__(
        self, dataset: ImageTensorDataset, batch_sampler: object, device: torch.device
    ) -> None:
        super().__init__(dataset, batch_sampler=batch_sampler, num_workers=0)
        self.device = torch.device(device)
        self.images = dataset.images.to(self.device)
        self.labels = dataset.labels.to(self.device)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:  # type: ignore[override]
        blocks = iter(self.batch_sampler)
        # The default loader's iterator draws its base seed from the global RNG after starting
        # the sampler; draw it too, so the noise that follows is the same.
        torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        return self._gather(blocks)

    def _gather(self, blocks: Iterator[list[int]]) -> Iterator[list[torch.Tensor]]:
        for block in blocks:
            index = torch.as_tensor(block, dtype=torch.int64)
            if self.device.type == "cuda":  # pinned: the copy does not wait for the device
                index = index.pin_memory()
            index = index.to(self.device, non_blocking=True)
            yield [to_unit_range(self.images[index]), self.labels[index]]
