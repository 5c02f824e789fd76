"""The interface every task type implements."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from nblabel.tasks.attributes import LabelAttributes
    from nblabel.tasks.instructions import Instructions

__all__ = ["Task", "gt_answer", "gt_job_name"]


def gt_job_name(name: str) -> str:
    """GT's ``job-name`` spelling, ``labeling-job/<name>``, as in its real output files."""
    return name if name.startswith("labeling-job/") else f"labeling-job/{name}"


def gt_answer(content: Any, field: str) -> Mapping[str, Any]:
    """The one answer in a GT worker ``answerContent`` that holds ``field`` (``"label"``,
    ``"boundingBoxes"``, ...).

    A template names its elements as its author chose (``crowd-image-classifier``, ``tags``), so
    the answer is found by its shape, not by the element's name.

    Raises
    ------
    ValueError
        ``content`` is not an object, or not exactly one of its answers holds ``field``.
    """
    if not isinstance(content, Mapping):
        raise ValueError(f"answerContent must be an object, got {content!r}")
    found = [v for v in content.values() if isinstance(v, Mapping) and field in v]
    if len(found) != 1:
        raise ValueError(
            f"expected one answer with {field!r} in answerContent, found {len(found)} in {sorted(content)}"
        )
    return found[0]


class Task:
    """A kind of labeling work.

    A task knows its Ground Truth ``type`` string, which media it shows (``image`` or ``text``),
    how to validate an answer, and how an answer becomes ``<attr>`` + ``<attr>-metadata``.
    Subclasses set :attr:`media` and :attr:`family` (the widget that draws them).
    """

    media: ClassVar[str]
    family: ClassVar[str]
    #: What the people labeling are told (``instructions=`` of every built-in task), or None.
    instructions: Instructions | None = None
    #: Label category and frame attributes (``attributes=`` of the tasks that take them), or None.
    attributes: LabelAttributes | None = None

    @classmethod
    def from_label_categories(cls, source: Any, **kwargs: Any) -> Task:
        """The task from GT's label category configuration file (JSON path or dict): its
        ``labels``, their ``categoryAttributes``, ``categoryGlobalAttributes`` and
        ``frameAttributes``, and its ``instructions`` (``shortInstruction`` /
        ``fullInstruction``) unless ``instructions=`` is given. For the tasks that take
        ``attributes=`` (:class:`~nblabel.BoundingBox`, :class:`~nblabel.NamedEntities`,
        :class:`~nblabel.SemanticSegmentation`, and the classification tasks, which take frame
        attributes only).

        Raises
        ------
        ValueError
            The file is not a label category configuration, or an attribute is malformed.
        """
        from nblabel.tasks.attributes import read_label_categories

        config = read_label_categories(source)
        labels = [
            {"label": e["label"], "shortDisplayName": e["shortDisplayName"]}
            if cls.family == "entities" and e.get("shortDisplayName")
            else e["label"]
            for e in config["labels"]
        ]
        if "instructions" not in kwargs and config.get("instructions"):
            kwargs["instructions"] = config["instructions"]
        return cls(labels, attributes=config, **kwargs)  # type: ignore[call-arg]

    @property
    def gt_type(self) -> str:
        """Ground Truth's ``type`` for this task's metadata."""
        raise NotImplementedError

    @property
    def gt_element(self) -> str | None:
        """The name GT's worker template records an answer under: the key of a worker
        response's ``answerContent`` (None for a custom task, whose answer is the whole form)."""
        raise NotImplementedError

    @property
    def columns(self) -> tuple[str, ...]:
        """Input manifest attributes the task reads per item (an earlier label to adjust or
        verify); the job checks they exist and hands them, with their ``-metadata``, to
        :meth:`item_extras` and :meth:`row_metadata`."""
        return ()

    def input_files(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The local files a row's :attr:`columns` name, as ``(column, reference)``: the job
        checks them against its ``media_root`` rule when it is made (a mask to adjust or
        verify). None by default."""
        return []

    def widget_answer(self, value: Any, item: str = "") -> Any:
        """An answer as a widget sent it, before :meth:`prepare`: a message may be forged, so
        a task refuses here what only the user's own code may give (a file path). By default
        the value passes unchanged.

        Raises
        ------
        ValueError
            The answer holds what no widget sends; names the item.
        """
        return value

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> Any:
        """Return the answer in canonical form, or raise ``ValueError`` naming the item.

        ``source`` is the item's ``source`` / ``source-ref``, for checks that need it (a span
        inside its text).
        """
        raise NotImplementedError

    def prepare(self, value: Any, item: str, folder: Path, name: str | None = None) -> Any:
        """Turn an answer given as data into what :meth:`validate` takes, writing any file it
        needs under ``folder`` first (a segmentation mask); ``name`` makes the file name unique
        (the answer's uid). By default the value passes through unchanged."""
        return value

    def widget_value(self, value: Any) -> Any:
        """A stored answer as the widget needs it to show it again (bytes travel as binary
        buffers); by default the value itself."""
        return value

    def pre_annotation(
        self, source: Any, line: Mapping[str, Any], item: str = ""
    ) -> tuple[Any, float] | None:
        """A proposal (value, confidence) for an item before any model has one; None by default."""
        return None

    def combine_proposals(
        self, model: tuple[Any, float] | None, pre: tuple[Any, float] | None
    ) -> tuple[Any, float] | None:
        """The proposal an item shows, from the auto-labeler's and the pre-annotation: the
        auto-labeler's when it has one."""
        return model if model is not None else pre

    def took_proposal(self, value: Any, proposal: Any) -> bool | None:
        """Whether a person's answer takes the item's proposal as it was proposed (for
        ``job.stats()``'s ``accepted_unchanged``), or None when the task cannot tell. By default,
        whether the answer equals the proposal."""
        return bool(value == proposal)

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        """The ``<attr>`` value and ``<attr>-metadata`` dict GT writes for an answer."""
        raise NotImplementedError

    def answer_content(self, value: Any) -> dict[str, Any]:
        """GT's worker-response ``answerContent`` for a stored answer (gt-formats §5.5):
        ``{<element>: {<answer in GT's template shape>}}``."""
        raise NotImplementedError

    def from_answer_content(self, content: Any) -> Any:
        """An answer read back from GT's worker-response ``answerContent``, as data that
        :meth:`prepare` and :meth:`validate` take (a mask as an index array).

        Raises
        ------
        ValueError
            The content holds no answer of this task's shape, or a malformed one.
        """
        raise NotImplementedError

    def label_file(self, value: Any) -> Path | None:
        """The file a stored answer's label is (a segmentation mask), which GT's output layout
        copies under ``annotations/consolidated-annotation/output/``; None by default."""
        return None

    def item_extras(
        self, row: Mapping[str, Any], source: Any, image_size: Mapping[str, int]
    ) -> dict[str, Any]:
        """What the widget shows with an item besides its media (boxes to start from, a label
        to verify). ``row`` holds the :attr:`columns`; ``image_size`` is GT's ``width``,
        ``height``, ``depth`` of an image (empty for texts). Raises ``ValueError`` with the cause
        when the input cannot be read."""
        return {}

    def row_metadata(self, value: Any, row: Mapping[str, Any]) -> dict[str, Any]:
        """Metadata keys that depend on the input row (GT's ``adjustment-status``)."""
        return {}

    def spec(self) -> dict[str, Any]:
        """A JSON-able description, stored with the job so a changed task is noticed."""
        raise NotImplementedError
