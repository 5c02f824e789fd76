"""Running the loop: one round in the kernel, or round after round in a worker process.

The worker process reads people's answers from the store, so it needs nothing from the kernel
but its settings; a kernel restart loses no work, and a new kernel sees the worker's rounds.
Each round is written in one store transaction (report, proposals, queue, auto-labels and the
retraction of stale auto-labels), so a killed worker never leaves half a round behind. The
worker runs at a lower priority with one BLAS thread, leaving the other core to the person.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nblabel.autolabel.asked import queue_draws, was_drawn
from nblabel.autolabel.auto_changes import auto_changes
from nblabel.autolabel.box_loop import run_box_round
from nblabel.autolabel.detector import BoxDetector
from nblabel.autolabel.distributed import (
    ClusterError,
    ClusterFeatures,
    ClusterItems,
    connect,
    hashed_text_features,
)
from nblabel.autolabel.entity_loop import compute_entity_round
from nblabel.autolabel.features import (
    Featurizer,
    Progress,
    UnreadableError,
    cached_features,
    default_featurizer,
    item_features,
)
from nblabel.autolabel.loop import Round, RoundReport, WarmStart, compute_round, default_estimator
from nblabel.autolabel.mask_loop import default_pixel_estimator
from nblabel.autolabel.mask_worker import MaskFeatures, mask_evidence, run_mask_round
from nblabel.autolabel.pixels import PixelFeatures
from nblabel.autolabel.tagger import default_crf, document_features, tag_texts
from nblabel.store import Store, open_store
from nblabel.store.kinds import HUMAN_KINDS
from nblabel.store.ledger import Ledger
from nblabel.tasks.classification import classes_of

__all__ = ["Settings", "Worker", "check_picklable", "run_round", "status", "worker_environment"]

log = logging.getLogger(__name__)


@dataclass
class Settings:
    """Everything a round needs, picklable so a worker process can be started with it."""

    store_path: str  # the store's spec: a file path or a postgresql:// URL
    attribute: str
    media: str
    labels: list[str]
    multi_label: bool
    keys: list[str]
    sources: list[Any]
    estimator: Any = None
    featurizer: Featurizer | None = None
    target: float = 0.95
    folds: int = 5
    random_fraction: float = 0.5
    every: int = 20
    interval: float = 30.0
    seed: int = 0
    cache_dir: str = ".nblabel/features"
    model_name: str = field(default="")
    job_name: str = ""
    answers_per_item: int = 1
    entities: bool = False  # a NamedEntities job: a CRF tagger proposes spans (entity_loop.py)
    # A BoundingBox job: a detector proposes boxes, auto-labels on held-out mIoU (box_loop.py).
    boxes: bool = False
    detector: Any = None
    level: float = 0.95  # the one-sided confidence of every loop's bound (accuracy or mIoU)
    min_score: float = 0.5  # boxes scoring less are not proposed
    masks: bool = False  # a SemanticSegmentation job: a pixel classifier (mask_loop.py)
    # Rows added to the open job (Job.add) after ``keys`` was taken: the last one already in it,
    # and the manifest column holding each item's source, to read the others from the store.
    added_seq: int = 0
    source_column: str = "source-ref"
    # A Dask scheduler's address: features and predictions on its cluster (distributed.py).
    cluster: str | None = None
    # Where the cluster's partition files go: an s3:// prefix or a folder every Dask worker
    # shares; None: "partitions" beside the job's feature cache.
    cluster_cache: str | None = None
    partition_size: int = 0  # 0: distributed.PARTITION_SIZE
    # Text jobs: the labels' prompts for zero-shot proposals before the first answers (zero_shot.py);
    # None for none.
    label_prompts: list[str] | None = None

    def __post_init__(self) -> None:
        if self.boxes:
            if self.detector is None:
                self.detector = BoxDetector(cache_dir=self.item_cache)
            self.model_name = self.model_name or type(self.detector).__name__
            return
        if self.masks:
            if self.estimator is None:
                self.estimator = default_pixel_estimator()
            if self.featurizer is None:
                self.featurizer = PixelFeatures()
        if self.entities:
            if self.estimator is None:
                self.estimator = default_crf()
            if self.featurizer is None:
                self.featurizer = document_features
        if self.estimator is None:
            self.estimator = default_estimator(self.media)
        if self.featurizer is None and self.cluster and self.media == "text":
            self.featurizer = hashed_text_features  # TF-IDF's corpus-wide fit cannot be partitioned
        if self.featurizer is None:
            self.featurizer = default_featurizer(self.media)
        if not self.model_name:
            self.model_name = type(self.estimator).__name__

    @property
    def item_cache(self) -> str:
        """Where box feature maps and pixel features are cached: next to the store, or where
        ``cluster_cache`` says (a folder, or an ``s3://`` prefix for workers that share no
        folder with the job), which the Dask workers write too."""
        return self.cluster_cache or self.cache_dir

    def follow_additions(self, store: Store) -> bool:
        """Take in the rows added to the job since the last look (``Job.add``); True if any."""
        added = store.added_items(self.attribute, after=self.added_seq)
        if not added:
            return False
        self.added_seq = added[-1][0]
        known = set(self.keys)
        for _, _, item, line in added:
            if item not in known:
                self.keys.append(item)
                self.sources.append(json.loads(line).get(self.source_column))
        return True

    def features(self, client: Any = None, progress: Progress | None = None) -> Any:
        """The job's features, from the cache next to the store when they were computed before
        (none for a box job: its detector keeps its own); for classification with the items the
        featurizer could not read (:class:`~nblabel.autolabel.features.Features`). With a
        cluster, computed and kept there (:class:`~nblabel.autolabel.distributed.ClusterFeatures`),
        through ``client`` or a new client of the scheduler; for entity, box and mask jobs the
        cluster that predicts their open items (:class:`~nblabel.autolabel.distributed.ClusterItems`),
        which makes their features as it predicts them. ``progress`` hears how many items'
        features were computed so far, of how many (not with a cluster: its workers make them).

        Raises
        ------
        ClusterError
            The cluster could not be reached or was lost.
        """
        if self.cluster:
            from nblabel.autolabel import distributed

            own = client is None
            client = connect(self.cluster) if own else client
            if self.entities or self.boxes or self.masks:
                images = distributed.IMAGE_PARTITION_SIZE if self.boxes or self.masks else 0
                return ClusterItems(client, self.partition_size or images or distributed.PARTITION_SIZE)
            assert self.featurizer is not None  # set in __post_init__
            try:
                return ClusterFeatures(
                    client,
                    self.sources,
                    self.featurizer,
                    self.cluster_cache or Path(self.cache_dir).resolve() / "partitions",
                    self.partition_size or distributed.PARTITION_SIZE,
                )
            except BaseException:
                if own:
                    client.close()
                raise
        if self.boxes:
            return None
        if self.masks:
            return MaskFeatures(self.sources, self.featurizer, Path(self.cache_dir)).compute_all(
                progress=progress
            )
        if self.entities:
            return cached_features(self.sources, self.featurizer, Path(self.cache_dir), documents=True)
        return item_features(self.sources, self.featurizer, Path(self.cache_dir), progress)


def _encode(value: Any, labels: list[str], multi: bool) -> Any:
    value = classes_of(value)  # an answer with frame attributes trains on its classes
    return tuple(labels.index(v) for v in value) if multi else labels.index(value)


def _decode(value: Any, labels: list[str], multi: bool) -> Any:
    return [labels[j] for j in value] if multi else labels[value]


def run_round(
    settings: Settings,
    X: Any,
    store: Store,
    ledger: Ledger,
    warm: WarmStart | None = None,
    progress: Progress | None = None,
) -> RoundReport:
    """Compute one round from the store's answers and save it (all or nothing). ``warm`` carries
    the models from round to round in a running worker (incremental fits, see ``WarmStart``).
    ``progress`` hears how far a box round's proposals got (the images it predicted, of how
    many: a detector's first pass over a large job takes minutes); other rounds' long part is the
    features (:meth:`Settings.features`).

    The round uses one BLAS and one OpenMP thread, in the kernel too (the worker process has
    one throughout): on a busy machine their threads wait on each other. Measured at load 4.6 on
    2 cores, a logistic regression on 300 TF-IDF answers took 7.9 s with OpenBLAS's 2 threads and
    0.05 s with one; the models a round fits are too small to gain from more.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _round(settings, X, store, ledger, warm, progress)


