"""A labeling job: a dataset, a task, and the durable store of every answer.

A :class:`Job` is what the user holds in the notebook. Displaying it shows the task's widget;
its methods record answers programmatically and build Ground Truth's augmented manifest from the
store. Re-creating the same job after a kernel restart resumes where the person stopped, because
the store, not the Python object, is the source of truth.

The Job holds the user's verbs only. The work is done by the headless labeling core it
composes (:mod:`nblabel.labeling`): the items (:class:`~nblabel.labeling.items.Items`), the
answer log (:class:`~nblabel.labeling.answers.AnswerLog`) and the queue
(:class:`~nblabel.labeling.queue.Queue`); the widgets get a
:class:`~nblabel.labeling.feed.Feed` over them, never the Job.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from nblabel.autolabel.asked import ASKED
from nblabel.labeling import consolidation
from nblabel.labeling.answers import AnswerLog, Progress
from nblabel.labeling.chain import CHAINED, carry_over
from nblabel.labeling.feed import Feed
from nblabel.labeling.items import Items
from nblabel.labeling.queue import Queue
from nblabel.manifest import read_manifest
from nblabel.manifest_index import ManifestIndex, open_manifest
from nblabel.store import Annotation, Store, open_store
from nblabel.store.kinds import HUMAN_KINDS
from nblabel.store.ledger import Ledger
from nblabel.tasks.base import Task

if TYPE_CHECKING:
    from nblabel.autolabel.features import Featurizer
    from nblabel.autolabel.loop import RoundReport
    from nblabel.autolabel.worker import Worker
    from nblabel.consolidate import Consolidation
    from nblabel.formats.gt import ExportResult
    from nblabel.portal import Portal
    from nblabel.widgets.classify import ClassifyWidget
    from nblabel.widgets.review import ReviewWidget

__all__ = ["Job", "Progress"]

# Ground Truth's patterns (CreateLabelingJob's LabelingJobName and LabelAttributeName): letters
# and digits, single or repeated hyphens between them; matched whole (fullmatch: "$" would let a
# trailing newline through).
_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_ATTRIBUTE = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}")
_OUTPUT_ROWS = 1 << 20  # rows per chunk of a streamed output (Job.to_dataframes, export)


def _open_manifest(path: str | os.PathLike[str], task: Task) -> pd.DataFrame | ManifestIndex:
    """A manifest file for a job: opened lazily when it is in the plain form and the task labels
    ``source-ref`` alone (see :mod:`nblabel.manifest_index`), else read whole."""
    if task.media in ("image", "any") and not task.columns:
        index = open_manifest(path)
        if index is not None:
            return index
    return read_manifest(path)


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
        The job's name, as Ground Truth's ``LabelingJobName``: 1-63 letters, digits and
        hyphens, starting and ending with a letter or digit. GT's ``job-name`` becomes
        ``labeling-job/<name>``; the default store is ``.nblabel/<name>.sqlite``.
    data
        A manifest DataFrame with a ``source-ref`` (images) or ``source`` (texts) column, or the
        path (or ``s3://`` URI) of a manifest file. A file in the plain form (every line starts
        with its ``source-ref``) of a task that reads no other column is opened lazily: item keys
        and line offsets first, each row when it is needed, so ten million lines open in
        seconds; its lines are checked as they are read, and :attr:`data` reads it whole (see
        :mod:`nblabel.manifest_index`).
    task
        What to do with each item, e.g. ``ImageClassification(["cat", "dog"])``.
    attribute
        The label attribute written to the manifest; defaults to ``name``. Ground Truth's
        ``LabelAttributeName``: 1-127 letters, digits and hyphens, starting and ending with a
        letter or digit, not ``source``/``source-ref``, not ending in ``-metadata``.
    store
        The store's file path, defaulting to ``.nblabel/<name>.sqlite`` in the working directory;
        or ``postgresql://user@host:port/db`` for a team's shared store.
    annotator
        Who answers in this session; defaults to ``NBLABEL_ANNOTATOR`` or the OS user.
    media_root
        The folder local files must come from. Without it, a ``source-ref`` path with a ``..``
        part is refused (a manifest could otherwise point the widget at any file); with it,
        every local ``source-ref`` must lie inside this folder. Masks to adjust or verify and a
        custom task's ``grant_read_access`` follow the same rule, and every such file is read
        through :class:`nblabel.io.guard.FileGuard` (regular files only, never system files,
        with a size bound).
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
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(
                f"job name {name!r} must be 1-63 letters, digits and '-', starting and ending with a "
                "letter or digit (Ground Truth's LabelingJobName)"
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
            data = _open_manifest(data, task)
        if not isinstance(data, (pd.DataFrame, ManifestIndex)):
            raise TypeError(f"data must be a DataFrame or a manifest path, got {type(data).__name__}")
        self.media_root = media_root
        #: The job's items: keys, positions, sources (:class:`~nblabel.labeling.items.Items`).
        self.items = Items(data, task, name, media_root)
        self.store: Store = open_store(None if store is None else os.fspath(store), name)
        self._check_task()
        self.answers_per_item = self._check_answers_per_item(answers_per_item)
        # The job's own folder next to its store (.nblabel/<name>/): files answers refer to,
        # such as segmentation masks.
        folder = self.store.local_dir.resolve() / name
        #: Every answer, as verbs (:class:`~nblabel.labeling.answers.AnswerLog`).
        self.log = AnswerLog(
            self.store, self.attribute, self.items, task, self.annotator, self.answers_per_item, folder
        )
        #: What waits for this session's annotator (:class:`~nblabel.labeling.queue.Queue`).
        self.queue = Queue(self.items, self.log)
        self._worker: Worker | None = None
        # #21 chaining: labels the input already has under this attribute (an earlier job's
        # output manifest) are kept as answers, so the job continues where that one stopped.
        if self.items.may_have(f"{self.attribute}-metadata"):  # (a lazily opened manifest: rarely)
            carry_over(self.log, self.data)
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
        self.log.refresh()

    @property
    def data(self) -> pd.DataFrame:
        """The input manifest, one row per item (index reset)."""
        return self.items.data

    @property
    def keys(self) -> Sequence[str]:
        """The item keys, in row order (see :func:`nblabel.labeling.items.item_keys`): a list,
        or for a manifest opened lazily a sequence read from its file."""
        return self.items.keys

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
        return self.items.key(item)

    def position(self, item: int | str) -> int:
        """The row position of an item."""
        return self.items.position(item)

    def proposal(self, item: int | str) -> tuple[Any, float] | None:
        """The auto-labeler's latest proposal for an item: (value, confidence), or None.

        Before the auto-labeler has one, the task's pre-annotation (if it makes any).
        """
        return self.queue.proposal(self.key(item))

    def pending(self, n: int = 10) -> pd.DataFrame:
        """The next ``n`` items waiting for this job's annotator, as rows of the input manifest.

        Items whose free answers other people's kernels have claimed are left out; nothing is
        claimed.
        """
        return self.items.rows(self.queue.pending(n))

    @property
    def progress(self) -> Progress:
        """Counts of items: total, labeled (by anyone), skipped, remaining.

        With several answers per item, an item counts as labeled once it has all its answers.
        """
        return self.log.progress()

    def current(self, item: int | str) -> Annotation | None:
        """The annotation behind an item's current label, if it has one."""
        return self.log.current(self.key(item))

    def answers(self, item: int | str) -> list[Annotation]:
        """Each person's current answer for an item (their latest live ``human`` or ``verified``
        answer), in the order they were given: what consolidation and worker responses read."""
        return self.log.answers(self.key(item))

    def add(self, data: pd.DataFrame | str | os.PathLike[str], key: str | None = None) -> int:
        """Append rows to the open job, as Ground Truth's streaming labeling jobs do.

        The new items enter every annotator's queue (open widgets pick them up within a second)
        and the auto-labeler's next round. Adding an item again is a no-op: rows are
        deduplicated on their item key (``source-ref``, or the ``source`` text) or on the column
        ``key`` names; rows of the original manifest count as added. The rows are kept in the
        job's store (see :mod:`nblabel.labeling.additions`), so a kernel that opened the job
        elsewhere sees them, and re-creating the Job over its original DataFrame gets them back.

        Parameters
        ----------
        data
            Manifest rows (a DataFrame, or the path of a manifest file) with the job's columns.
        key
            The column that identifies an item, when the item key does not.

        Returns
        -------
        int
            How many rows were new.

        Raises
        ------
        ValueError
            A row is not a valid line for the task (checked like the job's manifest); nothing
            was added.
        """
        if isinstance(data, (str, os.PathLike)):
            data = read_manifest(data)
        added = self.log.additions.add(data, key)
        self.refresh()
        return added

    # -- answers --------------------------------------------------------------------------

    def label(self, item: int | str, value: Any, annotator: str | None = None) -> Annotation:
        """Record a person's answer for an item.

        The answer's meta records why the item was asked: as the queue offered it (``pending``),
        else a person's own choice (see :mod:`nblabel.autolabel.asked`).

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
        return self.log.label(key, value, annotator, meta={ASKED: self.queue.asked(key)})

    def skip(self, item: int | str, annotator: str | None = None) -> Annotation:
        """Record that a person passed on an item; it stays unlabeled and leaves the queue."""
        return self.log.skip(self.key(item), annotator)

    def undo(self, annotator: str | None = None, *, uid: str | None = None) -> Annotation | None:
        """Take back the annotator's latest live answer or skip by appending a retraction.

        ``uid`` names the retraction itself (the widget's, so a re-sent undo is stored once).
        Returns the annotation taken back, or None when there is nothing to undo.
        """
        return self.log.undo(annotator, uid=uid)

    def retract(self, uid: str, annotator: str | None = None, retract_uid: str | None = None) -> None:
        """Append a retraction of the annotation ``uid`` (``KeyError`` when there is none)."""
        self.log.retract(uid, annotator, uid=retract_uid)

    def record(self, annotation: Annotation) -> Annotation:
        """Append a prepared annotation (its value checked by the task) and return it as stored."""
        return self.log.record(annotation)

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
        level: float = 0.95,
        seed: int = 0,
        detector: Any = None,
        target_miou: float | None = None,
        min_score: float = 0.5,
        judge: Callable[[str, list[str]], Any] | None = None,
        cluster: Any = None,
        cluster_cache: str | os.PathLike[str] | None = None,
    ) -> RoundReport | None:
        """Start Ground Truth's active-learning loop, with an honest accuracy guarantee.

        Each round fits ``estimator`` on the people's answers, predicts every other item, and
        auto-labels the items whose confidence reaches a threshold. The threshold is the lowest
        confidence at which the one-sided *lower bound* (at ``level``, 95% by default) of the
        accuracy above it reaches ``target_accuracy``. Held-out answers are cross-fitted: every
        answer is predicted by a model trained without it. Every answer records why its item was
        asked (a random draw with its probability, an uncertainty pick, a person's choice), and
        the bound weights the random draws by the inverse of that probability while the other
        answers count as themselves, so the harder-than-average uncertainty picks do not bias it
        (see :mod:`nblabel.autolabel.design_bound`). While the evidence cannot support the
        target, nothing is auto-labeled and the
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

        On a :class:`~nblabel.BoundingBox` job a detector learns from the people's boxes (default
        :class:`~nblabel.autolabel.detector.BoxDetector`: frozen EfficientNet-Lite0 feature maps
        with a light centre-and-size head, or colour and gradient maps without the
        ``embeddings`` extra) and every waiting image gets its boxes as proposals. Held-out
        images (cross-fitted) are scored with GT's mIoU, and images are auto-labeled above the
        lowest confidence at which the lower 95% bound of held-out mIoU reaches ``target_miou``
        (a betting bound valid for any distribution, see :mod:`nblabel.autolabel.mean_bound`).
        ``detector`` may be any object with ``predict(images)`` returning boxes with labels and
        scores and, optionally, ``fit(images, boxes)`` (see :mod:`nblabel.autolabel.box_loop`);
        without it, a ``pre=`` detector of the task is calibrated the same way.

        On a :class:`~nblabel.SemanticSegmentation` job a pixel classifier (extremely randomized trees by
        default) learns from the people's masks and their strokes (:meth:`learn_from_strokes`) on
        per-pixel features (:class:`~nblabel.autolabel.pixels.PixelFeatures`: scikit-image's
        multiscale features at 512 px; EfficientNet-Lite0's feature maps with ``deep=True``),
        cached as ``.npz`` next to the store. Every open image gets a proposed mask, which the
        widget shows as the starting mask and Enter accepts. Images are auto-labeled above the
        lowest confidence at which the lower 95% bound of the cross-fitted per-image mIoU
        reaches ``target_miou`` (see :mod:`nblabel.autolabel.mask_loop`); ``target_accuracy``
        plays no part. ``featurizer`` may be a :class:`~nblabel.autolabel.pixels.PixelFeatures`.

        On a :class:`~nblabel.Pairwise`, :class:`~nblabel.Ranking` or :class:`~nblabel.Rating`
        job, ``judge(prompt, responses) -> (answer, confidence)`` proposes every item's answer
        (an LLM client, a reward model, a heuristic) and the people's answers measure it: items
        are auto-labeled above the lowest confidence at which the design-based lower bound of the
        judge's agreement with people (classification's) reaches ``target_accuracy``, nothing
        without that evidence (see :mod:`nblabel.autolabel.judge`). The round runs now (``background`` plays no part),
        and a judge that fails names the item in a :class:`~nblabel.autolabel.judge.JudgeError`.

        Parameters
        ----------
        target_accuracy
            The accuracy the auto-labels must reach (with the bound, not on average).
        level
            The one-sided confidence level of every bound (accuracy, or mIoU for boxes and masks).
        estimator
            Any scikit-learn classifier with ``predict_proba``; default logistic regression.
        featurizer
            A callable mapping a list of sources (texts or image paths) to a feature matrix;
            default TF-IDF for texts and gradient + colour histograms for images (beside
            EfficientNet-Lite0 embeddings with the ``embeddings`` extra; see
            :func:`nblabel.autolabel.features.default_featurizer`). Features are cached in
            ``.nblabel/features`` next to the store.
        detector, min_score
            Box jobs only: the detector (see above) and the score under which a box is not
            proposed.
        target_miou
            Box and segmentation jobs: the held-out mIoU the auto-labels must reach with the bound
            (default: Ground Truth's 0.6 for boxes, 0.7 for semantic segmentation).
        cluster
            A ``dask.distributed.Client`` or a scheduler address: the part of each round that
            grows with the job runs on that Dask cluster, in partitions; fitting on the answers
            (with cross-fitting), the bound and writing the round stay here (see
            :mod:`nblabel.autolabel.distributed`; needs ``nblabel[dask]``). Classification: the
            features of every item, cached as ``.npz`` partition files next to the store, and the
            open items' predictions. Entities, boxes and masks: the open items' proposals, each
            item featurized on the worker that predicts it (texts' tokens are not kept; box
            feature maps and pixel features go to their cache next to the store, or to
            ``cluster_cache``). If the cluster is gone, the round fails without writing anything
            and the background worker tries again.
        cluster_cache
            With ``cluster``: where the workers' caches (classification's partition files, box
            feature maps, pixel features) go instead: an ``s3://`` prefix, which the workers and
            this process write and read with their own AWS settings, or a folder every worker
            shares.
        background
            Run rounds in a worker process, each time ``every`` new answers arrived or
            ``interval`` seconds passed with new answers, until :meth:`stop_autolabel`. With
            ``False``, run one round now and return its report.

        Returns
        -------
        RoundReport or None
            The round's report when ``background=False``.
        """
        from nblabel.tasks.preference import PreferenceTask

        if judge is not None or isinstance(self.task, PreferenceTask):  # preference jobs (#25)
            from nblabel.autolabel.judge import run_judge_round

            if not isinstance(self.task, PreferenceTask):
                raise TypeError(f"judge= is for Pairwise, Ranking and Rating jobs, not {self.task!r}")
            items = self.items
            report = run_judge_round(
                self.task,
                judge,
                store=self.store,
                ledger=Ledger(self.answers_per_item),
                attribute=self.attribute,
                keys=items.keys,
                prompts=items.sources,
                rows=[items.row_inputs(p) for p in range(len(items))],
                target=target_accuracy,
                level=level,
                random_fraction=random_fraction,
                seed=seed,
            )
            self.refresh()
            return report
        from nblabel.autolabel.box_loop import PreDetector, check_detector
        from nblabel.autolabel.distributed import cluster_address
        from nblabel.autolabel.loop import default_random_fraction
        from nblabel.autolabel.worker import Settings, Worker, check_picklable
        from nblabel.autolabel.zero_shot import task_prompts
        from nblabel.tasks.boxes import BoundingBox
        from nblabel.tasks.classification import Classification
        from nblabel.tasks.entities import NamedEntities
        from nblabel.tasks.segmentation import SemanticSegmentation

        entities = isinstance(self.task, NamedEntities)
        boxes = isinstance(self.task, BoundingBox)
        masks = isinstance(self.task, SemanticSegmentation)
        if target_miou is None:
            target_miou = 0.7 if masks else 0.6
        if (boxes or masks) and not 0 < target_miou < 1:
            raise ValueError(f"target_miou must be in (0, 1), got {target_miou}")
        if boxes:
            if detector is None and callable(self.task.pre):
                detector = PreDetector(self.task.pre)  # the user's pre= detector, calibrated too
            if detector is not None:
                check_detector(detector)
            if not 0 <= min_score <= 1:  # also refuses NaN: a score is a probability
                raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        elif detector is not None:
            raise TypeError(f"detector= is for BoundingBox jobs; this job's task is {self.task!r}")
        if not 0.5 <= target_accuracy < 1:
            raise ValueError(f"target_accuracy must be in [0.5, 1), got {target_accuracy}")
        if entities and estimator is not None and not hasattr(estimator, "predict_marginals"):
            raise TypeError(f"entity jobs take an sklearn_crfsuite.CRF as estimator, got {estimator!r}")
        if not (entities or boxes) and estimator is not None and not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"the estimator must have predict_proba (a scikit-learn classifier), got {estimator!r}"
            )
        if not (entities or boxes or masks) and not isinstance(self.task, Classification):
            raise TypeError(
                "auto-labeling works on classification, named-entity, box and segmentation tasks, "
                f"not {self.task!r}"
            )
        labels = self.task.labels
        if random_fraction is None:
            # Entities are proposals only: random draws feed no bound there, so half the queue.
            random_fraction = 0.5 if entities or masks else default_random_fraction(len(self.keys))
        settings = Settings(
            store_path=self.store.spec,
            job_name=self.name,
            answers_per_item=self.answers_per_item,
            attribute=self.attribute,
            media=self.task.media,
            labels=list(labels),
            multi_label=bool(getattr(self.task, "multi_label", False)),
            keys=list(self.keys),
            sources=list(self.items.sources),
            added_seq=self.log.additions.seq,
            source_column=self.items.column,
            estimator=estimator,
            featurizer=featurizer,
            target=target_miou if boxes or masks else target_accuracy,
            level=level,
            label_prompts=task_prompts(self.task, featurizer),
            folds=folds,
            random_fraction=random_fraction,
            every=every,
            interval=interval,
            seed=seed,
            cache_dir=str(self.store.local_dir / "features"),
            entities=entities,
            boxes=boxes,
            detector=detector,
            min_score=min_score,
            masks=masks,
            cluster=None if cluster is None else cluster_address(cluster),
            cluster_cache=_cluster_cache(cluster, cluster_cache),
        )
        if not background:
            if cluster is None:
                report = _round_shown(settings, self.store, Ledger(self.answers_per_item))
            else:
                report = _cluster_round(settings, cluster, self.store, Ledger(self.answers_per_item))
            self.refresh()
            return report
        check_picklable(estimator, featurizer, detector)
        self.stop_autolabel()
        self._worker = Worker(settings)
        return None

    def learn_from_strokes(self, item: int | str, strokes: Any) -> None:
        """Teach the mask auto-labeler from a partial answer: a few painted strokes.

        ``strokes`` is a 2-D array the image's size holding a class index (0 for BACKGROUND)
        where the person painted and 255 where they did not: unpainted pixels are unknown, not
        background (the ilastik workflow). The strokes train the pixel classifier from the next
        round on; they are not an answer (the image stays in the queue). Saving strokes again
        for the item replaces them. Segmentation jobs only (``TypeError``).
        """
        from nblabel.autolabel.mask_worker import save_strokes
        from nblabel.tasks.segmentation import SemanticSegmentation

        if not isinstance(self.task, SemanticSegmentation):
            raise TypeError(f"strokes teach the mask auto-labeler of segmentation jobs, not {self.task!r}")
        save_strokes(self.store, self.log.folder, self.attribute, self.key(item), strokes)

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
        return self.log.auto_labeled()

    def accept(self, items: Iterable[int | str], annotator: str | None = None) -> int:
        """Confirm the auto-labels of some items: each gets a ``verified`` answer by a person.

        Items without an auto-label are left alone. Returns how many were confirmed.
        """
        return self.log.accept(map(self.key, items), annotator)

    def accept_above(self, confidence: float, annotator: str | None = None) -> int:
        """Confirm every auto-label whose confidence is at least ``confidence``; returns how many."""
        auto = self.auto_labeled()
        return self.accept(auto.loc[auto["confidence"] >= confidence, "key"], annotator)

    def reject(self, items: Iterable[int | str], annotator: str | None = None) -> int:
        """Refuse the auto-labels of some items: they go back to the people's queue, and the
        auto-labeler does not label them again. Returns how many were rejected."""
        return self.log.reject(map(self.key, items), annotator)

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
            response_annotations(responses, self.keys, self.attribute, self.log.value, path)
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
        return consolidation.consolidate(self.log, method, min_answers=min_answers)

    def decide(self, item: int | str, value: Any, annotator: str | None = None) -> Annotation:
        """Record a person's final decision for an item people disagree on.

        It becomes the item's label (a ``consolidated`` answer by that person), and later
        :meth:`consolidate` runs leave it alone; :meth:`undo` takes it back.
        """
        return self.log.label(self.key(item), value, annotator, kind="consolidated")

    def agreement(self) -> pd.DataFrame:
        """How much the annotators agree: Cohen's kappa per pair, Fleiss' kappa, Krippendorff's
        alpha, and each annotator's agreement with the consolidated label.

        One row per figure: ``measure``, ``annotator``, ``other`` (the pair's second annotator),
        ``value`` and ``items`` (how many items it rests on). See :mod:`nblabel.consolidate.agreement`.
        """
        table = consolidation.agreement(self.log)
        # Preference tasks (#25): ordinal measures too (an empty table for other tasks).
        from nblabel.consolidate.preference import ordinal_agreement

        extra = ordinal_agreement(self.task, consolidation.answer_lists(self.log))
        return table if extra.empty else pd.concat([table, extra], ignore_index=True)

    def leaderboard(
        self, by: str | Iterable[str] = "model", *, dimension: str | None = None, bootstrap: int = 200
    ) -> pd.DataFrame:
        """Rank the systems behind the responses of a pairwise, ranking or rating job.

        Bradley-Terry (pairwise answers, rankings with ties, ratings) or Plackett-Luce (rankings
        without ties) scores with 95% bootstrap intervals over items; see
        :func:`nblabel.consolidate.preference.leaderboard`.

        Parameters
        ----------
        by
            ``"model"``: the task's ``models`` columns name each response's system;
            ``"response"``: the response columns themselves are the contestants; or a list of
            columns, one per response.
        dimension
            The ranking or rating dimension (default: the first).
        bootstrap
            Resamples for the intervals (0: none).
        """
        from nblabel.consolidate.preference import leaderboard
        from nblabel.tasks.preference import PreferenceTask

        task = self.task
        if not isinstance(task, PreferenceTask):
            raise TypeError(
                f"a leaderboard ranks the responses of Pairwise, Ranking or Rating jobs, not {task!r}"
            )
        if by == "response":
            columns: tuple[str, ...] | None = None
        elif by == "model":
            if task.models is None:
                raise ValueError(
                    "by='model' needs the task's models=[...] columns naming each response's system"
                )
            columns = task.models
        else:
            columns = tuple(by)
            missing = [c for c in columns if c not in self.data.columns]
            if len(columns) != len(task.responses) or missing:
                raise ValueError(
                    f"by names one column per response {task.responses}; got {columns}, missing {missing}"
                )
        answers = consolidation.answer_lists(self.log)
        positions = self.items.positions
        names = {
            key: list(task.responses)
            if columns is None
            else [str(self.data.at[positions[key], c]) for c in columns]
            for key in answers
        }
        return leaderboard(task, answers, names, dimension=dimension, bootstrap=bootstrap)

    def stats(self) -> pd.DataFrame:
        """Per annotator (the index): ``items`` labeled, ``answers`` (skips included),
        ``median_seconds`` and ``p90_seconds`` of active time per item as the browser measured
        it (GT's ``timeSpentInSeconds``: pauses over 30 s and hidden tabs left out),
        ``agreement`` with the consolidated label (run :meth:`consolidate` first) and
        ``accepted_unchanged``, the share of answers to items shown with a proposal that took it
        as it was proposed (classes, entities, boxes; masks are not counted).
        See :mod:`nblabel.labeling.timing`.
        """
        from nblabel.labeling.timing import stats

        return stats(self.log)

    def disagreements(self, n: int | None = None) -> pd.DataFrame:
        """The items people disagree on most: smallest share of the most common answer first,
        then lowest consolidated confidence. Columns: ``position``, ``key``, ``answers``
        (annotator to answer), ``share``, ``label`` and ``confidence`` (the current label)."""
        return consolidation.disagreements(self.log, n)

    # -- output ---------------------------------------------------------------------------

    def to_dataframe(self) -> pd.DataFrame:
        """The augmented manifest: the input columns plus ``<attribute>`` and its metadata.

        Labeled rows get the label and metadata exactly as Ground Truth writes them for the
        task; unlabeled rows keep whatever the input had in those columns (``pd.NA`` if none).
        """
        self.refresh()
        return self._augmented(self.data, self._output_labels())

    def to_dataframes(self, rows: int = _OUTPUT_ROWS) -> Iterator[pd.DataFrame]:
        """The augmented manifest (:meth:`to_dataframe`) as DataFrames of at most ``rows`` rows,
        in order, indexed by row position. A manifest opened lazily (``Job(name, path, ...)``)
        is read a chunk at a time, so memory holds one chunk, not the whole manifest; each
        chunk has the columns its lines have."""
        self.refresh()
        given = self._output_labels()
        for chunk in self.items.chunks(rows):
            yield self._augmented(chunk, given)

    def _output_labels(self) -> dict[int, tuple[Any, Any] | None]:
        """The label and metadata of each position this job labeled, as Ground Truth writes
        them (None: a custom task's consolidation gave no label); positions whose label an
        earlier job wrote (chained) are left as the input has them."""
        from nblabel.consolidate.gt import consolidated_parts, with_parts
        from nblabel.tasks.custom import CustomTask

        attr = self.attribute
        parts = consolidated_parts(self.store, self.attribute)
        # A task-level consolidation (a custom task's post-annotation function) decides the
        # labels of the items people answered; None from it means "no label".
        consolidated = None
        if isinstance(self.task, CustomTask) and self.task.post is not None:
            given = self.log.by_position()
            answers = {p: [(a.annotator, a.value) for a in pairs] for p, pairs in given.items()}
            refs = list(self.data["source-ref"]) if "source-ref" in self.data else None
            created = {p: current.created for p in answers if (current := self.current(p)) is not None}
            consolidated = self.task.consolidate(
                answers, self.items.sources, refs, attribute=attr, job_name=self.name, created=created
            )
        out: dict[int, tuple[Any, Any] | None] = {}
        ledger, positions = self.log.ledger, self.items.positions
        for key in ledger.items:  # the items with answers: a few, in a million-item job
            a = ledger.label(key)
            position = positions.get(key)
            if a is None or position is None:
                continue
            if a.uid.startswith(CHAINED):  # #21: an earlier job's label stays as that job wrote it
                continue
            if consolidated is not None and position in consolidated:
                out[position] = consolidated[position]
                continue
            label, meta = self.task.to_gt(
                a.value,
                confidence=a.confidence,
                human=a.kind in HUMAN_KINDS,
                job_name=self.name,
                created=a.created,
            )
            if a.uid in parts:  # GT's per-label / per-box / per-entity confidences of a consolidation
                meta = with_parts(meta, parts[a.uid])
            if self.task.columns:  # e.g. adjustment-status, against the label being adjusted
                meta.update(self.task.row_metadata(a.value, self.items.row_inputs(position)))
            out[position] = (label, meta)
        return out

    def _augmented(self, frame: pd.DataFrame, given: dict[int, tuple[Any, Any] | None]) -> pd.DataFrame:
        """Rows of the input manifest (indexed by position) with the labels of ``given``."""
        attr, meta = self.attribute, f"{self.attribute}-metadata"
        out = frame.copy()
        labels = list(out[attr]) if attr in out else [pd.NA] * len(out)
        metas = list(out[meta]) if meta in out else [pd.NA] * len(out)
        rows = out.index.get_indexer(list(given))  # -1: not a row of this frame
        for row, result in zip(rows.tolist(), given.values(), strict=True):
            if row >= 0 and result is not None:
                labels[row], metas[row] = result
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

        labels = self.log.labels_by_position()
        chunks = None
        if self.items.lazy:  # the manifest streamed from its file a chunk at a time
            self.refresh()
            output = self._augmented(self.items.rows(sorted(labels)), self._output_labels())
            chunks = lambda: self.to_dataframes(_OUTPUT_ROWS)  # noqa: E731 (read when written)
        else:
            output = self.to_dataframe()
        return write_output(
            destination,
            name=self.name,
            attribute=self.attribute,
            task=self.task,
            output=output,
            answers=self.log.by_position(),
            labels=labels,
            overwrite=overwrite,
            labeled_only=labeled_only,
            client=client,
            progress=progress,
            chunks=chunks,
        )

    # -- widget ---------------------------------------------------------------------------

    def annotate(self, *, window: int | None = None) -> ClassifyWidget:
        """The labeling widget for this job (what displaying the job shows).

        ``window`` is how many items the browser holds ahead of the one on screen.
        """
        from nblabel.widgets import widget_for

        return widget_for(self.feed(), window=window)

    def review(self, *, page_size: int = 24, thumb: int = 160, disagreements: bool = False) -> ReviewWidget:
        """A grid of the auto-labels, least confident first, to accept, reject or relabel.

        ``page_size`` is the number of tiles per page (1-200), ``thumb`` their size in CSS
        pixels (48-512). A slider accepts every auto-label above a confidence in one step.

        With ``disagreements=True`` the grid shows the items people disagree on most
        (:meth:`disagreements`), every annotator's answer side by side with the consolidated
        label, for a person's final decision (:meth:`decide`): click an answer or press a class
        key; ``z`` takes the last decision back. Classification tasks, and the auto-labels of
        box tasks (each tile draws its boxes; accept or reject them); otherwise ``TypeError``.
        """
        from nblabel.widgets import review_widget

        return review_widget(self.feed(), page_size=page_size, thumb=thumb, disagreements=disagreements)

    def serve(
        self,
        annotators: Iterable[str] = (),
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        instructions: str = "",
    ) -> Portal:
        """Open the job to a team in their browsers: the labeling portal (served by Voilà).

        Each annotator named gets a personal link (a new secret token, stored hashed in the
        store; a new link replaces the old one). The link opens a page with only the job: its
        title, ``instructions`` (the first paragraph beside the item, all of it on demand), the
        task's widget and the annotator's own progress. Answers land in this job's store under
        the annotator's name, with ``answers_per_item`` claims as in a notebook; this notebook
        sees them in ``job.progress``. With no annotators, the portal serves the links issued
        before. Needs ``pip install 'nblabel[portal]'``; see docs/portal.md (JupyterHub too).

        Returns
        -------
        Portal
            ``.links`` (a DataFrame of names and links), ``.revoke(name)``, ``.stop()``.
        """
        from nblabel.portal import serve

        return serve(self, annotators, port=port, host=host, instructions=instructions)

    def feed(self) -> Feed:
        """What a widget is given: the job's items, queue and answer log, served as the widget
        protocol wants them (:class:`~nblabel.labeling.feed.Feed`). For a widget of your own."""
        return Feed(self.items, self.queue, self.log)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.annotate()._repr_mimebundle_(**kwargs)


def _cluster_cache(cluster: Any, cache: str | os.PathLike[str] | None) -> str | None:
    """``autolabel``'s ``cluster_cache``, checked: an ``s3://`` prefix, or a folder made absolute
    (the Dask workers have another working directory)."""
    if cache is None:
        return None
    if cluster is None:
        raise ValueError(
            "cluster_cache= is where a Dask cluster keeps its partition files: pass cluster= too"
        )
    text = os.fspath(cache)
    if text.startswith("s3://"):
        from nblabel.io.s3 import parse_s3_uri

        parse_s3_uri(text)  # names a bucket, or ValueError
        return text
    return os.path.abspath(text)


def _round_shown(settings: Any, store: Store, ledger: Ledger) -> RoundReport:
    """One round now, with a bar in the cell while its long parts run: the features' first pass
    (an image job with the ``embeddings`` extra runs a network over every image: minutes for a
    few thousand) and a box round's proposals for the waiting images (the detector's pass). No
    bar for what comes from the cache or takes a moment."""
    from nblabel.autolabel.features import PROGRESS_CHUNK
    from nblabel.autolabel.worker import run_round
    from nblabel.io.progress import Progress

    noun = "images" if settings.media == "image" else "texts"
    # Shown from the second part on: a job of one part is over before a bar would help.
    shown = PROGRESS_CHUNK + 1
    with Progress(f"auto-labeler features of the {noun}", unit=noun, threshold=shown) as bar:
        features = settings.features(progress=bar.report)
    with Progress("auto-labeler boxes for the waiting images", unit=noun, threshold=shown) as bar:
        return run_round(settings, features, store, ledger, progress=bar.report)


def _cluster_round(settings: Any, cluster: Any, store: Store, ledger: Ledger) -> RoundReport:
    """One round now on a Dask cluster: through the user's client, or a client of the scheduler
    address made for the round."""
    from nblabel.autolabel.distributed import connect
    from nblabel.autolabel.worker import run_round

    client = connect(cluster) if isinstance(cluster, str) else cluster
    try:
        return run_round(settings, settings.features(client), store, ledger)
    finally:
        if client is not cluster:
            client.close()


def _check_attribute(attribute: str) -> None:
    if not isinstance(attribute, str) or not attribute:
        raise ValueError(f"attribute must be a non-empty string, got {attribute!r}")
    if attribute in ("source", "source-ref"):
        raise ValueError(f"attribute {attribute!r} is reserved by Ground Truth")
    if attribute.endswith("-metadata"):
        raise ValueError(f"attribute {attribute!r} cannot end with '-metadata' (GT's rule)")
    if not _ATTRIBUTE.fullmatch(attribute):
        raise ValueError(
            f"attribute {attribute!r} must be 1-127 letters, digits and '-', starting and ending with "
            "a letter or digit (Ground Truth's LabelAttributeName)"
        )
