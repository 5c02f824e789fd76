"""Image and text classification, single- and multi-label.

Ground Truth writes a single-label answer as the class index with ``class-name`` and
``confidence`` in the metadata, and a multi-label answer as a list of indices with ``class-map``
and ``confidence-map`` (gt-formats §2.2–2.4). Key order follows GT's real output files.

With frame attributes (``attributes=``, GT's ``frameAttributes``) an answer that gives any is
stored in the shape of GT's classifier answer, ``{"label": name, "frame-attributes": {...}}``
(``"labels": [...]`` multi-label); one that gives none stays the bare class name or list.
:func:`classes_of` reads the classes of either. The label stays GT's index (or indices) and the
values go to ``<attr>-metadata``'s ``frame-attributes``, since the label itself is a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from nblabel.tasks.attributes import FRAME_KEY, LabelAttributes
from nblabel.tasks.base import Task, gt_answer, gt_job_name
from nblabel.tasks.instructions import Instructions

__all__ = ["Classification", "ImageClassification", "TextClassification", "check_labels", "classes_of"]


def classes_of(value: Any) -> Any:
    """The class name (or list of names) of a classification answer, with frame attributes
    (``{"label": ..., "frame-attributes": ...}``) or without (the bare name or list)."""
    if isinstance(value, Mapping):
        return value["labels"] if "labels" in value else value.get("label")
    return value


def plain_classes(value: Any) -> Any:
    """A classifier answer with frame attributes as its classes alone (what agreement compares:
    people who chose the same class agree, whatever values they gave); any other value as it is."""
    if (
        isinstance(value, Mapping)
        and value.keys() & _CLASS_KEYS
        and value.keys() <= {*_CLASS_KEYS, FRAME_KEY}
    ):
        return classes_of(value)
    return value


_CLASS_KEYS = {"label", "labels"}  # the keys of GT's classifier answer shape


def check_labels(labels: Sequence[str]) -> list[str]:
    """Class names as a list: at least one, non-empty strings of at most 256 characters, unique.

    Raises
    ------
    ValueError
        Says which label breaks which rule.
    """
    labels = list(labels)
    if not labels:
        raise ValueError("a task needs at least one label")
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"labels must be non-empty strings, got {label!r}")
        if len(label) > 256:
            raise ValueError(f"label {label[:40]!r}... is longer than GT's 256 characters")
    duplicates = sorted({x for x in labels if labels.count(x) > 1})
    if duplicates:
        raise ValueError(f"labels must be unique; repeated: {duplicates}")
    return labels


class Classification(Task):
    family: ClassVar[str] = "classify"

    def __init__(
        self,
        labels: Sequence[str],
        multi_label: bool = False,
        *,
        instructions: Any = None,
        attributes: Any = None,
    ) -> None:
        self.labels = check_labels(labels)
        self.instructions = Instructions.of(instructions)
        self.attributes = LabelAttributes.of(attributes, self.labels)
        if self.attributes is not None and (self.attributes.category or self.attributes.global_):
            raise ValueError(
                "a classification answer labels the whole item: its attributes are frame attributes "
                "(GT's 'frameAttributes', or the 'frame' key)"
            )
        self.multi_label = bool(multi_label)
        self._index = {name: i for i, name in enumerate(labels)}

    def __repr__(self) -> str:
        extra = ", multi_label=True" if self.multi_label else ""
        return f"{type(self).__name__}({self.labels!r}{extra})"

    @property
    def gt_type(self) -> str:
        base = f"groundtruth/{self.media}-classification"
        return base + "-multilabel" if self.multi_label else base

    @property
    def gt_element(self) -> str:
        """``crowd-image-classifier`` or ``crowd-classifier`` (texts), ``-multi-select`` for
        multi-label tasks, as GT's templates name them."""
        element = "crowd-image-classifier" if self.media == "image" else "crowd-classifier"
        return element + "-multi-select" if self.multi_label else element

    @property
    def _field(self) -> str:
        return "labels" if self.multi_label else "label"

    def spec(self) -> dict[str, Any]:
        return {"type": self.gt_type, "labels": self.labels}

    def took_proposal(self, value: Any, proposal: Any) -> bool | None:
        """Whether the answer gives the proposed class (or classes, in any order); frame
        attributes given with it do not change the class."""
        given, proposed = plain_classes(value), plain_classes(proposal)
        if isinstance(given, list) and isinstance(proposed, list):
            return sorted(map(str, given)) == sorted(map(str, proposed))
        return bool(given == proposed)

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> Any:
        """A class name (single-label) or a list of class names (multi-label), checked.

        Multi-label answers are returned in label order without repeats; an empty list is a
        valid answer ("none of these"). With frame attributes, ``{"label" (or "labels"): ...,
        "frame-attributes": {name: value}}`` is checked against them (a required one must be
        given); an answer without values is returned bare.
        """
        where = f"item {item}: " if item else ""
        frame = None
        if isinstance(value, Mapping) and self.attributes is not None:  # else refused as no class
            if self._field not in value:
                raise ValueError(
                    f"{where}an answer is a class name or {{{self._field!r}: ..., {FRAME_KEY!r}: {{...}}}}"
                    f"; got {value!r}"
                )
            frame, value = value.get(FRAME_KEY), value[self._field]
        if self.multi_label:
            if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
                raise ValueError(f"{where}a multi-label answer is a list of class names, got {value!r}")
            names = list(value)
            for name in names:
                self._check(name, where)
            value = [name for name in self.labels if name in set(names)]
        else:
            self._check(value, where)
        given = self.attributes.check_frame(frame, where) if self.attributes is not None else {}
        return {self._field: value, FRAME_KEY: given} if given else value

    def _check(self, name: Any, where: str) -> None:
        if not isinstance(name, str) or name not in self._index:  # a list is unhashable: ValueError
            raise ValueError(f"{where}{name!r} is not one of the labels {self.labels}")

    def answer_content(self, value: Any) -> dict[str, Any]:
        """``{<element>: {"label": name}}``, or ``{"labels": [names]}`` for multi-label, with
        the item's ``frame-attributes`` beside them when it has any."""
        answer = {self._field: classes_of(value)}
        if isinstance(value, Mapping) and value.get(FRAME_KEY):
            answer[FRAME_KEY] = dict(value[FRAME_KEY])
        return {self.gt_element: answer}

    def from_answer_content(self, content: Any) -> Any:
        """The class name (``label``), or the list of class names (``labels``, multi-label);
        with ``frame-attributes`` beside them, the answer with its attributes."""
        found = gt_answer(content, self._field)
        answer = found[self._field]
        if self.multi_label:
            if not isinstance(answer, list) or not all(isinstance(n, str) for n in answer):
                raise ValueError(f"labels must be a list of strings, got {answer!r}")
        elif not isinstance(answer, str):
            raise ValueError(f"label must be a string, got {answer!r}")
        if isinstance(found.get(FRAME_KEY), Mapping) and found[FRAME_KEY]:
            return {self._field: answer, FRAME_KEY: dict(found[FRAME_KEY])}
        return answer

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        # A single person's answer has confidence 0.00 in GT's output (sms-data-output.md).
        conf = round(float(confidence), 2) if confidence is not None else 0.0
        job = gt_job_name(job_name)
        annotated = "yes" if human else "no"
        classes = classes_of(value)
        if not self.multi_label:
            label: Any = self._index[classes]
            metadata = {
                "confidence": conf,
                "job-name": job,
                "class-name": classes,
                "human-annotated": annotated,
                "creation-date": created,
                "type": self.gt_type,
            }
        else:
            label = [self._index[name] for name in classes]
            metadata = {
                "job-name": job,
                "class-map": {str(i): self.labels[i] for i in label},
                "human-annotated": annotated,
                "creation-date": created,
                "confidence-map": {str(i): conf for i in label},
                "type": self.gt_type,
            }
        if isinstance(value, Mapping) and value.get(FRAME_KEY):  # the label is a number: beside it
            metadata[FRAME_KEY] = dict(value[FRAME_KEY])
        return label, metadata


