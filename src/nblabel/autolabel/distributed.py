"""The auto-labeler's heavy part on a Dask cluster: features and predictions, in partitions.

``job.autolabel(cluster=...)`` (a ``dask.distributed.Client`` or a scheduler address) keeps the
small part of a round where it is, in the job's worker: reading the answers, fitting the model
on them, the accuracy bound, writing the round in one store transaction. The cluster does the
part that grows with the job:

- **features**: the items are cut into partitions of consecutive positions; a Dask worker
  featurizes each, reading the media where they live (a shared path, or ``s3://`` through
  nblabel's S3 reader with the AWS settings of the worker's own environment: the standard chain
  of ``AWS_*`` variables, config files and instance roles, so a ``LocalCluster`` started in the
  kernel reads S3 as the kernel does; no credentials travel with the tasks), and writes the
  result as one ``.npz`` file (``allow_pickle=False``: numbers and reason strings, never a
  pickle) in the partition folder next to the store, or under the ``s3://`` prefix the user
  names (``job.autolabel(cluster=..., cluster_cache="s3://bucket/prefix")``). A file is named
  by a fingerprint of the featurizer and its partition's sources, so each item is featurized once: later rounds, other
  kernels and a restarted worker find the files; rows added to the job (``Job.add``) change only
  the last partition's name, and new partitions after it.
- **predictions**: each round's fitted model (:class:`~nblabel.autolabel.loop.Fitted`, small) is
  sent to the workers once, as a task the others depend on, and every partition with open items
  returns only their answer, confidence and margin, never feature rows. The rows of the answered
  items, which the fit needs, come back to the job's worker (a few thousand rows).

Faults: a Dask worker killed mid-round loses nothing Dask cannot recompute (every task,
including the model's, can be run again from its inputs, and a partition file is written aside
and renamed), so the round completes with the same result. A scheduler that cannot be reached,
or goes away mid-round, raises :class:`ClusterError` before anything is written: the job goes
on, and the background worker tries again at its next round. A featurizer failing on a
partition is run again item by item; the items it still fails on, and those it reports
unreadable (:func:`~nblabel.autolabel.features.report_unreadable`: the default image featurizers
do, for an image a worker cannot fetch), are left out of the round (their reasons in the report's
``unfeaturized``) and tried again when the partition is next needed. When every item is
unreadable (say, Dask workers without the S3 settings), the round fails with
:class:`~nblabel.autolabel.features.UnreadableError` naming one and why.

The entity, box and mask auto-labelers run on a cluster too (:class:`ClusterItems`): their
fits are over the answered items and stay in the job's worker, while predicting every open item,
the part that grows with the job, is mapped over the workers with :func:`cluster_map`. Their
per-item features are made on the workers: a text's tokens are computed there and not kept (as
cheap to make as to read back); box feature maps and pixel features go to the detector's and the
pixel featurizer's own ``.npz`` caches, in the folder ``cluster_cache=`` names or next to the store
(a ``LocalCluster`` or a shared path), or under its ``s3://`` prefix.

The featurizer must make each item's row from that item alone (the image default does): a
partition never sees the others. Text jobs on a cluster default to :func:`hashed_text_features`
instead of TF-IDF fitted on every text. Needs the ``dask`` extra: ``pip install 'nblabel[dask]'``.
"""

from __future__ import annotations

import collections
import contextlib
import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from nblabel.autolabel.cache_files import cache_path, read_cache, write_cache
from nblabel.autolabel.features import (
    Featurizer,
    _fingerprint,
    failure_arrays,
    failures_of,
    featurize,
    load_feature_file,
    row_wise,
    stack_rows,
    unreadable_reason,
    write_features,
)
from nblabel.autolabel.loop import Fitted

__all__ = [
    "IMAGE_PARTITION_SIZE",
    "PARTITION_SIZE",
    "ClusterError",
    "ClusterFeatures",
    "ClusterItems",
    "cluster_address",
    "cluster_map",
    "connect",
    "hashed_text_features",
]

log = logging.getLogger(__name__)

#: Items per partition: a Dask worker holds one partition's features at a time.
PARTITION_SIZE = 5000
#: Images per partition of a box or mask round: each takes a feature map and a prediction
#: (tens of milliseconds to a second), and a mask round's result holds two bytes per pixel.
IMAGE_PARTITION_SIZE = 16
#: Seconds to reach the scheduler before the round fails.
CONNECT_TIMEOUT = 10.0
#: Seconds a round waits on a cluster with no worker at all (all died, none started yet) before
#: it fails: Dask itself would hold the tasks until a worker joins, and the round would hang.
NO_WORKERS_GRACE = 120.0
#: How often, in seconds, a waiting round asks the scheduler whether it still has workers.
_POLL = 2.0


