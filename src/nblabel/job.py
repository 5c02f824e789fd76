"""A labeling job: a dataset, a task, and the durable store of every answer.

A :class:`Job` is what the user holds in the notebook. Displaying it shows the task's widget;
its methods record answers programmatically and build Ground Truth's augmented manifest from the
store. Re-creating the same job after a kernel restart resumes where the person stopped, because
the store, not the Python object, is the source of truth.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import re
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from nblabel.items import KeyPositions, item_keys, source_column
from nblabel.ledger import HUMAN_KINDS, Ledger
from nblabel.manifest import read_manifest
from nblabel.media import check_local_refs
from nblabel.store import CLAIM_TTL, Annotation, Store, new_uid, open_store
from nblabel.store.claims import SLOT_KINDS, choose
from nblabel.tasks.base import Task

if TYPE_CHECKING:
    from nblabel.autolabel.features import Featurizer
    from nblabel.autolabel.loop import RoundReport
    from nblabel.autolabel.worker import Worker
    from nblabel.consolidate import Consolidation
    from nblabel.formats.gt import ExportResult
    from nblabel.widgets.classify import ClassifyWidget
    from nblabel.widgets.review import ReviewWidget

__all__ = ["Job", "Progress"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class Progress(NamedTuple):
    """How far a job has come. ``labeled`` counts every labeled item, ``auto`` the part of them
    labeled by the auto-labeler and not (yet) by a person."""

    total: int
    labeled: int
    skipped: int
    remaining: int
    auto: int = 0


def default_annotator() -> str:
    """``NBLABEL_ANNOTATOR``, else the operating-system user."""
    name = os.environ.get("NBLABEL_ANNOTATOR", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "anonymous"


class Job:
    """A labeling job over a manifest.

    Parameters
    ----------
    name
        The job's name: letters, digits, ``.``, ``_`` and ``-``. GT's ``job-name`` becomes
        ``labeling-job/<name>``; the default store is ``.nblabel/<name>.sqlite``.
    data
        A manifest DataFrame with a ``source-ref`` (images) or ``source`` (texts) column, or the
        path of a manifest file.
    task
        What to do with each item, e.g. ``ImageClassification(["cat", "dog"])``.
    attribute
        The label attribute written to the manifest; defaults to ``name``.
    store
        The store's file path, defaulting to ``.nblabel/<name>.sqlite`` in the working directory;
        or ``postgresql://user@host:port/db`` for a team's shared store.
    annotator
        Who answers in this session; defaults to ``NBLABEL_ANNOTATOR`` or the OS user.
    media_root
        The folder local images must come from. Without it, a ``source-ref`` path with a ``..``
        part is refused (a manifest could otherwise point the widget at any file); with it,
        every local ``source-ref`` must lie inside this folder. See
        :func:`nblabel.media.check_local_refs`. A custom task's ``grant_read_access`` reads
        local files under the same rule.
    answers_per_item
        How many different people answer each item (Ground Truth's workers per object). Each
        person's queue skips the items they answered and those whose answers are taken; the
        job remembers the number, so teammates need not repeat it. Default: the job's number,
        1 for a new job.

    Examples
    --------
    >>> job = Job("pets", df, ImageClassification(["cat", "dog"]))  # doctest: +SKIP
    >>> job                                                          # doctest: +SKIP
    """

    def __init__(
        self,
        name: str,
        data: pd.DataFrame | str | os.PathLike[str],
        task: Task,
        *,
        attribute: str | None = None,
        store: str | os.PathLike[str] | None = None,
        annotator: str | None = None,
        media_root: str | os.PathLike[str] | None = None,
        answers_per_item: int | None = None,
    ) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"job name {name!r} must be 1-128 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if not isinstance(task, Task):
            raise TypeError(f"task must be an nblabel task such as ImageClassification, got {task!r}")
        self.name = name
        self.task = task
        self.attribute = attribute or name
        suffix = getattr(task, "attribute_suffix", "")  # GT: semantic-segmentation attributes end in -ref
        if suffix and not self.attribute.endswith(suffix):
            self.attribute += suffix
        _check_attribute(self.attribute)
        self.annotator = annotator or default_annotator()
        if isinstance(data, (str, os.PathLike)):
            data = read_manifest(data)
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a DataFrame or a manifest path, got {type(data).__name__}")
        self.data = data.reset_index(drop=True)
        wanted = "source-ref" if task.media == "image" else "source"
        if task.media == "any":  # a custom task shows whatever its template makes of a line
            wanted = source_column(self.data)
        if wanted not in self.data.columns:
            raise ValueError(
                f"{type(task).__name__} labels the {task.media} in each line's {wanted!r}, but the "
                f"manifest's columns are {list(map(str, self.data.columns))}"
            )
        missing = [c for c in task.columns if c not in self.data.columns]
        if missing:
            raise ValueError(
                f"{task!r} reads the manifest attribute(s) {missing}, which the manifest lacks; its "
                f"columns are {list(map(str, self.data.columns))}"
            )
        self.media_root = media_root
        self.keys = item_keys(self.data)
        self._position = KeyPositions(self.keys)
        self._sources = self.data[wanted].tolist()
        if wanted == "source-ref":
            check_local_refs(self._sources, media_root)
        self.store: Store = open_store(None if store is None else os.fspath(store), name)
        self._check_task()
        self.answers_per_item = self._check_answers_per_item(answers_per_item)
        #: Identifies this kernel's claims on items (see :meth:`claim`).
        self.session = new_uid()
        self._ledger = Ledger(self.answers_per_item)
        self._lock = threading.RLock()  # the widget refreshes from a watcher thread too
        self._first_open = 0
        self._round = 0
        self._order: list[int] = []
        self._proposals: dict[str, tuple[Any, float]] = {}
        self._worker: Worker | None = None
        self.refresh()

    # -- set-up ---------------------------------------------------------------------------

    def _check_task(self) -> None:
        spec = json.dumps(self.task.spec(), sort_keys=True)
        stored = self.store.get_meta(f"task:{self.attribute}")
        if stored is None:
            self.store.set_meta(f"task:{self.attribute}", spec)
        elif stored != spec:
            raise ValueError(
                f"the store {self.store.path} already holds attribute {self.attribute!r} for the "
                f"task {stored}, not {spec}; give this job another attribute, name or store"
            )

    def _check_answers_per_item(self, wanted: int | None) -> int:
        if wanted is not None and (isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 1):
            raise ValueError(f"answers_per_item must be a whole number of at least 1, got {wanted!r}")
        key = f"answers_per_item:{self.attribute}"
        stored = self.store.get_meta(key)
        if stored is None:
            self.store.set_meta(key, str(wanted or 1))
            return wanted or 1
        if wanted is not None and wanted != int(stored):
            raise ValueError(
                f"the store {self.store.path} wants {stored} answers per item for attribute "
                f"{self.attribute!r}, not {wanted}: every kernel of a job must want the same number "
                "(leave answers_per_item out to use the job's)"
            )
        return int(stored)

    def refresh(self) -> None:
        """Read what other kernels and the auto-labeler appended to the store since the last look."""
        with self._lock:
            new = list(self.store.annotations(self.attribute, after=self._ledger.last_seq))
            self._ledger.apply(new)
            for a in new:  # a retraction, from this kernel or another, can reopen an earlier item
                position = self._position.get(a.item)
                if position is not None and position < self._first_open:
                    self._first_open = position
            latest = self.store.latest_round(self.attribute)
            if latest is not None and latest[0] != self._round:
                self._round = latest[0]
                self._order = [
                    self._position[k] for k in self.store.queue(self.attribute) if k in self._position
                ]
                self._proposals = self.store.proposals(self.attribute)

    def __repr__(self) -> str:
        p = self.progress
        return (
            f"Job({self.name!r}, {p.total} items, {self.task!r}, labeled={p.labeled}, "
            f"skipped={p.skipped}, store={str(self.store.path)!r})"
        )

    # -- items ----------------------------------------------------------------------------

    def key(self, item: int | str) -> str:
        """The item key of a row position or an item key.

        Raises
        ------
        KeyError
            No such item.
        """
        if isinstance(item, (int,)) and not isinstance(item, bool):
            if not 0 <= item < len(self.keys):
                raise KeyError(f"row {item} is outside the job's {len(self.keys)} items")
            return self.keys[item]
        if isinstance(item, str) and item in self._position:
            return item
        raise KeyError(f"no item {item!r} in job {self.name!r}")

    @property
    def folder(self) -> Path:
        """The job's own folder next to its store (``.nblabel/<name>/``): files answers refer to,
        such as segmentation masks."""
        return self.store.local_dir.resolve() / self.name

    def answer_value(self, item: int | str, value: Any, name: str | None = None) -> Any:
        """A person's answer made storable and checked: files it needs are written first (see
        ``Task.prepare``), then ``Task.validate``. ``name`` keeps such files unique per answer."""
        key = self.key(item)
        prepared = self.task.prepare(value, key, self.folder / "masks" / self.attribute, name)
        return self.task.validate(prepared, key, source=self._sources[self._position[key]])

    def has_item(self, key: str) -> bool:
        """True when ``key`` is one of the job's item keys."""
        return key in self._position

    def position(self, item: int | str) -> int:
        """The row position of an item."""
        return self._position[self.key(item)]

    def source(self, position: int) -> Any:
        """The ``source-ref`` or ``source`` of a row."""
        return self._sources[position]

    def open_positions(self, exclude: Collection[str] = (), start: int = 0) -> Iterator[int]:
        """Row positions waiting for this job's annotator, skipping ``exclude`` keys.

        Once the auto-labeler has run, its queue comes first (least certain items, with random
        draws for the held-out sample); then any other open item, in row order. With several
        answers per item, the items the annotator answered or skipped are left out. Items other
        people have claimed are not (see :meth:`claim`).
        """
        ledger = self._ledger
        ordered: set[int] = set()
        for position in self._order:
            ordered.add(position)
            key = self.keys[position]
            # The loop's random draws may name auto-labeled items: a person checks those too.
            if ledger.awaits_person(key) and key not in exclude and not self._answered(key):
                yield position
        for position in self._row_order(exclude, start):
            if position not in ordered:
                yield position

    def row_inputs(self, position: int) -> dict[str, Any]:
        """The input attributes the task reads for a row (see ``Task.columns``), with their
        ``-metadata`` when the manifest has it."""
        row: dict[str, Any] = {}
        for column in self.task.columns:
            for name in (column, f"{column}-metadata"):
                if name in self.data.columns:
                    row[name] = self.data.at[position, name]
        return row

    def proposal(self, item: int | str) -> tuple[Any, float] | None:
        """The auto-labeler's latest proposal for an item: (value, confidence), or None.

        Before the auto-labeler has one, the task's pre-annotation (if it makes any); the task
        says how the two combine (``Task.combine_proposals``).
        """
        key = self.key(item)
        position = self._position[key]
        pre = self.task.pre_annotation(self._sources[position], _Line(self.data, position), key)
        return self.task.combine_proposals(self._proposals.get(key), pre)

    def _answered(self, key: str) -> bool:
        """True when the job's annotator took a slot of the item, with several answers per item
        (with one, an answered item is not open anyway)."""
        return self.answers_per_item > 1 and self._ledger.answered_by(key, self.annotator)

    def _row_order(self, exclude: Collection[str], start: int) -> Iterator[int]:
        # The job's items before _first_open wait for nobody, or not for this job's annotator.
        ledger = self._ledger
        first = max(start, self._first_open)
        advancing = first == self._first_open
        for position in range(first, len(self.keys)):
            key = self.keys[position]
            if not ledger.is_open(key) or self._answered(key):
                if advancing:
                    self._first_open = position + 1
                continue
            advancing = False
            if key not in exclude:
                yield position

    def pending(self, n: int = 10) -> pd.DataFrame:
        """The next ``n`` items waiting for this job's annotator, as rows of the input manifest.

        Items whose free answers other people's kernels have claimed are left out; nothing is
        claimed.
        """
        self.refresh()
        claims = self.store.claims(self.attribute)
        # Claims hide at most one candidate each, so this many candidates always suffice.
        candidates = [self.keys[p] for p in islice(self.open_positions(), n + len(claims))]
        keys = choose(
            candidates,
            want=n,
            slots=self.answers_per_item,
            annotator=self.annotator,
            session=self.session,
            claims=claims,
            answers=self._slot_answers(candidates),
        )
        return self.data.iloc[[self._position[k] for k in keys]]

    def claim(
        self,
        count: int,
        held: Collection[str] = (),
        *,
        skip: Collection[str] = (),
        ttl: float = CLAIM_TTL,
    ) -> list[int]:
        """Claim the next ``count`` items for this kernel's annotator: their row positions.

        The store hands each item to at most ``answers_per_item`` people at once, counting
        their answers, skips and unexpired claims, so kernels asking at the same time get
        different items once an item's slots are taken. A claim lasts ``ttl`` seconds; the
        claims on ``held`` (the items the widget holds) are renewed, and they are not handed
        out again. ``skip`` keys are neither claimed nor renewed (items a custom task's
        pre-annotation function keeps from people). Fewer than ``count`` positions means nothing
        more is free for this person.

        Raises
        ------
        OSError
            The store could not be written.
        """
        granted: list[str] = []
        renew = [k for k in held if k in self._position]
        candidates = self.open_positions(exclude={*renew, *skip})
        size = max(2 * count, 16)
        while True:
            batch = [self.keys[p] for p in islice(candidates, size)] if len(granted) < count else []
            if batch or renew:
                granted += self.store.claim(
                    self.attribute,
                    self.annotator,
                    self.session,
                    batch,
                    want=count - len(granted),
                    slots=self.answers_per_item,
                    ttl=ttl,
                    renew=renew,
                )
            if not batch or len(granted) >= count:
                break
            renew, size = [], size * 2  # others hold the first candidates: look further, faster
        return [self._position[k] for k in granted]

    def _slot_answers(self, keys: Iterable[str]) -> list[tuple[str, str, str]]:
        """(item, annotator, kind) of the live annotations that take a slot on these items."""
        items = self._ledger.items
        return [
            (key, a.annotator, a.kind)
            for key in keys
            if key in items
            for a in items[key].live
            if a.kind in SLOT_KINDS
        ]

    @property
    def progress(self) -> Progress:
        """Counts of items: total, labeled (by anyone), skipped, remaining.

        With several answers per item, an item counts as labeled once it has all its answers.
        """
        total = len(self.keys)
        ledger = self._ledger
        return Progress(
            total, ledger.labeled, ledger.skipped, total - ledger.labeled - ledger.skipped, ledger.auto
        )

    def current(self, item: int | str) -> Annotation | None:
        """The annotation behind an item's current label, if it has one."""
        return self._ledger.label(self.key(item))

    def answers(self, item: int | str) -> list[Annotation]:
        """Each person's current answer for an item (their latest live ``human`` or ``verified``
        answer), in the order they were given: what consolidation and worker responses read."""
        return self._ledger.answers(self.key(item))

    # -- answers --------------------------------------------------------------------------

    def label(self, item: int | str, value: Any, annotator: str | None = None) -> Annotation:
        """Record a person's answer for an item.

        Parameters
        ----------
        item
            Row position or item key.
        value
            A class name; for multi-label tasks, a list of class names; for segmentation, a 2-D
            array of class indices (written as the mask PNG first).
        annotator
            Who answered; defaults to the job's annotator.

        Raises
        ------
        KeyError
            No such item.
        ValueError
            The value is not a valid answer for the task.
        """
        key = self.key(item)
        value = self.answer_value(key, value)
        return self._append(Annotation(key, self.attribute, annotator or self.annotator, "human", value))

    def skip(self, item: int | str, annotator: str | None = None) -> Annotation:
        """Record that a person passed on an item; it stays unlabeled and leaves the queue."""
        key = self.key(item)
        return self._append(Annotation(key, self.attribute, annotator or self.annotator, "skip"))

    def undo(self, annotator: str | None = None, *, uid: str | None = None) -> Annotation | None:
        """Take back the annotator's latest live answer or skip by appending a retraction.

        ``uid`` names the retraction itself (the widget's, so a re-sent undo is stored once).
        Returns the annotation taken back, or None when there is nothing to undo.
        """
        who = annotator or self.annotator
        target = self._ledger.last_live(who)
        if target is None:
            return None
        self.retract(target.uid, annotator=who, retract_uid=uid)
        return target

    def has_annotation(self, uid: str) -> bool:
        """True when an annotation with this uid is in the store."""
        return uid in self._ledger.by_uid

    def retract(self, uid: str, annotator: str | None = None, retract_uid: str | None = None) -> None:
        """Append a retraction of the annotation ``uid``."""
        target = self._ledger.by_uid.get(uid)
        if target is None:
            raise KeyError(f"no annotation {uid!r} in job {self.name!r}")
        kwargs = {"uid": retract_uid} if retract_uid else {}
        self._append(
            Annotation(
                target.item,
                self.attribute,
                annotator or self.annotator,
                "retract",
                target=uid,
                **kwargs,
            )
        )

    def record(self, annotation: Annotation) -> Annotation:
        """Append a prepared annotation (validated) and update the job's state."""
        if annotation.attribute != self.attribute:
            raise ValueError(
                f"annotation for attribute {annotation.attribute!r} recorded in job {self.name!r}, "
                f"whose attribute is {self.attribute!r}"
            )
        if annotation.item not in self._position:
            raise KeyError(f"no item {annotation.item!r} in job {self.name!r}")
        if annotation.kind in HUMAN_KINDS or annotation.kind == "auto":
            source = self._sources[self._position[annotation.item]]
            value = self.task.validate(annotation.value, annotation.item, source=source)
            annotation = dataclasses.replace(annotation, value=value)  # canonical (multi-label order)
        return self._append(annotation)

    def _append(self, annotation: Annotation) -> Annotation:
        stored = self.store.append([annotation])
        self.refresh()
        position = self._position.get(annotation.item)
        if position is not None and position < self._first_open:
            self._first_open = position  # a retraction can reopen an earlier item
        return stored[0] if stored else self._ledger.by_uid.get(annotation.uid, annotation)

    # -- auto-labeling ----------------------------------------------------------------------

    def autolabel(
        self,
        target_accuracy: float = 0.95,
        estimator: Any = None,
        featurizer: Featurizer | None = None,
        background: bool = True,
        *,
        every: int = 20,
        interval: float = 30.0,
        random_fraction: float | None = None,
        folds: int = 5,
        z: float = 1.96,
        seed: int = 0,
    ) -> RoundReport | None:
        """Start Ground Truth's active-learning loop, with an honest accuracy guarantee.

        Each round fits ``estimator`` on the people's answers, predicts every other item, and
        auto-labels the items whose confidence reaches a threshold. The threshold is the lowest
        confidence at which the *lower bound* (Wilson score, ``z=1.96``: two-sided 95%) of the
        accuracy of held-out answers reaches ``target_accuracy``. Held-out answers are
        cross-fitted: every answer is predicted by a model trained without it; answers to items
        the loop picked as uncertain are harder than average, which only makes the bound more
        cautious. While the evidence cannot support the target, nothing is auto-labeled and the
        report says about how many more answers would. The people's queue is reordered: least
        certain first (smallest margin between the two likeliest answers), interleaved with
        random draws (``random_fraction`` of the queue: 0.8 below 5,000 items, 0.5 above, see
        :func:`~nblabel.autolabel.loop.default_random_fraction`) so the held-out answers keep
        covering the whole dataset. Every open item gets a proposal,
        which the widget shows and Enter accepts. Auto-labels are stored with
        ``human-annotated: "no"`` and their confidence; a person's answer always wins.

        On a :class:`~nblabel.NamedEntities` job a CRF tagger (``sklearn-crfsuite``, see
        :mod:`nblabel.autolabel.tagger`) learns from the people's answers and every open text gets
        its spans as a proposal, each span with its confidence; nothing is auto-labeled (so
        ``target_accuracy`` plays no part), and the queue puts the least confident texts first.
        ``estimator`` may be an unfitted ``sklearn_crfsuite.CRF``; ``featurizer`` a callable
        like :func:`nblabel.autolabel.tagger.document_features`.

        Parameters
        ----------
        target_accuracy
            The accuracy the auto-labels must reach (with the bound, not on average).
        estimator
            Any scikit-learn classifier with ``predict_proba``; default logistic regression.
        featurizer
            A callable mapping a list of sources (texts or image paths) to a feature matrix;
            default TF-IDF for texts and gradient + colour histograms for images. Features are
            cached in ``.nblabel/features`` next to the store.
        background
            Run rounds in a worker process, each time ``every`` new answers arrived or
            ``interval`` seconds passed with new answers, until :meth:`stop_autolabel`. With
            ``False``, run one round now and return its report.

        Returns
        -------
        RoundReport or None
            The round's report when ``background=False``.
        """
        from nblabel.autolabel.loop import default_random_fraction
        from nblabel.autolabel.worker import Settings, Worker, check_picklable, run_round
        from nblabel.tasks.classification import Classification
        from nblabel.tasks.entities import NamedEntities

        entities = isinstance(self.task, NamedEntities)
        if not 0.5 <= target_accuracy < 1:
            raise ValueError(f"target_accuracy must be in [0.5, 1), got {target_accuracy}")
        if entities and estimator is not None and not hasattr(estimator, "predict_marginals"):
            raise TypeError(f"entity jobs take an sklearn_crfsuite.CRF as estimator, got {estimator!r}")
        if not entities and estimator is not None and not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"the estimator must have predict_proba (a scikit-learn classifier), got {estimator!r}"
            )
        if not entities and not isinstance(self.task, Classification):
            raise TypeError(
                f"auto-labeling works on classification and named-entity tasks, not {self.task!r}"
            )
        labels = self.task.labels
        if random_fraction is None:
            # Entities are proposals only: random draws feed no bound there, so half the queue.
            random_fraction = 0.5 if entities else default_random_fraction(len(self.keys))
        settings = Settings(
            store_path=self.store.spec,
            job_name=self.name,
            answers_per_item=self.answers_per_item,
            attribute=self.attribute,
            media=self.task.media,
            labels=list(labels),
            multi_label=bool(getattr(self.task, "multi_label", False)),
            keys=list(self.keys),
            sources=list(self._sources),
            estimator=estimator,
            featurizer=featurizer,
            target=target_accuracy,
            z=z,
            folds=folds,
            random_fraction=random_fraction,
            every=every,
            interval=interval,
            seed=seed,
            cache_dir=str(self.store.local_dir / "features"),
            entities=entities,
        )
        if not background:
            report = run_round(settings, settings.features(), self.store, Ledger(self.answers_per_item))
            self.refresh()
            return report
        check_picklable(estimator, featurizer)
        self.stop_autolabel()
        self._worker = Worker(settings)
        return None

    @property
    def autolabel_status(self) -> dict[str, Any]:
        """Where the auto-labeler is: ``state``, ``running``, and the latest round's report."""
        from nblabel.autolabel.worker import status

        self.refresh()
        return status(self.store, self.attribute, self._worker)

    def stop_autolabel(self) -> None:
        """Stop the background auto-labeler (it finishes the round it is computing)."""
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    # -- auto-labels and their review ---------------------------------------------------------

    def auto_labeled(self) -> pd.DataFrame:
        """Items whose current label comes from the auto-labeler, least confident first.

        Columns: ``position`` (row), ``key``, ``value`` (the proposed answer), ``confidence``,
        ``uid`` (the auto annotation).
        """
        self.refresh()
        rows = []
        for position, key in enumerate(self.keys):
            a = self._ledger.auto_label(key)
            if a is not None:
                rows.append((position, key, a.value, a.confidence, a.uid))
        df = pd.DataFrame(rows, columns=["position", "key", "value", "confidence", "uid"])
        return df.sort_values(["confidence", "position"], kind="stable").reset_index(drop=True)

    def accept(self, items: Iterable[int | str], annotator: str | None = None) -> int:
        """Confirm the auto-labels of some items: each gets a ``verified`` answer by a person.

        Items without an auto-label are left alone. Returns how many were confirmed.
        """
        who = annotator or self.annotator
        batch = []
        for item in items:
            a = self._ledger.auto_label(self.key(item))
            if a is not None:
                batch.append(Annotation(a.item, self.attribute, who, "verified", a.value, a.confidence))
        return len(self._append_many(batch))

    def accept_above(self, confidence: float, annotator: str | None = None) -> int:
        """Confirm every auto-label whose confidence is at least ``confidence``; returns how many."""
        auto = self.auto_labeled()
        return self.accept(auto.loc[auto["confidence"] >= confidence, "key"], annotator)

    def reject(self, items: Iterable[int | str], annotator: str | None = None) -> int:
        """Refuse the auto-labels of some items: they go back to the people's queue, and the
        auto-labeler does not label them again. Returns how many were rejected."""
        who = annotator or self.annotator
        batch = []
        for item in items:
            a = self._ledger.auto_label(self.key(item))
            if a is not None:
                batch.append(Annotation(a.item, self.attribute, who, "retract", target=a.uid))
        return len(self._append_many(batch))

    def _append_many(self, batch: list[Annotation]) -> list[Annotation]:
        if not batch:
            return []
        stored = self.store.append(batch)
        self.refresh()
        self._first_open = min([self._first_open, *(self._position[a.item] for a in batch)])
        return stored

    # -- several annotators per item ----------------------------------------------------------

    def import_answers(self, path: str | os.PathLike[str]) -> int:
        """Store the answers of a folder of Ground Truth worker-response files in this job.

        ``path`` is a ``worker-response`` folder (``iteration-<n>/<line>/<time>.json``) or a GT or
        nblabel export holding one. Each answer becomes a person's answer by its ``workerId``;
        importing again stores nothing twice. Returns how many answers were new. See
        :func:`nblabel.formats.gt.response_annotations`.
        """
        from nblabel.formats.gt import read_worker_responses, response_annotations

        responses = read_worker_responses(path, self.task)
        stored = self.store.append(
            response_annotations(responses, self.keys, self.attribute, self.answer_value, path)
        )
        self.refresh()
        return len(stored)

    def consolidate(self, method: str | None = None, *, min_answers: int = 2) -> Consolidation:
        """Draw one label per item from several people's answers, as Ground Truth does.

        ``method=None`` uses GT's algorithm for the task: modified Dawid-Skene for single- and
        multi-label classification (per-annotator quality, per-item confidence), IoU matching
        and averaging for boxes, span clustering for entities, smoothed pixel voting for masks
        (the voted mask is written as a PNG like a person's). ``"majority"`` votes instead
        (classification). Items with at least ``min_answers`` answers get a ``consolidated``
        label, which is then what :meth:`to_dataframe` and :meth:`export` write, with GT's
        confidence fields; items whose consolidated label is unchanged, and items a person
        decided (:meth:`decide`), are left alone. Run it again after more answers arrive.

        Returns
        -------
        nblabel.consolidate.Consolidation
            Per item its consolidated answer and confidence, per annotator a quality estimate.
        """
        from nblabel.consolidate.jobs import consolidate_job

        return consolidate_job(self, method, min_answers=min_answers)

    def decide(self, item: int | str, value: Any, annotator: str | None = None) -> Annotation:
        """Record a person's final decision for an item people disagree on.

        It becomes the item's label (a ``consolidated`` answer by that person), and later
        :meth:`consolidate` runs leave it alone; :meth:`undo` takes it back.
        """
        key = self.key(item)
        value = self.answer_value(key, value)
        return self._append(
            Annotation(key, self.attribute, annotator or self.annotator, "consolidated", value)
        )

    def agreement(self) -> pd.DataFrame:
        """How much the annotators agree: Cohen's kappa per pair, Fleiss' kappa, Krippendorff's
        alpha, and each annotator's agreement with the consolidated label.

        One row per figure: ``measure``, ``annotator``, ``other`` (the pair's second annotator),
        ``value`` and ``items`` (how many items it rests on). See :mod:`nblabel.consolidate.agreement`.
        """
        from nblabel.consolidate.jobs import job_agreement

        return job_agreement(self)

    def disagreements(self, n: int | None = None) -> pd.DataFrame:
        """The items people disagree on most: smallest share of the most common answer first,
        then lowest consolidated confidence. Columns: ``position``, ``key``, ``answers``
        (annotator to answer), ``share``, ``label`` and ``confidence`` (the current label)."""
        from nblabel.consolidate.jobs import job_disagreements

        return job_disagreements(self, n)

    # -- output ---------------------------------------------------------------------------

    def to_dataframe(self) -> pd.DataFrame:
        """The augmented manifest: the input columns plus ``<attribute>`` and its metadata.

        Labeled rows get the label and metadata exactly as Ground Truth writes them for the
        task; unlabeled rows keep whatever the input had in those columns (``pd.NA`` if none).
        """
        self.refresh()
        attr, meta = self.attribute, f"{self.attribute}-metadata"
        out = self.data.copy()
        labels = list(out[attr]) if attr in out else [pd.NA] * len(out)
        metas = list(out[meta]) if meta in out else [pd.NA] * len(out)
        from nblabel.consolidate.gt import consolidated_parts, with_parts
        from nblabel.tasks.custom import CustomTask

        parts = consolidated_parts(self.store, self.attribute)
        # A task-level consolidation (a custom task's post-annotation function) decides the
        # labels of the items people answered; None from it means "no label".
        consolidated = None
        if isinstance(self.task, CustomTask) and self.task.post is not None:
            answers = {
                p: [(a.annotator, a.value) for a in given]
                for p, k in enumerate(self.keys)
                if (given := self.answers(k))
            }
            refs = list(self.data["source-ref"]) if "source-ref" in self.data else None
            created = {p: current.created for p in answers if (current := self.current(p)) is not None}
            consolidated = self.task.consolidate(
                answers, self._sources, refs, attribute=attr, job_name=self.name, created=created
            )
        for key in self._ledger.items:  # the items with answers: a few, in a million-item job
            a = self._ledger.label(key)
            position = self._position.get(key)
            if a is None or position is None:
                continue
            if consolidated is not None and position in consolidated:
                result = consolidated[position]
                if result is not None:
                    labels[position], metas[position] = result
                continue
            labels[position], metas[position] = self.task.to_gt(
                a.value,
                confidence=a.confidence,
                human=a.kind in HUMAN_KINDS,
                job_name=self.name,
                created=a.created,
            )
            if a.uid in parts:  # GT's per-label / per-box / per-entity confidences of a consolidation
                metas[position] = with_parts(metas[position], parts[a.uid])
            if self.task.columns:  # e.g. adjustment-status, against the label being adjusted
                metas[position].update(self.task.row_metadata(a.value, self.row_inputs(position)))
        out[attr] = pd.Series(labels, dtype=object, index=out.index)
        out[meta] = pd.Series(metas, dtype=object, index=out.index)
        return out

    # -- export ---------------------------------------------------------------------------

    def export(
        self,
        destination: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        labeled_only: bool = False,
        client: Any = None,
        progress: bool | None = None,
    ) -> ExportResult:
        """Write the job's result in Ground Truth's output layout, locally or to S3.

        Under ``<destination>/<name>/``: ``manifests/output/output.manifest`` (the augmented
        manifest), ``annotations/worker-response/iteration-1/<row>/<time>.json`` (each person's
        answer, GT's worker-response format) and the consolidation response. See
        :mod:`nblabel.formats.gt`.

        Parameters
        ----------
        destination
            A local folder or ``s3://bucket/prefix/``.
        overwrite
            Replace an earlier export; without it an existing export is refused.
        labeled_only
            Only labeled items in the output manifest (every line then has the attribute, as a
            SageMaker ``AugmentedManifestFile`` training input needs).
        client
            A boto3 S3 client; default from the standard AWS settings.
        progress
            Progress bar: None for large exports, True always, False never.

        Raises
        ------
        FileExistsError
            An export is already there and ``overwrite`` is False.
        nblabel.ExportError
            A file could not be written; what this export had written was removed again.
        """
        from nblabel.formats.gt import write_output

        output = self.to_dataframe()
        answers = {p: given for p, k in enumerate(self.keys) if (given := self.answers(k))}
        labels = {p: a for p, k in enumerate(self.keys) if (a := self.current(k)) is not None}
        return write_output(
            destination,
            name=self.name,
            attribute=self.attribute,
            task=self.task,
            output=output,
            answers=answers,
            labels=labels,
            overwrite=overwrite,
            labeled_only=labeled_only,
            client=client,
            progress=progress,
        )

    # -- widget ---------------------------------------------------------------------------

    def annotate(self, *, window: int | None = None) -> ClassifyWidget:
        """The labeling widget for this job (what displaying the job shows).

        ``window`` is how many items the browser holds ahead of the one on screen.
        """
        from nblabel.widgets import widget_for

        return widget_for(self, window=window)

    def review(self, *, page_size: int = 24, thumb: int = 160, disagreements: bool = False) -> ReviewWidget:
        """A grid of the auto-labels, least confident first, to accept, reject or relabel.

        ``page_size`` is the number of tiles per page (1-200), ``thumb`` their size in CSS
        pixels (48-512). A slider accepts every auto-label above a confidence in one step.

        With ``disagreements=True`` the grid shows the items people disagree on most
        (:meth:`disagreements`), every annotator's answer side by side with the consolidated
        label, for a person's final decision (:meth:`decide`): click an answer or press a class
        key; ``z`` takes the last decision back. Classification tasks only (``TypeError``).
        """
        from nblabel.widgets import review_widget

        return review_widget(self, page_size=page_size, thumb=thumb, disagreements=disagreements)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.annotate()._repr_mimebundle_(**kwargs)


class _Line(Mapping[str, Any]):
    """One manifest line of the job's DataFrame, read lazily (pre-annotators rarely need it)."""

    def __init__(self, data: pd.DataFrame, position: int) -> None:
        self._data = data
        self._position = position

    def __getitem__(self, key: str) -> Any:
        if key not in self._data.columns:
            raise KeyError(key)
        return self._data[key].iat[self._position]

    def __iter__(self) -> Iterator[str]:
        return iter(map(str, self._data.columns))

    def __len__(self) -> int:
        return len(self._data.columns)


def _check_attribute(attribute: str) -> None:
    if not isinstance(attribute, str) or not attribute:
        raise ValueError(f"attribute must be a non-empty string, got {attribute!r}")
    if attribute in ("source", "source-ref"):
        raise ValueError(f"attribute {attribute!r} is reserved by Ground Truth")
    if attribute.endswith("-metadata"):
        raise ValueError(f"attribute {attribute!r} cannot end with '-metadata' (GT's rule)")
    if attribute.startswith("$"):
        raise ValueError(f"attribute {attribute!r} cannot start with '$' (GT's rule)")