def _round(
    settings: Settings,
    X: Any,
    store: Store,
    ledger: Ledger,
    warm: WarmStart | None,
    progress: Progress | None,
) -> RoundReport:
    ledger.apply(store.annotations(settings.attribute, after=ledger.last_seq))
    if settings.entities:
        return _run_entity_round(settings, X, store, ledger)
    if settings.boxes:
        return run_box_round(settings, store, ledger, X, progress)
    if settings.masks:
        return run_mask_round(settings, X, store, ledger)
    labels, multi, keys = settings.labels, settings.multi_label, settings.keys
    answered: list[tuple[int, int, Any]] = []  # (log position, row position, encoded answer)
    random_draws: set[int] = set()
    open_positions: list[int] = []
    no_auto: set[int] = set()
    unfeaturized: dict[int, str] = getattr(X, "failures", {})  # unreadable: left to people
    answered_unreadable: list[int] = []
    unread_open: list[str] = []  # their stale auto-labels are retracted
    for position, key in enumerate(settings.keys):
        label = ledger.label(key)
        human = label is not None and label.kind in HUMAN_KINDS
        if position in unfeaturized:
            if human:
                answered_unreadable.append(position)
            elif not ledger.is_skipped(key):
                unread_open.append(key)
            continue
        if human:
            try:
                answered.append((label.seq or 0, position, _encode(label.value, labels, multi)))
            except ValueError:
                log.warning("ignoring an answer that is not one of the labels: %r", label.value)
                continue
            if was_drawn(label.meta):
                random_draws.add(position)
            continue
        if ledger.is_skipped(key):  # a person passed on it (e.g. unreadable): not for the model
            continue
        open_positions.append(position)
        if ledger.human_rejected(key):
            no_auto.add(position)
    human = {position: value for _, position, value in sorted(answered, key=lambda a: a[0])}  # answer order
    if unfeaturized:
        _check_readable(settings, unfeaturized, answered_unreadable, len(answered))
    zero_shot = None
    if settings.label_prompts and len(human) < 8:  # the loop trains from 8 answers on
        zero_shot = _zero_shot_embeddings(settings, X)
    previous = store.latest_round(settings.attribute)
    result: Round = compute_round(
        X,
        len(labels),
        human,
        open_positions,
        multi_label=multi,
        estimator=settings.estimator,
        target=settings.target,
        level=settings.level,
        folds=settings.folds,
        random_fraction=settings.random_fraction,
        random_draws=frozenset(random_draws),
        no_auto=frozenset(no_auto),
        seed=settings.seed,
        round_number=(previous[0] + 1) if previous else 1,
        warm=warm,
        decide=getattr(X, "decide", None),  # a cluster predicts the open items where they are
        zero_shot=zero_shot,
    )
    if unfeaturized:
        first = sorted(unfeaturized.items())[:1000]
        result.report = replace(
            result.report,
            unfeaturized={keys[p]: why for p, why in first},
            unfeaturized_count=len(unfeaturized),
        )
        log.warning(
            "%d of %d items unreadable, left for people; the first: %s: %s",
            len(unfeaturized),
            len(keys),
            settings.sources[first[0][0]],
            first[0][1],
        )
    annotator = f"auto:{settings.model_name}"
    fresh = {keys[p]: (_decode(v, labels, multi), c) for p, v, c in result.auto}
    changes = auto_changes(
        ledger, settings.attribute, annotator, [*(keys[p] for p in open_positions), *unread_open], fresh
    )
    proposals = [(keys[p], _decode(v, labels, multi), round(c, 4)) for p, (v, c) in result.proposals.items()]
    store.save_round(
        settings.attribute,
        {**result.report.to_dict(), **queue_draws(result.queue, result.random_draws)},
        proposals,
        [keys[p] for p in result.queue],
        changes,
    )
    ledger.apply(store.annotations(settings.attribute, after=ledger.last_seq))
    log.info("%s", result.report)
    return result.report


