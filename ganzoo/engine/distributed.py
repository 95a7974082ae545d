"""Running a function on several processes through ignite.distributed.

``launch(fn, nproc_per_node, backend, *args)`` calls ``fn(local_rank, *args)``:

- in this process when ``nproc_per_node`` is 1 and no launcher started us;
- in each process that ``torchrun`` started (``WORLD_SIZE`` > 1 in the environment), joining
  the group that torchrun describes (one or several machines);
- in ``nproc_per_node`` processes spawned by ``idist.Parallel`` on this machine otherwise.

The backend is nccl on GPUs and gloo on the CPU.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable
from types import FrameType
from typing import Any

import torch

logger = logging.getLogger(__name__)


def backend_for(device: torch.device) -> str:
    """nccl for CUDA devices, gloo for the CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def launched_by_torchrun() -> bool:
    """True inside a process that torchrun (or another env:// launcher) started with peers."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "LOCAL_RANK" in os.environ


def world_size_hint(nproc_per_node: int) -> int:
    """The number of processes the launch will have."""
    if launched_by_torchrun():
        return int(os.environ["WORLD_SIZE"])
    return nproc_per_node


def free_port() -> int:
    """A TCP port nobody listens on now, for a single machine's rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(fn: Callable[..., None], nproc_per_node: int, backend: str, *args: Any) -> None:
    """Run ``fn(local_rank, *args)`` on one or several processes (see the module docstring).

    While spawned processes run, a SIGINT or SIGTERM sent to this process is passed on to them,
    so that they checkpoint and stop together (see :mod:`ganzoo.engine.signals`).
    """
    import ignite.distributed as idist

    if launched_by_torchrun():
        with idist.Parallel(backend=backend) as parallel:
            parallel.run(fn, *args)
        return
    if nproc_per_node <= 1:
        fn(0, *args)
        return
    port = int(os.environ.get("MASTER_PORT", 0)) or free_port()
    logger.info("spawning %d processes (backend %s, port %d)", nproc_per_node, backend, port)
    previous = {s: signal.signal(s, _forward_to_children) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with idist.Parallel(
            backend=backend, nproc_per_node=nproc_per_node, master_port=port
        ) as parallel:
            parallel.run(fn, *args)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _forward_to_children(signum: int, frame: FrameType | None) -> None:
    for child in multiprocessing.active_children():
        with contextlib.suppress(ProcessLookupError, TypeError):
            os.kill(child.pid, signum)