class ImageClassification(Classification):
    """Label each image with one class, or several with ``multi_label=True``.

    Parameters
    ----------
    labels
        Class names, in the order their keys (1-9, 0) are assigned. GT writes the index into this
        list as the label.
    multi_label
        Allow several classes per image (GT's ``image-classification-multilabel``).
    instructions
        What the people labeling are told (:class:`~nblabel.tasks.instructions.Instructions`):
        Markdown whose first paragraph is shown beside the item and the whole, with good and bad
        example images, in the panel the ``i`` key opens.
    attributes
        Frame attributes (GT's label category configuration with ``frameAttributes``, or
        ``{"frame": [attribute, ...]}``; see :mod:`nblabel.tasks.attributes`): the widget shows
        their panel beside the image (``t`` reaches it) and a required one left empty blocks
        the answer. The values go to ``<attr>-metadata``'s ``frame-attributes``.
    """

    media: ClassVar[str] = "image"


class TextClassification(Classification):
    """Label each text with one class, or several with ``multi_label=True``.

    Parameters
    ----------
    labels
        Class names, in the order their keys (1-9, 0) are assigned.
    multi_label
        Allow several classes per text (GT's ``text-classification-multilabel``).
    descriptions
        Optional: what each class means, by class name (a mapping) or in the order of ``labels``.
        With them, the auto-labeler proposes a label for every text before the first answer: the
        class whose name and description are nearest in MiniLM sentence embeddings
        (``nblabel[embeddings]``, see :mod:`nblabel.autolabel.zero_shot`). Proposals only, until
        answers train a model.
    instructions
        What the people labeling are told (:class:`~nblabel.tasks.instructions.Instructions`):
        Markdown whose first paragraph is shown beside the item and the whole, with good and bad
        example images, in the panel the ``i`` key opens.
    attributes
        Frame attributes of each text, as for :class:`ImageClassification`.
    """

    media: ClassVar[str] = "text"

    def __init__(
        self,
        labels: Sequence[str],
        multi_label: bool = False,
        descriptions: Mapping[str, str] | Sequence[str] | None = None,
        *,
        instructions: Any = None,
        attributes: Any = None,
    ) -> None:
        super().__init__(labels, multi_label, instructions=instructions, attributes=attributes)
        self.descriptions: list[str] | None = None
        if descriptions is not None:
            if isinstance(descriptions, Mapping):
                unknown = sorted(set(descriptions) - set(self.labels))
                if unknown:
                    raise ValueError(f"descriptions name classes that are not labels: {unknown}")
                described = [descriptions.get(name, "") for name in self.labels]
            else:
                described = list(descriptions)
                if len(described) != len(self.labels):
                    raise ValueError(
                        f"{len(described)} descriptions for {len(self.labels)} labels: give one per label"
                    )
            if not all(isinstance(d, str) for d in described):
                raise ValueError("descriptions must be strings")
            self.descriptions = described