def _check_readable(
    settings: Settings, unfeaturized: dict[int, str], answered_unreadable: list[int], answered: int
) -> None:
    """Refuse a round with nothing to learn from: every item unreadable, or every answered one.

    Raises
    ------
    UnreadableError
        Naming the first such item, why it could not be read, how many are, and where to look.
    """
    n = len(settings.keys)
    noun = "images" if settings.media == "image" else "items"
    if len(unfeaturized) == n:
        first, what = min(unfeaturized), f"{n} of {n} {noun} unreadable"
    elif answered_unreadable and not answered:
        first = answered_unreadable[0]
        what = (
            f"all {len(answered_unreadable)} answered {noun} unreadable ({len(unfeaturized)} of {n} in all)"
        )
    else:
        return
    s3 = any(isinstance(s, str) and s[:5].lower() == "s3://" for s in settings.sources)
    where = "the Dask workers" if settings.cluster else "the auto-labeler's process"
    hint = ""  # a text job's featurizer reported them: it knows why
    if s3:
        hint = f"; do {where} have the S3 settings (AWS_* variables, a config file or a role)?"
    elif settings.media == "image":
        hint = f"; can {where} read these files?"
    raise UnreadableError(f"{settings.sources[first]}: {unfeaturized[first]}; {what}{hint}")


