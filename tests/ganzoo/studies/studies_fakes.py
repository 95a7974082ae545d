"""Helpers the study tests run in other processes (a uniquely named module, so spawned
processes import it by name): a study runner that starts when all its peers are ready."""

from __future__ import annotations

import os

from ganzoo.studies import load_study, run_study


def run_together(path: str, barrier) -> list[tuple[str, str]]:
    """Wait for the other runners, then run the study in one thread; (run, status) pairs."""
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["GANZOO_PSF_FUSED"] = "0"
    import torch

    torch.set_num_threads(1)
    study = load_study(path)
    barrier.wait(timeout=120)
    return [(plan.run.name, plan.status) for plan in run_study(study)]
