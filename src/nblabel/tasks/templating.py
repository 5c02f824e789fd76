"""Ground Truth worker templates: Liquid with GT's filters, rendered in the kernel.

A GT worker task template is HTML with Liquid in it and GT's ``crowd-*`` elements
(gt-formats.md §6). The template is rendered once per item against ``{"task": {"input":
taskInput}}``, where ``taskInput`` is what the pre-annotation function returned. Rendering uses
python-liquid with autoescape on, as GT does: every value from the data is HTML-escaped unless
the template opts out with ``skip_autoescape``. GT's extra filters behave as GT documents them:

- ``grant_read_access``: an ``s3://`` URI becomes a SigV4 presigned HTTPS URL (one hour); a
  local path becomes a ``data:`` URL holding the file's bytes, so the notebook's browser can
  show it without a file server. A value in the data could name any file, so the file goes
  through the job's file guard (:meth:`nblabel.io.guard.FileGuard.embed`): the ``media_root``
  rule, no system files, at most 50 MB, and only images, audio, video, PDF or plain text by
  their bytes; ``file://`` URIs are refused. ``http(s)://`` and ``data:`` URLs pass unchanged.
- ``to_json``: the value as JSON. As in GT it is not HTML-escaped (GT's docs write
  ``{{ x | to_json | escape }}`` inside attributes), but ``<``, ``>``, ``&`` and ``'`` are
  written as ``\\u003c`` etc., so a data value can never close a tag or a single-quoted
  attribute; the JSON means the same.
- ``escape`` / ``escape_once``: Liquid's, HTML-escaping (``escape_once`` leaves entities alone).
- ``skip_autoescape``: the value unescaped. Only for HTML you control.

The template itself is the user's own code: its markup and scripts run in the notebook page.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from liquid import Environment, Undefined
from liquid.exceptions import LiquidError
from markupsafe import Markup

from nblabel.tasks.preference import check_text_ranking

__all__ = [
    "A2I_ONLY_ELEMENTS",
    "SUPPORTED_ELEMENTS",
    "TemplateError",
    "WorkerTemplate",
    "check_crowd_answer",
]

#: The crowd HTML elements nblabel draws (js/crowd/), each producing GT's documented output: every
#: element of GT's crowd HTML element reference (SMDG sms-ui-template-reference.md), plus the two
#: that AWS's own sample templates use beyond it (``crowd-slider-label`` in
#: gen-ai/multi-modal-content-evaluation, ``crowd-entity-annotator`` in
#: other/custom-instructions-width) and the generative-AI elements of GT's gen-ai samples.
SUPPORTED_ELEMENTS: tuple[str, ...] = (
    "crowd-alert",
    "crowd-badge",
    "crowd-bounding-box",
    "crowd-button",
    "crowd-card",
    "crowd-checkbox",
    "crowd-classifier",
    "crowd-classifier-multi-select",
    "crowd-entity-annotation",
    "crowd-entity-annotator",
    "crowd-fab",
    "crowd-form",
    "crowd-icon-button",
    "crowd-image-classifier",
    "crowd-image-classifier-multi-select",
    "crowd-input",
    "crowd-instance-segmentation",
    "crowd-instructions",
    "crowd-keypoint",
    "crowd-line",
    "crowd-modal",
    "crowd-polygon",
    "crowd-polyline",
    "crowd-question-answer-generation",
    "crowd-radio-button",
    "crowd-radio-group",
    "crowd-semantic-segmentation",
    "crowd-slider",
    "crowd-slider-label",
    "crowd-tab",
    "crowd-tabs",
    "crowd-text-area",
    "crowd-text-ranking",
    "crowd-toast",
    "crowd-toggle-button",
)

#: Crowd elements AWS documents only for Amazon Augmented AI human review workflows (SMDG
#: crowd-elements-a2i-list.md): not Ground Truth elements, and not drawn by nblabel. A template
#: using one is refused saying so, never as an element AWS does not have.
A2I_ONLY_ELEMENTS: tuple[str, ...] = (
    "crowd-rekognition-detect-moderation-labels",
    "crowd-textract-analyze-document",
)

_TAG = re.compile(r"<\s*(crowd-[A-Za-z0-9-]+)")
# A tag named in an HTML comment is not used (GT's custom-instructions-width sample names one).
_COMMENT = re.compile(r"<!--.*?-->", re.S)
# GT templates load GT's own element definitions from its CDN; nblabel defines the elements
# itself, and a second definition of the same custom element would throw in the browser.
_GT_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?https?://assets\.crowd\.aws/[^>]*>\s*</script\s*>", re.IGNORECASE
)
_SAFE_JSON = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


class TemplateError(ValueError):
    """A worker template that cannot be used; the message names the template and the cause."""


def _missing(value: Any, name: str) -> None:
    """Raise a TemplateError naming the field when a filter got Liquid's Undefined."""
    if not isinstance(value, Undefined):
        return
    field = str(value.hint or value.name).removesuffix(" is undefined")
    token = value.token
    line = f" (template line {token.source.count(chr(10), 0, token.start_index) + 1})" if token else ""
    raise TemplateError(f"{name}: the item has no {field}{line}")


