"""Where the areas run: a local cluster of worker processes, or an existing Dask cluster.

Both go through one :class:`distributed.Client`. A local cluster has one worker process per
core (or ``workers``), one thread each (a worker holds one area at a time) and a memory limit
of :func:`worker_memory_limit`. Workers of an existing cluster should be started the same way
(``dask worker ADDRESS --nthreads 1 --memory-limit 8GiB``; README, "Batch planning").
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed import Client, LocalCluster

log = logging.getLogger(__name__)

#: Memory limit of one worker at most [bytes]: two workers take 16 GiB of a 24 GiB machine.
WORKER_MEMORY_CAP_BYTES = 8 * 2**30
#: Share of the machine's memory that all local workers together may take [-].
WORKER_MEMORY_SHARE = 0.8
#: Port of the Dask dashboard when it is free (else any free port).
DASHBOARD_PORT = 8787


def worker_memory_limit(n_workers: int, total_bytes: int | None = None) -> int:
    """Memory limit of each of ``n_workers`` local workers [bytes]: their fair share of
    ``WORKER_MEMORY_SHARE`` of the machine's memory, at most ``WORKER_MEMORY_CAP_BYTES``."""
    if total_bytes is None:
        import psutil

        total_bytes = int(psutil.virtual_memory().total)
    return int(min(WORKER_MEMORY_CAP_BYTES, WORKER_MEMORY_SHARE * total_bytes / max(n_workers, 1)))


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def open_client(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A :class:`distributed.Client` of a new local cluster (``workers`` processes, default: one a
    core) or of the existing cluster at ``scheduler`` (``tcp://host:8786``); closed on exit.

    Raises
    ------
    ConnectionError
        No scheduler answers at ``scheduler``.
    """
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise ConnectionError(f"no Dask scheduler answers at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    dashboard = f"127.0.0.1:{DASHBOARD_PORT}" if _port_free(DASHBOARD_PORT) else "127.0.0.1:0"
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            memory_limit=worker_memory_limit(n),
            dashboard_address=dashboard,
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def check_shared_folder(client: Client, out_root: Path) -> None:
    """Check that every worker sees ``out_root`` (the batch sends paths, not data).

    A marker file with a random name is written there and each worker is asked whether it
    sees it.

    Raises
    ------
    FileNotFoundError
        Naming the workers that do not see the folder, and what to do.
    """
    marker = out_root / f".batch-check-{uuid.uuid4().hex}"
    marker.write_text("lvbalance batch: shared file system check\n", encoding="utf-8")
    try:
        seen = client.run(os.path.isfile, str(marker))
    finally:
        marker.unlink(missing_ok=True)
    blind = sorted(w for w, ok in seen.items() if not ok)
    if not seen:
        raise FileNotFoundError("the Dask cluster has no workers; start some with `dask worker SCHEDULER_ADDRESS --nthreads 1`")
    if blind:
        raise FileNotFoundError(
            f"worker(s) {', '.join(blind)} do not see the output folder {out_root}: lvbalance batch sends paths, so the "
            "case directories and the output folder must be on a file system shared by this machine and every worker "
            "(the same absolute path everywhere)"
        )


def worker_count(client: Client) -> int:
    """Workers the scheduler knows now."""
    return len(client.scheduler_info().get("workers", {}))
