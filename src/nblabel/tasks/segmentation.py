"""Semantic segmentation: Ground Truth's ``groundtruth/semantic-segmentation`` (gt-formats §2.6, §2.7).

An answer is a mask: one class index per pixel of the original image, 0 being ``BACKGROUND``.
It is kept as an indexed (palette) PNG under the job's folder, written atomically before the
answer is stored, and the stored value names it::

    {"mask": "/…/.nblabel/<job>/masks/<attribute>/<item>-<id>.png", "sha1": "<hex of the PNG>",
     "labels_present": ["road", "car"]}

The PNG's pixel value is the class index and its palette GT's colours (``#ffffff`` for index 0,
then one colour per class), so it reads both as GT's colour mask and as an index array. GT writes
the mask's location at ``<attribute>`` (which must end in ``-ref``) and the classes and colours in
``<attribute>-metadata``'s ``internal-color-map``. Existing GT masks are decoded by colour and
cross-checked against the palette index, as GT's own index-correction script does (the codec is
:mod:`nblabel.masks`).

With ``attributes=`` (GT's label category configuration) the answer also carries
``label-category-attributes``, ``{class name: {attribute: value}}`` for classes in the mask, and
``frame-attributes`` for the image. GT's output keeps each class's values in its
``internal-color-map`` entry and the image's in ``<attr>-metadata``'s ``frame-attributes``; the
worker response keeps them in ``labelMappings`` and beside it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from nblabel.io import AtomicFile
from nblabel.io.guard import CHECKED, MASK_BYTES, MediaError
from nblabel.manifest import is_missing
from nblabel.masks import (
    BACKGROUND,
    MAX_CLASSES,
    WHITE,
    color_map,
    decode_indices,
    decode_mask,
    encode_indices,
    indices_of_png,
    mask_png,
    palette_colors,
    read_gt_mask,
)
from nblabel.media import image_size
from nblabel.tasks.attributes import FRAME_KEY, OBJECT_KEY, LabelAttributes
from nblabel.tasks.base import Task, gt_answer, gt_job_name
from nblabel.tasks.classification import check_labels
from nblabel.tasks.instructions import Instructions
from nblabel.tasks.segment_prompts import GrabCut, PromptModel

__all__ = ["SemanticSegmentation"]

GT_TYPE = "groundtruth/semantic-segmentation"


class SemanticSegmentation(Task):
    """Paint each pixel of an image with a class: a mask at the original resolution.

    Index 0 is ``BACKGROUND`` (every unpainted pixel); the labels take indices 1, 2, ... in order
    and keys 1-9, 0 in the widget. The mask is written as an indexed PNG under the job's folder
    (``.nblabel/<job>/masks/``) with GT's colours as its palette. The job's label attribute ends
    in ``-ref``, as GT requires for this task (``Job`` adds it).

    Parameters
    ----------
    labels
        Class names (at most 255), in key order.
    adjust
        A label attribute of the input manifest holding GT masks (``<attr>-ref`` with its
        ``-metadata``). Each image starts from that mask, classes matched by name; the output
        gets GT's ``adjustment-status`` (``adjusted`` when any pixel changed).
    prompt_model
        What the widget's click-to-mask tools (a box, the 4 extreme points, corrective clicks)
        ask for a mask: any callable ``(image, points, point_labels, box) -> mask``
        (:mod:`nblabel.tasks.segment_prompts`), such as
        :class:`~nblabel.tasks.segment_prompts.SamOnnx` over the user's SAM files. Default:
        :class:`~nblabel.tasks.segment_prompts.GrabCut`.
    instructions
        What the people labeling are told (:class:`~nblabel.tasks.instructions.Instructions`):
        Markdown whose first paragraph is shown beside the item and the whole, with good and bad
        example images, in the panel the ``i`` key opens.
    attributes
        GT's label category configuration (``labels[].categoryAttributes``,
        ``categoryGlobalAttributes``, ``frameAttributes``; see :mod:`nblabel.tasks.attributes`),
        or ``{label: [attribute, ...], "*": [...], "frame": [...]}``: each class painted in the
        mask takes its attributes, the image its frame attributes. The widget shows a panel for
        the class being painted and one for the image; a required one left empty (of a class in
        the mask) blocks Enter.

    Examples
    --------
    >>> task = SemanticSegmentation(["road", "car", "person"])              # doctest: +SKIP
    >>> task = SemanticSegmentation(["road", "car"], adjust="streets-ref")  # doctest: +SKIP
    """

    media: ClassVar[str] = "image"
    family: ClassVar[str] = "segment"
    #: GT's rule: a semantic-segmentation label attribute ends in ``-ref``.
    attribute_suffix: ClassVar[str] = "-ref"

    def __init__(
        self,
        labels: Sequence[str],
        adjust: str | None = None,
        prompt_model: PromptModel | None = None,
        *,
        instructions: Any = None,
        attributes: Any = None,
    ) -> None:
        self.labels = check_labels(labels)
        self.instructions = Instructions.of(instructions)
        self.attributes = LabelAttributes.of(attributes, self.labels)
        if len(self.labels) > MAX_CLASSES:
            raise ValueError(
                f"an indexed PNG mask holds at most {MAX_CLASSES} classes, got {len(self.labels)}"
            )
        if BACKGROUND in self.labels:
            raise ValueError(f"{BACKGROUND!r} is index 0 of every mask; it cannot be one of the labels")
        if adjust is not None and (not isinstance(adjust, str) or not adjust):
            raise ValueError(f"adjust names a manifest attribute with masks, got {adjust!r}")
        if prompt_model is not None and not callable(prompt_model):
            raise TypeError(
                f"prompt_model is a callable (image, points, point_labels, box) -> mask, got {prompt_model!r}"
            )
        self.adjust = adjust
        self.prompt_model: PromptModel = prompt_model or GrabCut()
        self.colors = palette_colors(len(self.labels))

    def __repr__(self) -> str:
        extra = f", adjust={self.adjust!r}" if self.adjust else ""
        if not isinstance(self.prompt_model, GrabCut):
            extra += f", prompt_model={self.prompt_model!r}"
        return f"SemanticSegmentation({self.labels!r}{extra})"

    @property
    def gt_type(self) -> str:
        return GT_TYPE

    @property
    def gt_element(self) -> str:
        return "crowd-semantic-segmentation"

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.adjust,) if self.adjust else ()

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": GT_TYPE, "labels": self.labels}
        if self.adjust:
            spec["adjust"] = self.adjust
        return spec

    def input_files(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The mask to adjust, when the row has one."""
        ref = row.get(self.adjust) if self.adjust else None
        return [] if ref is None or is_missing(ref) else [(str(self.adjust), str(ref))]

    # -- answers ----------------------------------------------------------------------------

    def widget_answer(self, value: Any, item: str = "") -> Any:
        """A widget's mask is its pixels, ``{"width", "height", "data"}``: a file path in a
        message (``{"mask": "/etc/passwd"}``) is refused.

        Raises
        ------
        ValueError
            The answer is not the widget's pixels; names the item.
        """
        if isinstance(value, Mapping) and "data" in value and "mask" not in value:
            return value
        where = f"item {item}: " if item else ""
        raise ValueError(
            f"{where}a mask from the widget is its pixels ({{'width', 'height'}} and the data buffer), "
            "never a file path"
        )

    def prepare(self, value: Any, item: str, folder: Path, name: str | None = None) -> Any:
        """Write a mask given as data and return the stored answer; other values pass through.

        ``value`` is a 2-D integer array of class indices, the widget's
        ``{"width", "height", "data": zlib bytes}``, or ``{"indices": array}`` (an answer read
        back, a consolidated mask); the last two may carry ``label-category-attributes`` and
        ``frame-attributes``, kept in the stored answer. The PNG goes to ``folder`` as
        ``<item digest>-<name or a random id>.png``, written whole before this returns.

        Raises
        ------
        ValueError
            Not a 2-D array, wrong size, or an index past the labels; names the item.
        """
        where = f"item {item}: " if item else ""
        attributes = (
            {k: value[k] for k in (OBJECT_KEY, FRAME_KEY) if value.get(k)}
            if isinstance(value, Mapping)
            else {}
        )
        if isinstance(value, Mapping) and "indices" in value and "mask" not in value:
            value = np.asarray(value["indices"])
        if isinstance(value, Mapping) and "data" in value:
            width, height = value.get("width"), value.get("height")
            for v, what in ((width, "width"), (height, "height")):
                if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= 100_000:
                    raise ValueError(f"{where}the mask's {what} must be a positive integer, got {v!r}")
            data = value["data"]
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise ValueError(f"{where}the mask data must be bytes, got {type(data).__name__}")
            indices = decode_indices(data, width, height, where)
        elif isinstance(value, np.ndarray) or (
            isinstance(value, list) and value and isinstance(value[0], list)
        ):
            indices = np.asarray(value)
            if indices.ndim != 2 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
                raise ValueError(
                    f"{where}a mask is a 2-D array of integer class indices, got {indices.dtype} of shape "
                    f"{indices.shape}"
                )
            if indices.min() < 0:
                raise ValueError(f"{where}the mask has a negative class index {int(indices.min())}")
        else:
            return value
        top = int(indices.max())
        if top > len(self.labels):
            y, x = np.argwhere(indices == top)[0]
            raise ValueError(
                f"{where}pixel x={x}, y={y} has class index {top}, past the {len(self.labels)} labels "
                "(0 is BACKGROUND)"
            )
        png = mask_png(indices.astype(np.uint8), self.colors)
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(item.encode("utf-8")).hexdigest()[:16]
        token = re.sub(r"[^A-Za-z0-9_-]", "", name or "")[:40] or secrets.token_hex(8)
        path = (folder / f"{digest}-{token}.png").resolve()
        with AtomicFile(path) as out:
            out.write(png)
        present = [self.labels[i - 1] for i in np.unique(indices) if i > 0]
        return {
            "mask": str(path),
            "sha1": hashlib.sha1(png).hexdigest(),
            "labels_present": present,
            **attributes,
        }

    def took_proposal(self, value: Any, proposal: Any) -> bool | None:
        """None: the answer's pixels and the proposed mask are not compared when a person
        answers (``job.stats()`` leaves masks out of ``accepted_unchanged``)."""
        return None

    def validate(self, value: Any, item: str = "", *, source: Any = None) -> dict[str, Any]:
        """The stored answer, checked: the mask file is an indexed PNG with the recorded sha1
        and, given the item's ``source``, the size of its image (EXIF-oriented, read from the
        image's header through the file guard).

        Raises
        ------
        ValueError
            Not ``{"mask", "sha1", "labels_present"}``, the file is missing, changed, not an
            indexed PNG or not the image's size, or a class is not among the labels; names the
            item.
        """
        where = f"item {item}: " if item else ""
        if isinstance(value, str) and value.lstrip().startswith("{"):
            value = json.loads(value)
        if not isinstance(value, Mapping) or not isinstance(value.get("mask"), str):
            raise ValueError(
                f"{where}a segmentation answer is {{'mask': path, 'sha1': hex, 'labels_present': [...]}} "
                f"or a 2-D array of class indices, got {str(value)[:80]!r}"
            )
        path = value["mask"]
        try:
            data = CHECKED.read(path, MASK_BYTES)
        except MediaError as exc:
            raise ValueError(f"{where}cannot read the mask file {path}: {exc.reason}") from None
        sha1 = hashlib.sha1(data).hexdigest()
        if value.get("sha1") not in (None, sha1):
            raise ValueError(f"{where}the mask file {path} changed: its sha1 is {sha1}, not {value['sha1']}")
        size = _png_size(data, f"{where}the mask file {path}")
        if isinstance(source, str):
            try:
                shown = image_size(source, CHECKED)
            except MediaError as exc:
                raise ValueError(
                    f"{where}the mask cannot be checked against its image: {exc.reason}"
                ) from None
            if size != shown:
                raise ValueError(
                    f"{where}the mask is {size[0]} x {size[1]} pixels, its image {shown[0]} x {shown[1]}"
                )
        present = value.get("labels_present")
        if present is None:
            present = [
                self.labels[i - 1] for i in np.unique(decode_mask(path, where)) if 0 < i <= len(self.labels)
            ]
        if not isinstance(present, list) or any(name not in self.labels for name in present):
            raise ValueError(f"{where}labels_present {present!r} must list class names among {self.labels}")
        out: dict[str, Any] = {"mask": path, "sha1": sha1, "labels_present": list(present)}
        if self.attributes is not None:
            out.update(self._attribute_values(value, present, where))
        return out

    def _attribute_values(self, value: Mapping[str, Any], present: list[str], where: str) -> dict[str, Any]:
        """The answer's class and frame attribute values, checked: a class's values only for a
        class in the mask, and every class in the mask with its required ones."""
        assert self.attributes is not None
        given = value.get(OBJECT_KEY) or {}
        if not isinstance(given, Mapping):
            raise ValueError(f"{where}{OBJECT_KEY} is {{class name: {{attribute: value}}}}, got {given!r}")
        absent = sorted(set(given) - set(present))
        if absent:
            raise ValueError(
                f"{where}attributes of classes the mask does not have: {absent}; it has {present}"
            )
        out: dict[str, Any] = {}
        classes = {}
        for name in present:
            checked = self.attributes.check_object(name, given.get(name), where)
            if checked:
                classes[name] = checked
        if classes:
            out[OBJECT_KEY] = classes
        frame = self.attributes.check_frame(value.get(FRAME_KEY), where)
        if frame:
            out[FRAME_KEY] = frame
        return out

    def to_gt(
        self,
        value: Any,
        *,
        confidence: float | None,
        human: bool,
        job_name: str,
        created: str,
    ) -> tuple[Any, dict[str, Any]]:
        # GT: one confidence per image, the same for every class; one person's answer has 0.00.
        conf = round(float(confidence), 2) if confidence is not None else 0.0
        colors = color_map(self.labels, conf)
        for name, values in (value.get(OBJECT_KEY) or {}).items():  # a class's values in its entry
            colors[str(self.labels.index(name) + 1)][OBJECT_KEY] = dict(values)
        metadata = {
            "internal-color-map": colors,
            "type": GT_TYPE,
            "human-annotated": "yes" if human else "no",
            "creation-date": created,
            "job-name": gt_job_name(job_name),
        }
        if value.get(FRAME_KEY):
            metadata[FRAME_KEY] = dict(value[FRAME_KEY])
        return value["mask"], metadata

    def label_file(self, value: Any) -> Path:
        return Path(value["mask"])

    def answer_content(self, value: Any) -> dict[str, Any]:
        """GT's ``crowd-semantic-segmentation`` answer: the mask PNG in base64 (its palette is
        the class colours, so GT reads it by colour) and each class's colour."""
        indices = self.indices(value)
        classes = value.get(OBJECT_KEY) or {}
        mappings: dict[str, Any] = {}
        for i, name in enumerate(self.labels):
            mappings[name] = {"color": self.colors[i + 1]}
            if classes.get(name):
                mappings[name][OBJECT_KEY] = dict(classes[name])
        answer: dict[str, Any] = {
            "inputImageProperties": {"height": int(indices.shape[0]), "width": int(indices.shape[1])},
            "labelMappings": mappings,
            "labeledImage": {
                "pngImageData": base64.b64encode(CHECKED.read(value["mask"], MASK_BYTES)).decode()
            },
        }
        if value.get(FRAME_KEY):
            answer[FRAME_KEY] = dict(value[FRAME_KEY])
        return {self.gt_element: answer}

    def from_answer_content(self, content: Any) -> Any:
        """A ``crowd-semantic-segmentation`` answer as class indices (0 = background), by colour:
        each class's colour is in ``labelMappings``; white and transparent pixels are background.
        With attribute values (a class's ``label-category-attributes`` in its ``labelMappings``
        entry, ``frame-attributes`` beside them), ``{"indices": array, ...}`` with the values."""
        answer = gt_answer(content, "labeledImage")
        colors = {0: WHITE}
        classes = {}
        for name, mapping in answer.get("labelMappings", {}).items():
            if name not in self.labels:
                raise ValueError(f"the mask has class {name!r}, which is not among the labels {self.labels}")
            colors[self.labels.index(name) + 1] = mapping["color"]
            if mapping.get(OBJECT_KEY):
                classes[name] = dict(mapping[OBJECT_KEY])
        try:
            png = base64.b64decode(answer["labeledImage"]["pngImageData"], validate=True)
        except binascii.Error as exc:
            raise ValueError(f"pngImageData is not base64: {exc}") from None
        indices = indices_of_png(png, colors, "the mask", "labelMappings")
        size = answer.get("inputImageProperties") or {}
        if size and (size.get("height"), size.get("width")) != indices.shape:
            raise ValueError(
                f"the mask is {indices.shape[1]}x{indices.shape[0]} pixels, the image "
                f"{size.get('width')}x{size.get('height')}"
            )
        attributes = {k: v for k, v in ((OBJECT_KEY, classes), (FRAME_KEY, answer.get(FRAME_KEY))) if v}
        return {"indices": indices, **attributes} if attributes else indices

    # -- what the widget shows ----------------------------------------------------------------

    def indices(self, value: Mapping[str, Any]) -> np.ndarray:
        """The class indices of a stored answer."""
        return decode_mask(value["mask"])

    def widget_value(self, value: Any) -> Any:
        """A stored answer with its pixels, for the widget to show again: adds ``width``,
        ``height`` and ``data`` (the indices, zlib-compressed). A proposal's per-pixel confidence
        map (``confidence_map``) comes along as ``confidence``: ``width``, ``height`` and ``data``
        (0-255 per pixel, zlib-compressed), at most :data:`CONFIDENCE_SIDE` pixels a side."""
        if not isinstance(value, Mapping) or "mask" not in value:
            return value
        indices = decode_mask(value["mask"])
        shown = {
            **value,
            "width": indices.shape[1],
            "height": indices.shape[0],
            "data": encode_indices(indices),
        }
        if value.get("confidence_map"):
            shown["confidence"] = confidence_preview(str(value["confidence_map"]))
        return shown

    def item_extras(
        self, row: Mapping[str, Any], source: Any, image_size: Mapping[str, int]
    ) -> dict[str, Any]:
        """With ``adjust``: the mask to start from, ``{"initial": {"width", "height", "data"}}``.

        Raises
        ------
        ValueError
            The manifest's mask cannot be read, has another size than the image, or a class
            the labels lack.
        """
        if not self.adjust:
            return {}
        indices = self._before(row)
        if indices is None:
            return {}
        height, width = indices.shape
        if image_size and (image_size.get("width"), image_size.get("height")) != (width, height):
            raise ValueError(
                f"the mask in {self.adjust!r} is {width} x {height}, the image "
                f"{image_size.get('width')} x {image_size.get('height')}"
            )
        return {"initial": {"width": width, "height": height, "data": encode_indices(indices)}}

    def _before(self, row: Mapping[str, Any]) -> np.ndarray | None:
        assert self.adjust
        ref = row.get(self.adjust)
        if ref is None or is_missing(ref):
            return None
        # The job checked the column against its media_root when it was made (input_files).
        indices, _ = read_gt_mask(
            str(ref), row.get(f"{self.adjust}-metadata"), self.labels, self.adjust, guard=CHECKED
        )
        return indices

    def row_metadata(self, value: Any, row: Mapping[str, Any]) -> dict[str, Any]:
        """``adjustment-status`` for an adjustment job: did any pixel change?"""
        if not self.adjust:
            return {}
        before = self._before(row)
        after = self.indices(value)
        same = (before is None and not after.any()) or (before is not None and np.array_equal(before, after))
        return {"adjustment-status": "unadjusted" if same else "adjusted"}


