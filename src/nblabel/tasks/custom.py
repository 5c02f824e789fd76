"""Custom tasks: a Ground Truth worker template with pre- and post-annotation functions.

GT's custom workflows (gt-formats.md §2.9, §5.3–5.4, §6) are an HTML + Liquid template using
GT's ``crowd-*`` elements, a pre-annotation Lambda that turns a manifest line into the
template's ``task.input``, and a post-annotation Lambda that consolidates the answers. Here the
two Lambdas are plain Python functions taking and returning GT's JSON shapes:

- ``pre(data_object) -> {"taskInput": {...}, "isHumanAnnotationRequired": "true"}``, where
  ``data_object`` is the manifest line (GT's ``event["dataObject"]``);
- ``post(payload) -> [{"datasetObjectId": "0", "consolidatedAnnotation": {"content":
  {"<attribute>": {...}}}}, ...]``, where ``payload`` is the list GT writes to the file at
  ``event["payload"]["s3Uri"]``: ``[{"datasetObjectId", "dataObject", "annotations":
  [{"workerId", "annotationData": {"content": "<answer as a JSON string>"}}]}]``.

An answer (the stored value) is the form output GT records as a worker's ``answerContent``:
one JSON object keyed by the ``name`` of each element, e.g. ``{"category": {"label": "cat"},
"comment": "blurry"}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from nblabel.tasks.base import Task, gt_job_name
from nblabel.tasks.instructions import Instructions
from nblabel.tasks.templating import (
    SUPPORTED_ELEMENTS,
    TemplateError,
    WorkerTemplate,
    check_crowd_answer,
    task_input_of,
)

__all__ = ["SUPPORTED_ELEMENTS", "CustomTask", "default_pre"]

GT_TYPE = "groundtruth/custom"
LAMBDA_VERSION = "2018-10-16"  # the "version" of GT's Lambda requests


def default_pre(data_object: Mapping[str, Any]) -> dict[str, Any]:
    """What runs without a pre-annotation function: the manifest line is ``task.input``.

    ``taskObject`` is added (the ``source-ref``, else the ``source``) when the line has none,
    as GT's sample pre-annotation Lambdas set it, so GT's sample templates
    (``{{ task.input.taskObject | grant_read_access }}``) work unchanged.
    """
    task_input = dict(data_object)
    if "taskObject" not in task_input:
        source = task_input.get("source-ref", task_input.get("source"))
        if source is not None:
            task_input["taskObject"] = source
    return {"taskInput": task_input, "isHumanAnnotationRequired": "true"}


class CustomTask(Task):
    """Any labeling task, described by a Ground Truth worker template.

    The template is rendered per item with Liquid (autoescape on, GT's ``grant_read_access``,
    ``to_json``, ``escape``, ``escape_once`` and ``skip_autoescape`` filters; see
    :mod:`nblabel.tasks.templating`) and shown in the notebook with nblabel's own versions of
    GT's ``crowd-*`` elements. **The template is your own code**: its HTML, styles and
    ``<script>`` run in the notebook page, with the page's rights, like any code you run in
    the notebook. Values from the data are HTML-escaped unless the template opts out with
    ``skip_autoescape``, as in GT; do not opt out for data you do not trust.

    Parameters
    ----------
    template
        The worker template's HTML, or the path of a file holding it.
    pre
        ``pre(data_object)`` returns ``{"taskInput": ..., "isHumanAnnotationRequired": ...}``
        (GT's pre-annotation Lambda response). Default: :func:`default_pre`. Items for which
        it says ``"false"`` are not shown to people. A Lambda handler adapts as
        ``pre=lambda d: handler({"version": "2018-10-16", "dataObject": d}, None)``.
    post
        ``post(payload)`` returns GT's consolidation response (see the module docstring);
        ``content[<attribute>]`` becomes each item's label in :meth:`Job.to_dataframe` and
        :meth:`Job.export`. Default: the item's current answer is its label.
    s3_client
        The boto3 client that signs ``grant_read_access`` URLs; default from the AWS settings.
    instructions
        What the people labeling are told (:class:`~nblabel.tasks.instructions.Instructions`):
        Markdown whose first paragraph is shown beside the item and the whole, with good and bad
        example images, in the panel the ``i`` key opens.

    Raises
    ------
    TemplateError
        The template cannot be read or parsed, or it uses ``crowd-*`` elements that are not
        Ground Truth's (named in the message; see :data:`SUPPORTED_ELEMENTS`).

    Examples
    --------
    >>> task = CustomTask("sentiment.liquid.html")                    # doctest: +SKIP
    >>> job = Job("tweets", df, task)                                 # doctest: +SKIP
    """

    media: ClassVar[str] = "any"
    family: ClassVar[str] = "custom"

    def __init__(
        self,
        template: str | os.PathLike[str],
        pre: Callable[[dict[str, Any]], Any] | None = None,
        post: Callable[[list[dict[str, Any]]], Any] | None = None,
        *,
        s3_client: Any = None,
        instructions: Any = None,
    ) -> None:
        self.instructions = Instructions.of(instructions)
        for name, fn in (("pre", pre), ("post", post)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a function, got {fn!r}")
        self.template = WorkerTemplate(template, s3_client=s3_client)
        self.pre = pre
        self.post = post

    def __repr__(self) -> str:
        return f"CustomTask({self.template.origin!r})"

    @property
    def gt_type(self) -> str:
        return GT_TYPE

    @property
    def gt_element(self) -> None:
        """None: the answer is the whole form output, keyed by the template's own names."""
        return None

    def spec(self) -> dict[str, Any]:
        # The template is left out on purpose: editing it while labeling is normal.
        return {"type": GT_TYPE}

    # -- items ----------------------------------------------------------------------------

    def pre_annotate(self, data_object: Mapping[str, Any], item: str = "") -> tuple[Any, bool]:
        """Run the pre-annotation function: (``taskInput``, whether a person must answer).

        Raises
        ------
        ValueError
            The function failed or returned something other than GT's response shape; the
            message names the item.
        """
        where = f"item {item}" if item else "the item"
        try:
            result = (self.pre or default_pre)(dict(data_object))
        except Exception as exc:
            raise ValueError(
                f"{where}: the pre-annotation function failed: {type(exc).__name__}: {exc}"
            ) from exc
        return task_input_of(result, where)

    def render(
        self, task_input: Any, item: str = "", *, media_root: str | os.PathLike[str] | None = None
    ) -> str:
        """The template's HTML for an item's ``taskInput``; ``grant_read_access`` reads local
        files under the job's ``media_root`` rule (see :class:`nblabel.Job`).

        Raises
        ------
        TemplateError
            Rendering failed; the message names the item and the cause.
        """
        try:
            return self.template.render(task_input, media_root=media_root)
        except TemplateError as exc:
            raise TemplateError(f"item {item}: {exc}" if item else str(exc)) from None

    # -- answers ------------------------------------------------------------------------------

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> Any:
        """A form output: a JSON object keyed by element names, returned as plain JSON data.

        The outputs of elements with rules GT documents are checked too (text rankings,
        segmentation images: :func:`nblabel.tasks.templating.check_crowd_answer`).
        """
        where = f"item {item}: " if item else ""
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}a custom task's answer is a JSON object of named values, got {value!r}")
        try:
            plain = json.loads(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}the answer is not JSON data: {exc}") from None
        problem = check_crowd_answer(plain)
        if problem:
            raise ValueError(f"{where}{problem}")
        return plain

    def answer_content(self, value: Any) -> dict[str, Any]:
        """The form output itself: it is GT's ``answerContent``."""
        return dict(value)

    def from_answer_content(self, content: Any) -> dict[str, Any]:
        """The whole ``answerContent``: a custom task's answer is the form output."""
        if not isinstance(content, Mapping):
            raise ValueError(f"answerContent must be an object, got {content!r}")
        return dict(content)

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        return value, self.metadata(human=human, job_name=job_name, created=created)

    def metadata(self, *, human: bool, job_name: str, created: str) -> dict[str, Any]:
        """``<attr>-metadata`` as GT adds it to a custom job's label (spelled as in real outputs)."""
        return {
            "type": GT_TYPE,
            "job-name": gt_job_name(job_name),
            "human-annotated": "yes" if human else "no",
            "creation-date": created,
        }

    # -- consolidation ------------------------------------------------------------------------

    def payload(
        self,
        answers: Mapping[int, Sequence[tuple[str, Any]]],
        sources: Sequence[Any],
        refs: Sequence[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """GT's post-annotation payload: every item with a person's answer, in row order.

        Parameters
        ----------
        answers
            Per row position (GT's ``datasetObjectId``, from 0), each person's current
            ``(annotator, answer)``.
        sources
            Each row's ``source`` / ``source-ref``, by position.
        refs
            Each row's ``source-ref``, when the manifest has that column: GT's ``dataObject`` is
            ``{"s3Uri": ref}`` for it, else ``{"content": source}``.

        Each annotation's ``content`` is the answer serialized as a JSON string, as GT sends it.
        """
        out = []
        for position, given in sorted(answers.items()):
            ref = refs[position] if refs is not None else None
            data_object = {"s3Uri": ref} if isinstance(ref, str) else {"content": sources[position]}
            out.append(
                {
                    "datasetObjectId": str(position),
                    "dataObject": data_object,
                    "annotations": [
                        {
                            "workerId": who,
                            "annotationData": {
                                "content": json.dumps(self.answer_content(value), ensure_ascii=False)
                            },
                        }
                        for who, value in given
                    ],
                }
            )
        return out

    def consolidate(
        self,
        answers: Mapping[int, Sequence[tuple[str, Any]]],
        sources: Sequence[Any],
        refs: Sequence[Any] | None = None,
        *,
        attribute: str,
        job_name: str,
        created: Mapping[int, str],
    ) -> dict[int, tuple[Any, dict[str, Any]] | None] | None:
        """Run ``post`` over the answers (see :meth:`payload` for the parameters): per row
        position, its (label, metadata), or None for an item ``post`` left out (GT writes no
        label for it). None without ``post``.

        ``attribute`` is the label attribute ``post`` answers under, ``job_name`` the job's name,
        ``created`` each row's label's ``creation-date``.

        Raises
        ------
        ValueError
            ``post`` failed or answered in another shape than GT's; the message says where.
        """
        if self.post is None:
            return None
        payload = self.payload(answers, sources, refs)
        try:
            response = self.post(payload)
        except Exception as exc:
            raise ValueError(f"the post-annotation function failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(response, list):
            raise ValueError(
                "the post-annotation function must return a list of "
                '{"datasetObjectId": ..., "consolidatedAnnotation": {"content": {...}}}, '
                f"got {type(response).__name__}"
            )
        asked = {str(position): position for position in answers}
        out: dict[int, tuple[Any, dict[str, Any]] | None] = dict.fromkeys(answers)
        meta = f"{attribute}-metadata"
        for n, entry in enumerate(response):
            where = f"the post-annotation response's entry {n}"
            try:
                object_id = str(entry["datasetObjectId"])
                content = entry["consolidatedAnnotation"]["content"]
            except (KeyError, TypeError):
                raise ValueError(
                    f"{where} lacks datasetObjectId or consolidatedAnnotation.content: {str(entry)[:200]}"
                ) from None
            if object_id not in asked:
                raise ValueError(f"{where}: datasetObjectId {object_id!r} was not in the payload")
            if not isinstance(content, Mapping) or attribute not in content:
                raise ValueError(f"{where} (datasetObjectId {object_id}): content has no {attribute!r} key")
            position = asked[object_id]
            metadata = self.metadata(human=True, job_name=job_name, created=created.get(position, ""))
            extra = content.get(meta)
            if isinstance(extra, Mapping):
                metadata.update(extra)  # a consolidation that writes its own metadata keeps it
            out[position] = (content[attribute], metadata)
        return out