def _zero_shot_embeddings(settings: Settings, X: Any) -> tuple[Any, Any]:
    """The items' and the label prompts' MiniLM embeddings: the job's features when they are
    MiniLM's already, else computed once and cached like any featurizer's."""
    from nblabel.autolabel.embeddings import minilm_features

    if settings.featurizer is minilm_features:
        items = X
    else:
        items = cached_features(settings.sources, minilm_features, Path(settings.cache_dir))
    return items, minilm_features(settings.label_prompts or [])


def _run_entity_round(settings: Settings, X: Any, store: Store, ledger: Ledger) -> RoundReport:
    """An entity round: proposals and the queue, no auto-labels (see entity_loop.py). ``X`` is
    the texts' features, or the cluster that tags the open texts (the answered ones are
    featurized here, for the fit)."""
    human: dict[int, Any] = {}
    open_positions: list[int] = []
    for position, key in enumerate(settings.keys):
        label = ledger.label(key)
        if label is not None and label.kind in HUMAN_KINDS:
            human[position] = label.value
        elif not ledger.is_skipped(key):
            open_positions.append(position)
    previous = store.latest_round(settings.attribute)
    texts = [s if isinstance(s, str) else "" for s in settings.sources]
    predict = None
    if isinstance(X, ClusterItems):
        cluster, featurizer = X, settings.featurizer
        answered = sorted(human)
        X = dict(zip(answered, featurizer([settings.sources[p] for p in answered]), strict=True))

        def predict(tagger: Any, positions: list[int]) -> list[Any]:
            return list(
                cluster.map(tag_texts, (tagger, featurizer), [settings.sources[p] for p in positions])
            )

    result = compute_entity_round(
        texts,
        X,
        human,
        open_positions,
        crf=settings.estimator,
        folds=settings.folds,
        random_fraction=settings.random_fraction,
        seed=settings.seed,
        round_number=(previous[0] + 1) if previous else 1,
        predict=predict,
    )
    keys = settings.keys
    proposals = [(keys[p], value, round(c, 4)) for p, (value, c) in result.proposals.items()]
    store.save_round(
        settings.attribute, result.report.to_dict(), proposals, [keys[p] for p in result.queue], []
    )
    log.info("%s", result.report)
    return result.report