#: The longest side of a proposal's confidence map as the widget gets it: the widget dims
#: uncertain regions, so a coarse map does, and it stays a few kilobytes whatever the image.
CONFIDENCE_SIDE = 256


def confidence_preview(path: str) -> dict[str, Any]:
    """A proposal's per-pixel confidence map (a greyscale PNG, 0-255, read through the guard)
    shrunk to at most :data:`CONFIDENCE_SIDE` pixels a side by averaging: ``width``, ``height``
    and ``data`` (the bytes, row by row, zlib-compressed)."""
    with CHECKED.open(path, MASK_BYTES) as fh, Image.open(fh) as img:
        grey = img.convert("L")
        scale = min(1.0, CONFIDENCE_SIDE / max(grey.size))
        if scale < 1:
            size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
            grey = grey.resize(size, Image.Resampling.BOX)
        pixels = np.asarray(grey)
    return {"width": pixels.shape[1], "height": pixels.shape[0], "data": encode_indices(pixels)}


def _png_size(data: bytes, what: str) -> tuple[int, int]:
    """The width and height of an indexed PNG, from its header (``ValueError`` when it is not one)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != "PNG" or img.mode != "P":
                raise ValueError(
                    f"{what} is a {img.format} {img.mode} image, not an indexed (palette) PNG mask"
                )
            return img.size
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{what} is not a PNG image: {exc}") from None