class ClusterError(RuntimeError):
    """The Dask cluster could not be reached, or was lost mid-round; no round was written."""


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError("cluster= needs Dask: pip install 'nblabel[dask]'") from exc
    return distributed


def cluster_address(cluster: Any) -> str:
    """The scheduler address of a ``dask.distributed.Client`` or of an address string."""
    if isinstance(cluster, str):
        return cluster
    address = getattr(getattr(cluster, "scheduler", None), "address", None)
    if not isinstance(address, str):
        raise TypeError(f"cluster must be a dask.distributed.Client or a scheduler address, got {cluster!r}")
    return address


def connect(address: str) -> Any:
    """A client of the scheduler at ``address`` (``ClusterError`` when it cannot be reached)."""
    distributed = _distributed()
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


@row_wise
def hashed_text_features(texts: Sequence[Any]) -> Any:
    """Words and word pairs hashed into 2**16 columns, sublinear counts, rows of unit length
    (a scipy sparse matrix): TF-IDF without the corpus-wide fit, so each text's row depends on
    that text alone and a partition can be featurized by itself."""
    from sklearn.feature_extraction.text import HashingVectorizer

    docs = [t if isinstance(t, str) else "" for t in texts]
    counts = HashingVectorizer(
        ngram_range=(1, 2), n_features=2**16, alternate_sign=False, norm=None
    ).transform(docs)
    counts.data = 1.0 + np.log(counts.data)
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ counts)


# -- tasks, run on the Dask workers ------------------------------------------------------------


def _featurize_partition(
    featurizer: Featurizer, partition: tuple[list[Any], str]
) -> tuple[int, dict[int, str]]:
    """Write a partition's feature file (``partition``: its sources and the file's path) unless
    it is there: the width, and the items (by place in the partition) the featurizer could not
    read, with the reason. Items a file lists as unreadable are tried again (a missing file may
    be back, a worker may have its S3 settings now), and the file is rewritten when some of them
    could be read."""
    sources, path = partition
    try:
        kept = _load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("computing again the broken partition file %s: %s", path, exc)
        kept = None
    if kept is not None:
        features, rows, failed = kept
        if failed:
            places = sorted(failed)
            again, found, still = _featurize([sources[p] for p in places], featurizer)
            failed = {places[i]: why for i, why in still.items()}
            if found:
                rows = np.concatenate([rows, np.asarray(places)[found]])
                order = np.argsort(rows, kind="stable")
                features, rows = stack_rows([features, again])[order], rows[order]
                _save(path, features, rows.tolist(), failed)
        return features.shape[1], failed
    features, rows, failed = _featurize(sources, featurizer)
    _save(path, features, rows, failed)
    return features.shape[1], failed


def _featurize(sources: list[Any], featurizer: Featurizer) -> tuple[Any, list[int], dict[int, str]]:
    """The rows of the items the featurizer can read, their places, and the others' reasons:
    those it reported (:func:`~nblabel.autolabel.features.report_unreadable`) and those it
    raised on."""
    try:
        features, failed = featurize(sources, featurizer)
    except Exception:  # one bad item should not cost the others: try them one by one
        parts, failed = [], {}
        for i, source in enumerate(sources):
            try:
                row, reported = featurize([source], featurizer)
            except Exception as exc:
                failed[i] = unreadable_reason(exc, source)
                continue
            if reported:
                failed[i] = reported[0]
            else:
                parts.append(row)
        rows = [i for i in range(len(sources)) if i not in failed]
        return (stack_rows(parts) if parts else np.zeros((0, 0))), rows, failed
    rows = [i for i in range(len(sources)) if i not in failed]
    return (features[rows] if failed else features), rows, failed


def _rows(path: str, local: np.ndarray) -> Any:
    """Feature rows of some items of a partition (their places in it; none of them failed)."""
    found = _load(path)
    if found is None:
        raise FileNotFoundError(f"the partition file {path} is gone")
    features, rows, _ = found
    where = np.searchsorted(rows, local)
    return features[where]


def _shared(value: Any) -> Any:
    """What a map shares with every partition (a featurizer, the round's model) as a task of its
    own: the partitions' tasks depend on it, so it travels to each worker once, and Dask can make
    it again if its worker dies."""
    return value