def _json(value: Any) -> Markup:
    _missing(value, "to_json")
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"to_json: {exc}") from exc
    return Markup(text.translate(_SAFE_JSON))


# The media_root of the job whose item is being rendered (see WorkerTemplate.render).
_MEDIA_ROOT: ContextVar[str | os.PathLike[str] | None] = ContextVar("nblabel_media_root", default=None)


class WorkerTemplate:
    """A GT worker template, parsed once and rendered per item.

    Parameters
    ----------
    template
        The template's HTML, or the path of a file holding it (``.html``/``.liquid`` or any
        existing file).
    s3_client
        The boto3 S3 client that signs ``grant_read_access`` URLs; default from the standard
        AWS settings.

    Raises
    ------
    TemplateError
        The file cannot be read, the Liquid does not parse (line and column named), or the
        template uses ``crowd-*`` elements nblabel does not draw (each named).
    """

    def __init__(self, template: str | os.PathLike[str], *, s3_client: Any = None) -> None:
        self.origin, source = _load(template)
        self.s3_client = s3_client
        self.elements = frozenset(m.group(1).lower() for m in _TAG.finditer(_COMMENT.sub("", source)))
        a2i = sorted(self.elements & set(A2I_ONLY_ELEMENTS))
        if a2i:
            raise TemplateError(
                f"{self.origin}: {', '.join(f'<{e}>' for e in a2i)}: AWS offers "
                f"{'this element' if len(a2i) == 1 else 'these elements'} only in Amazon Augmented AI "
                "human review workflows, not in Ground Truth templates; nblabel does not draw "
                f"{'it' if len(a2i) == 1 else 'them'}"
            )
        unknown = sorted(self.elements - set(SUPPORTED_ELEMENTS))
        if unknown:
            verb = (
                "is not a Ground Truth crowd element"
                if len(unknown) == 1
                else "are not Ground Truth crowd elements"
            )
            raise TemplateError(
                f"{self.origin}: {', '.join(f'<{e}>' for e in unknown)} {verb} "
                f"(nblabel draws every element of GT's reference: {', '.join(SUPPORTED_ELEMENTS)})"
            )
        env = Environment(autoescape=True)
        env.filters["grant_read_access"] = self._grant_read_access
        env.filters["to_json"] = _json
        env.filters["skip_autoescape"] = lambda value: Markup("" if value is None else str(value))
        try:
            self._template = env.from_string(_GT_SCRIPT.sub("", source))
        except LiquidError as exc:
            raise TemplateError(f"{self.origin}: the Liquid does not parse: {exc}") from None
        self.source = source

    def __repr__(self) -> str:
        return f"WorkerTemplate({self.origin!r})"

    def __reduce__(self) -> tuple[Any, tuple[str, str, Any]]:
        # The parsed Liquid holds functions of its own: a template travels (to the portal's
        # kernels, to worker processes) as its source and is parsed again where it lands.
        return _reparse, (self.origin, self.source, self.s3_client)

    def render(self, task_input: Any, *, media_root: str | os.PathLike[str] | None = None) -> str:
        """The template's HTML for one item, with ``task.input`` bound to ``task_input``.

        ``media_root`` is the job's: the folder ``grant_read_access`` may read local files from
        (see :class:`nblabel.Job`).

        Raises
        ------
        TemplateError
            A filter failed (a file to grant access to is missing, an unknown filter, a value
            ``to_json`` cannot encode); the message says which.
        """
        # Items render in several worker threads at once; each sees its own job's root.
        token = _MEDIA_ROOT.set(media_root)
        try:
            return self._template.render(task={"input": task_input})
        except TemplateError:
            raise
        except LiquidError as exc:
            raise TemplateError(f"{self.origin}: {exc}") from None
        finally:
            _MEDIA_ROOT.reset(token)

    def _grant_read_access(self, value: Any) -> str:
        _missing(value, "grant_read_access")
        ref = "" if value is None else str(value).strip()
        scheme = urlparse(ref).scheme.lower()
        if scheme == "s3":
            from nblabel.io.s3 import presigned_url

            try:
                return presigned_url(ref, client=self.s3_client)
            except Exception as exc:  # bad URI, no credentials: say which object
                raise TemplateError(f"grant_read_access: cannot sign {ref}: {exc}") from exc
        if scheme in ("http", "https", "data"):
            return ref
        if not ref:
            raise TemplateError("grant_read_access: the value is empty")
        from nblabel.io.guard import FileGuard, MediaError

        try:
            mime, data = FileGuard(_MEDIA_ROOT.get()).embed(ref)
        except MediaError as exc:
            raise TemplateError(f"grant_read_access: {ref!r}: {exc.reason}") from None
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _load(template: str | os.PathLike[str]) -> tuple[str, str]:
    """(name for messages, source) of a template given as text or as a file path."""
    if isinstance(template, os.PathLike) or (
        isinstance(template, str) and not any(c in template for c in "<{\n")
    ):
        path = Path(template)
        try:
            return str(path), path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TemplateError(f"template file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"cannot read the template {path}: {exc}") from None
    if not isinstance(template, str):
        raise TypeError(f"template must be HTML text or a file path, got {type(template).__name__}")
    return "the template", template


_PNG = b"\x89PNG\r\n\x1a\n"


def check_crowd_answer(answer: Mapping[str, Any]) -> str:
    """What is wrong with the crowd-element outputs in a form output, or ``""``.

    Checked where GT's documented shapes carry rules a stored answer could break:

    - ``ordinalRankingDimensions`` (``crowd-text-ranking``; answerContent as GT's text-ranking
      notebook in aws-samples/amazon-sagemaker-groundtruth-immersionday reads it):
      ``[{"name", "responseRankings": [rank of response 1, ...]}]``, checked by
      :func:`nblabel.tasks.preference.check_text_ranking` with ties allowed (the template's
      ``allowTie`` is checked in the browser);
    - ``labeledImage.pngImageData`` (``crowd-semantic-segmentation`` /
      ``crowd-instance-segmentation``, gt-formats.md §2.7 and §6): base64 of a PNG whose size is
      ``inputImageProperties``.

    The outputs are looked for at the top level and under each element's name.
    """
    places = [answer, *(v for v in answer.values() if isinstance(v, Mapping))]
    for place in places:
        dims = place.get("ordinalRankingDimensions")
        if isinstance(dims, list):  # a form field of that name holding text is the template's own
            # The template's dimensions and allowTie live in the browser, which enforces them:
            # the kernel checks the shape and ranks with nl.Ranking's own rule, ties allowed.
            named = [d.get("name") for d in dims if isinstance(d, Mapping)]
            first = dims[0].get("responseRankings") if dims and isinstance(dims[0], Mapping) else None
            try:
                check_text_ranking(
                    place,
                    [{"name": n, "allowTie": True} for n in named],
                    len(first) if isinstance(first, list) else 0,
                )
            except ValueError as exc:
                return f"ranking: {exc}"
        image = place.get("labeledImage")
        if isinstance(image, Mapping) and "pngImageData" in image:
            data = image["pngImageData"]
            try:
                png = base64.b64decode(data if isinstance(data, str) else "", validate=True)
            except (TypeError, ValueError):
                png = b""
            if not png.startswith(_PNG) or len(png) < 24:
                return "labeledImage.pngImageData must be a base64 PNG"
            size = place.get("inputImageProperties")
            width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
            if isinstance(size, Mapping) and (size.get("width"), size.get("height")) != (width, height):
                return f"labeledImage is {width} x {height}, inputImageProperties says {size.get('width')} x {size.get('height')}"
    return ""


def task_input_of(result: Any, where: str) -> tuple[Any, bool]:
    """Check a pre-annotation result (GT's shape) and return (taskInput, human required).

    ``isHumanAnnotationRequired`` defaults to true; GT's own samples spell it as a string.
    """
    if not isinstance(result, Mapping) or "taskInput" not in result:
        raise ValueError(
            f"{where}: the pre-annotation function must return "
            '{"taskInput": {...}, "isHumanAnnotationRequired": "true"}, '
            f"got {str(result)[:200]}"
        )
    required = result.get("isHumanAnnotationRequired", result.get("humanAnnotationRequired", True))
    if isinstance(required, str):
        required = required.strip().lower() != "false"
    return result["taskInput"], bool(required)


def _reparse(origin: str, source: str, s3_client: Any) -> WorkerTemplate:
    """A template parsed again from its source (what unpickling a :class:`WorkerTemplate` calls)."""
    template = WorkerTemplate(source, s3_client=s3_client)
    template.origin = origin  # the file it came from, for error messages
    return template