def _status_key(attribute: str) -> str:
    return f"autolabel:{attribute}:status"


def _main(settings: Settings, stop: Any) -> None:
    """The worker process: a round whenever enough new answers arrived, until told to stop."""
    store = open_store(settings.store_path, settings.job_name)
    status = _status_key(settings.attribute)

    def say(state: str, **extra: Any) -> None:
        store.set_meta(status, json.dumps({"state": state, "pid": os.getpid(), "time": time.time(), **extra}))

    said = 0.0

    def telling(state: str, **extra: Any) -> Progress:
        def told(done: int, total: int) -> None:  # at most once a second: each is a store write
            nonlocal said
            if done == total or time.monotonic() - said >= 1.0:
                said = time.monotonic()
                say(state, done=done, total=total, **extra)

        return told

    try:
        with _quiet_process():
            X = None
            if not settings.cluster:  # a cluster's features are made with the first round
                say("computing features")
                X = settings.features(progress=telling("computing features"))
            ledger = Ledger(settings.answers_per_item)
            warm = WarmStart()
            counted, last_time = -1, 0.0
            parent = os.getppid()
            say("waiting for answers")
            while not stop.is_set() and os.getppid() == parent:  # the kernel died: so do we
                if settings.follow_additions(store):  # rows added to the job: features for them too
                    X = None
                ledger.apply(store.annotations(settings.attribute, after=ledger.last_seq))
                answered = sum(
                    1
                    for key in settings.keys
                    if (a := ledger.label(key)) is not None and a.kind in HUMAN_KINDS
                )
                if settings.masks:  # painted strokes count as evidence too
                    answered += mask_evidence(store, settings.attribute)
                new = answered - counted
                due = new > 0 and (
                    counted < 0 or new >= settings.every or time.monotonic() - last_time >= settings.interval
                )
                if due:
                    try:
                        if X is None:
                            say("computing features")
                            X = settings.features(progress=telling("computing features"))
                        say("training", answers=answered)
                        report = run_round(
                            settings, X, store, ledger, warm, telling("proposing", answers=answered)
                        )
                    except ClusterError as exc:  # nothing was written: say so, try again later
                        log.warning("%s", exc)
                        say("cluster unavailable", error=str(exc))
                        if X is not None:
                            X.client.close()
                        X = None
                        stop.wait(settings.interval)
                        continue
                    counted, last_time = answered, time.monotonic()
                    say("waiting for answers", round=report.round)
                stop.wait(0.5)
            say("stopped")
    except Exception as exc:  # report, don't die silently: the kernel shows this in the status
        say("error", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        raise
    finally:
        store.close()


class _quiet_process:
    """One BLAS thread and a lower priority for the worker, so the widget keeps a core."""

    def __enter__(self) -> None:
        with contextlib.suppress(OSError):
            os.nice(10)
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(limits=1)

    def __exit__(self, *exc: object) -> None:
        self._limits.unregister()


def _die_with_parent() -> None:  # runs in the child between fork and exec (Linux only)
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def worker_environment() -> dict[str, str]:
    """The environment the auto-labeler's process starts with: this process's, without what a
    Dask ``LocalCluster`` started here left in it.

    A Dask nanny copies its workers' settings (``distributed.nanny.pre-spawn-environ``:
    ``MALLOC_TRIM_THRESHOLD_=65536``, ``OMP_NUM_THREADS=1``, ...) into the environment of the
    process that runs it, to pass them to the workers it spawns, and leaves them there, marked
    by ``__DASK_PARENT_PID``. They were meant for Dask's workers: inherited by nblabel's worker,
    the malloc setting makes image features about 3.4 times slower (docs/scale.md). A variable is
    dropped only when that marker names this process and the variable still holds Dask's value.
    """
    env = dict(os.environ)
    if env.get("__DASK_PARENT_PID") != str(os.getpid()):
        return env
    import dask.config

    del env["__DASK_PARENT_PID"]
    for key, value in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items():
        if env.get(key) == str(value):
            del env[key]
    return env


class Worker:
    """Handle on a background auto-labeling process.

    The process is ``python -m nblabel.autolabel.worker SETTINGS``: a fresh interpreter, so it
    neither forks the kernel (whose threads and sockets do not survive a fork) nor re-imports the
    notebook. It gets SIGTERM when the kernel dies, and stops after its current round.
    """

    def __init__(self, settings: Settings) -> None:
        folder = Path(settings.cache_dir).parent  # next to the store, or .nblabel/<job> for a database
        folder.mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="autolabel-", suffix=".pkl", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(settings, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.log_path = folder / f"{settings.job_name or Path(settings.store_path).stem}.autolabel.log"
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "nblabel.autolabel.worker", path],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=worker_environment(),
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self._process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the process to finish its round and stop; kill it if it does not."""
        if self.alive:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def check_picklable(*objects: Any) -> None:
    """Refuse estimators and featurizers a worker process could not load.

    Raises
    ------
    TypeError
        Something is a lambda, a local function, or defined in the notebook itself.
    """
    for obj in objects:
        if obj is None:
            continue
        owner = obj if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "fit")) else type(obj)
        module = getattr(owner, "__module__", None)
        name = getattr(owner, "__qualname__", "")
        if module == "__main__" or "<lambda>" in name or "<locals>" in name:
            raise TypeError(
                f"{name or obj!r} is defined in the notebook (or is a lambda), so the background "
                "auto-labeler's process cannot load it: move it to a module, or use "
                "background=False"
            )
        try:
            pickle.dumps(obj)
        except Exception as exc:
            raise TypeError(
                f"the background auto-labeler cannot send {obj!r} to its process: {exc}"
            ) from None


def _run_from_file(path: str) -> None:
    import signal
    import threading

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with open(path, "rb") as fh:
        settings = pickle.load(fh)
    os.unlink(path)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    _main(settings, stop)


def status(store: Store, attribute: str, worker: Worker | None) -> dict[str, Any]:
    """Where the loop is: the worker's state, and the latest round's report.

    ``state`` is the worker's own while it runs; without a running worker it is ``"error"`` (the
    worker failed), ``"stopped"`` (a worker ran), ``"idle"`` (rounds ran, in the foreground or in
    a worker stopped before it said anything) or ``"not started"`` (no round yet).
    ``unreadable`` (when the latest round left items out) holds their ``count`` and the ``first``
    five keys with the reason each could not be read.
    """
    raw = store.get_meta(_status_key(attribute))
    state = json.loads(raw) if raw else {"state": "not started"}
    state["running"] = worker is not None and worker.alive
    latest = store.latest_round(attribute)
    if not state["running"] and state["state"] != "error":
        if state["state"] != "not started":
            state["state"] = "stopped"
        elif latest is not None:
            state["state"] = "idle"
    if latest is not None:
        report = RoundReport.from_dict(latest[1])
        state["round"] = report.round
        state["report"] = str(report)
        if report.unfeaturized_count:  # left to people: how many, and the first few with why
            first = dict(list(report.unfeaturized.items())[:5])
            state["unreadable"] = {"count": report.unfeaturized_count, "first": first}
        state["threshold"] = report.threshold if math.isfinite(report.threshold) else None
    return state


if __name__ == "__main__":
    _run_from_file(sys.argv[1])