def _decide(fitted: Fitted, partition: tuple[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The answer, confidence and margin of some items of a partition (its file's path and
    their places in it): all a round needs."""
    path, local = partition
    return fitted.decide(_rows(path, local))


def _save(path: str, features: Any, rows: list[int], failed: dict[int, str]) -> None:
    """One partition file: the rows of the items read, their places, the unreadable items."""
    buffer = io.BytesIO()
    write_features(buffer, features, rows=np.asarray(rows, dtype=np.int64), **failure_arrays(failed))
    write_cache(path, buffer.getvalue())


def _load(path: str) -> tuple[Any, np.ndarray, dict[int, str]] | None:
    """A partition file: its feature rows, the places they are for, and the unreadable items;
    None when it is not there."""
    data = read_cache(path)
    if data is None:
        return None
    features, arrays = load_feature_file(io.BytesIO(data))
    return features, arrays["rows"], failures_of(arrays)


# -- the job's side --------------------------------------------------------------------------


@contextlib.contextmanager
def _cluster_errors(client: Any, what: str) -> Iterator[None]:
    """Dask's errors for an unreachable or lost cluster, raised as ``ClusterError``."""
    distributed = _distributed()
    try:
        yield
    except (OSError, TimeoutError, distributed.client.FutureCancelledError) as exc:
        address = getattr(client.scheduler, "address", "?")
        raise ClusterError(
            f"the Dask cluster at {address} could not {what} ({type(exc).__name__}: {exc}); "
            "no round was written"
        ) from exc
    except Exception as exc:
        if type(exc).__name__ in ("CancelledError", "CommClosedError"):
            raise ClusterError(f"the Dask cluster was lost while it would {what}: {exc}") from exc
        raise


def _wait_with_workers(client: Any, futures: list[Any], what: str) -> None:
    """Wait for ``futures`` while the cluster has workers; ``ClusterError`` once it has had none
    for ``NO_WORKERS_GRACE`` seconds (a slow round on live workers waits as long as it takes)."""
    idle_since: float | None = None
    while not all(future.done() for future in futures):
        try:  # the future's own client: the worker's is not the default one
            next(future for future in futures if not future.done()).result(timeout=_POLL)
            continue
        except TimeoutError:
            pass
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        if workers:
            idle_since = None
            continue
        now = time.monotonic()
        idle_since = now if idle_since is None else idle_since
        if now - idle_since >= NO_WORKERS_GRACE:
            address = getattr(client.scheduler, "address", "?")
            raise ClusterError(
                f"the Dask cluster at {address} has had no workers for {NO_WORKERS_GRACE:.0f} s "
                f"while it would {what}; no round was written"
            )


def _gather(client: Any, futures: list[Any], what: str) -> list[Any]:
    """The futures' results, or ``ClusterError`` when the cluster is unreachable or lost."""
    with _cluster_errors(client, what):
        _wait_with_workers(client, futures, what)
        return list(client.gather(futures))


def cluster_map(
    client: Any,
    function: Callable[[Any, Any], Any],
    shared: Any,
    partitions: Iterable[Any],
    what: str = "predict the open items",
) -> Iterator[Any]:
    """``function(shared, partition)`` of each partition, run on the Dask workers and yielded in
    the partitions' order.

    ``shared`` (a featurizer, the round's fitted model or detector) is sent once, as a task the
    partitions' tasks depend on (see :func:`_shared`). A window of partitions is in flight, not
    all of them: three per worker thread (at least four). Each task carries its partition, and a
    worker handed every task at once held them all (its memory grew with the job: 354, 502 and
    955 MB at 100k, 300k and 1M texts); ``partitions`` is read only as the window moves, and a
    result is yielded as soon as it and those before it are done, so the caller holds a window's
    results at most when it consumes them as they come (the mask round writes each proposal
    out). ``what`` names the work in errors.

    Raises
    ------
    ClusterError
        The cluster could not be reached, was lost, or has had no workers for
        ``NO_WORKERS_GRACE`` seconds.
    """
    with _cluster_errors(client, what):
        threads = sum(
            w.get("nthreads", 1) for w in client.scheduler_info(n_workers=-1).get("workers", {}).values()
        )
        model = client.submit(_shared, shared, pure=False)
    window = max(4, 3 * threads)
    running: collections.deque[Any] = collections.deque()
    for partition in partitions:
        with _cluster_errors(client, what):
            running.append(client.submit(function, model, partition, pure=False))
        if len(running) >= window:
            yield _gather(client, [running.popleft()], what)[0]
    while running:
        yield _gather(client, [running.popleft()], what)[0]


class ClusterFeatures:
    """A job's features, computed and kept in partition files by a Dask cluster.

    It stands where the feature matrix stands in a round (:func:`~nblabel.autolabel.loop.compute_round`):
    ``shape``, rows by position (``X[positions]``, gathered from the cluster for the fit) and
    :meth:`decide` for the open items. Featurizes every partition when made.

    Parameters
    ----------
    client
        A ``dask.distributed.Client``.
    sources
        Every item's source, by position.
    featurizer
        A per-item featurizer (see the module).
    folder
        Where the partition files go: a folder every Dask worker can write and read, or an
        ``s3://`` prefix (each file one object, read and written with the workers' own AWS
        settings).
    partition_size
        Items per partition.

    Raises
    ------
    ClusterError
        The cluster could not be reached or was lost.
    """

    def __init__(
        self,
        client: Any,
        sources: Sequence[Any],
        featurizer: Featurizer,
        folder: Path | str,
        partition_size: int = PARTITION_SIZE,
    ) -> None:
        self.client = client
        self.size = partition_size
        n = len(sources)
        bounds = [(start, min(start + partition_size, n)) for start in range(0, n, partition_size)]
        self.paths = [
            cache_path(folder, f"part-{_fingerprint(sources[a:b], featurizer)}.npz") for a, b in bounds
        ]
        partitions = ((list(sources[a:b]), path) for (a, b), path in zip(bounds, self.paths, strict=True))
        results = list(
            cluster_map(client, _featurize_partition, featurizer, partitions, "featurize the items")
        )
        #: Items the featurizer failed on: position -> the reason.
        self.failures = {
            a + i: why
            for (a, _), (_, failed) in zip(bounds, results, strict=True)
            for i, why in failed.items()
        }
        self.shape = (n, max((width for width, _ in results), default=0))

    def _by_partition(self, positions: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(partition, places in it, places in ``positions``) of each partition some are in."""
        parts = positions // self.size
        out = []
        for part in np.unique(parts):
            where = np.flatnonzero(parts == part)
            out.append((int(part), positions[where] - part * self.size, where))
        return out

    def __getitem__(self, positions: Any) -> Any:
        """The feature rows of some items, in their order (for fitting: the answered items)."""
        positions = np.asarray(positions, dtype=int)
        groups = self._by_partition(positions)
        futures = [
            self.client.submit(_rows, self.paths[part], local, pure=False) for part, local, _ in groups
        ]
        blocks = _gather(self.client, futures, "read feature rows")
        if not blocks:
            return np.zeros((0, self.shape[1]))
        order = np.concatenate([where for _, _, where in groups])
        return stack_rows(blocks)[np.argsort(order, kind="stable")]

    def decide(self, fitted: Fitted, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The answer, confidence and margin of each item at ``positions``, predicted on the
        workers by the round's model."""
        positions = np.asarray(positions, dtype=int)
        groups = self._by_partition(positions)
        partitions = [(self.paths[part], local) for part, local, _ in groups]
        results = list(cluster_map(self.client, _decide, fitted, partitions, "predict the open items"))
        order = np.argsort(np.concatenate([where for _, _, where in groups]), kind="stable")
        answer, confidence, margin = (np.concatenate(column)[order] for column in zip(*results, strict=True))
        return answer, confidence, margin


class ClusterItems:
    """The open items of an entity, box or mask round, predicted on a Dask cluster.

    These auto-labelers fit on the answered items in the job's worker (a few hundred texts or
    images, with cross-fitting) and hand their fitted model here: :meth:`map` cuts the open
    items into partitions of consecutive items and runs a function of the model and a partition
    on the workers (:func:`cluster_map`), which make each item's features where they predict it.

    Parameters
    ----------
    client
        A ``dask.distributed.Client``.
    partition_size
        Items per partition.
    """

    def __init__(self, client: Any, partition_size: int) -> None:
        self.client = client
        self.size = partition_size

    def map(
        self, function: Callable[[Any, list[Any]], Sequence[Any]], shared: Any, items: Sequence[Any]
    ) -> Iterator[Any]:
        """``function(shared, partition)`` over ``items`` in partitions, on the workers: one
        result per item (``function`` returns one per item of its partition), in ``items``'
        order, each yielded once its partition is back.

        Raises
        ------
        ClusterError
            The cluster could not be reached or was lost; nothing of the round was written.
        """
        partitions = (list(items[a : a + self.size]) for a in range(0, len(items), self.size))
        for results in cluster_map(self.client, function, shared, partitions):
            yield from results
