"""Label category attributes and frame attributes, as Ground Truth's label category configuration
has them (``labels[].categoryAttributes``, ``categoryGlobalAttributes``, ``frameAttributes``).

An attribute is ``{"name", "type": "string" | "number", "enum"?, "minimum"?, "maximum"?,
"isRequired"?, "editsAllowed"?, "description"?}``. Category attributes describe one object (a box,
an entity) of a label, global ones every object, frame attributes the whole item. Answers carry
them as GT writes them: ``label-category-attributes`` on each object and ``frame-attributes`` on
the item, ``{name: value}``. A required attribute left empty refuses the answer, naming it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FRAME_KEY", "OBJECT_KEY", "Attribute", "LabelAttributes", "read_label_categories"]

#: Where an object's attribute values go (GT's spelling).
OBJECT_KEY = "label-category-attributes"
#: Where an item's frame attribute values go.
FRAME_KEY = "frame-attributes"

_TYPES = ("string", "number")
# GT's editsAllowed values (SMDG sms-label-cat-config-attributes.md): whether a value an earlier
# job gave may be changed in an adjustment job.
_EDITS = ("any", "none")


@dataclass(frozen=True)
class Attribute:
    """One attribute: its name, ``type`` (``string`` or ``number``), allowed values (``enum``),
    bounds for numbers, whether it must be given (``required``) and whether a value may be changed
    once given (``edits_allowed``; GT's ``editsAllowed``, ``"any"`` by default)."""

    name: str
    type: str = "string"
    enum: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    edits_allowed: str = "any"
    description: str = ""

    @classmethod
    def of(cls, spec: Any) -> Attribute:
        """An attribute from GT's JSON spelling (or an Attribute).

        Raises
        ------
        ValueError
            No name, an unknown type, an empty ``enum``, or bounds the wrong way round.
        """
        if isinstance(spec, Attribute):
            return spec
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str) or not spec["name"]:
            raise ValueError(f"an attribute is a dict with a 'name', got {spec!r}")
        name = spec["name"]
        kind = spec.get("type", "string")
        if kind not in _TYPES:
            raise ValueError(f"attribute {name!r}: type is one of {_TYPES}, got {kind!r}")
        enum = spec.get("enum")
        if enum is not None and (not isinstance(enum, (list, tuple)) or not enum):
            raise ValueError(f"attribute {name!r}: enum is a non-empty list, got {enum!r}")
        low, high = spec.get("minimum"), spec.get("maximum")
        for bound in (low, high):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
                raise ValueError(f"attribute {name!r}: minimum and maximum are numbers, got {bound!r}")
        if low is not None and high is not None and low > high:
            raise ValueError(f"attribute {name!r}: minimum {low} is above maximum {high}")
        edits = spec.get("editsAllowed", "any")
        if edits not in _EDITS:
            raise ValueError(f"attribute {name!r}: editsAllowed is one of {_EDITS}, got {edits!r}")
        return cls(
            name=name,
            type=kind,
            enum=tuple(enum or ()),
            minimum=low,
            maximum=high,
            required=bool(spec.get("isRequired", False)),
            edits_allowed=edits,
            description=str(spec.get("description", "") or ""),
        )

    def spec(self) -> dict[str, Any]:
        """GT's JSON spelling (what the widget gets)."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "isRequired": self.required}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.edits_allowed != "any":
            out["editsAllowed"] = self.edits_allowed
        if self.description:
            out["description"] = self.description
        return out

    def check(self, value: Any, where: str) -> Any:
        """The value made canonical (numbers as int or float), or ValueError naming ``where``."""
        if self.type == "number":
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise ValueError(f"{where}attribute {self.name!r} is a number, got {value!r}") from None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{where}attribute {self.name!r} is a number, got {value!r}")
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{where}attribute {self.name!r} is at least {self.minimum}, got {value}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{where}attribute {self.name!r} is at most {self.maximum}, got {value}")
        elif not isinstance(value, str):
            raise ValueError(f"{where}attribute {self.name!r} is a string, got {value!r}")
        if self.enum and value not in self.enum:
            raise ValueError(f"{where}attribute {self.name!r} is one of {list(self.enum)}, got {value!r}")
        return value


def _attributes(specs: Any, where: str) -> tuple[Attribute, ...]:
    if specs is None:
        return ()
    if not isinstance(specs, (list, tuple)):
        raise ValueError(f"{where} is a list of attributes, got {specs!r}")
    out = tuple(Attribute.of(s) for s in specs)
    names = [a.name for a in out]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{where}: attribute names must be unique; repeated: {repeated}")
    return out


@dataclass(frozen=True)
class LabelAttributes:
    """The attributes of a task: per label (``category``), for every label (``global_``) and per
    item (``frame``)."""

    category: Mapping[str, tuple[Attribute, ...]] = field(default_factory=dict)
    global_: tuple[Attribute, ...] = ()
    frame: tuple[Attribute, ...] = ()

    @classmethod
    def of(cls, value: Any, labels: Sequence[str]) -> LabelAttributes | None:
        """Attributes from GT's label category configuration (its ``labels`` entries with
        ``categoryAttributes``, ``categoryGlobalAttributes``, ``frameAttributes``), a plain
        ``{label: [attribute, ...]}`` mapping with the optional ``"*"`` (every label) and
        ``"frame"`` keys, or a LabelAttributes. None stays None.

        Raises
        ------
        ValueError
            An attribute is malformed, or names a label the task does not have.
        """
        if value is None or isinstance(value, LabelAttributes):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"attributes are GT's label category configuration (a dict), got {value!r}")
        category: dict[str, tuple[Attribute, ...]] = {}
        if "labels" in value or "categoryGlobalAttributes" in value or "frameAttributes" in value:
            for entry in value.get("labels") or []:
                if isinstance(entry, Mapping) and entry.get("categoryAttributes"):
                    name = str(entry.get("label"))
                    category[name] = _attributes(entry["categoryAttributes"], f"label {name!r}")
            global_ = _attributes(value.get("categoryGlobalAttributes"), "categoryGlobalAttributes")
            frame = _attributes(value.get("frameAttributes"), "frameAttributes")
        else:
            for name, specs in value.items():
                if name not in ("*", "frame"):
                    category[str(name)] = _attributes(specs, f"label {name!r}")
            global_ = _attributes(value.get("*"), "'*' (every label)")
            frame = _attributes(value.get("frame"), "'frame'")
        unknown = sorted(set(category) - set(labels))
        if unknown:
            raise ValueError(
                f"attributes name labels the task does not have: {unknown}; labels: {list(labels)}"
            )
        return cls(category=category, global_=global_, frame=frame)

    def of_label(self, label: str) -> tuple[Attribute, ...]:
        """The attributes an object of ``label`` takes: the label's own, then the global ones."""
        return (*self.category.get(label, ()), *self.global_)

    def spec(self) -> dict[str, Any]:
        """What the widget gets: ``{"labels": {label: [...]}, "global": [...], "frame": [...]}``."""
        return {
            "labels": {label: [a.spec() for a in attrs] for label, attrs in self.category.items()},
            "global": [a.spec() for a in self.global_],
            "frame": [a.spec() for a in self.frame],
        }

    def check_object(self, label: str, values: Any, where: str) -> dict[str, Any]:
        """An object's attribute values checked against its label's attributes: known names,
        types, enums, bounds, required ones given. Returns them canonical, in declared order."""
        return _check(self.of_label(label), values, f"{where}{label}: ")

    def check_frame(self, values: Any, where: str) -> dict[str, Any]:
        """The item's frame attribute values, checked as :meth:`check_object` does."""
        return _check(self.frame, values, f"{where}frame ")


def _check(attributes: Sequence[Attribute], values: Any, where: str) -> dict[str, Any]:
    values = {} if values is None else values
    if not isinstance(values, Mapping):
        raise ValueError(f"{where}attributes are a dict of name to value, got {values!r}")
    known = {a.name: a for a in attributes}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{where}unknown attributes {unknown}; it takes {sorted(known)}")
    out = {}
    for a in attributes:
        value = values.get(a.name)
        if value is None or value == "":
            if a.required:
                raise ValueError(f"{where}the required attribute {a.name!r} is not given")
            continue
        out[a.name] = a.check(value, where)
    return out


def read_label_categories(source: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """GT's label category configuration file (JSON), or the dict itself, with its ``labels``
    checked: a list of ``{"label": name, ...}``.

    Raises
    ------
    ValueError
        The file is not JSON or has no ``labels`` list of named labels.
    """
    if isinstance(source, Mapping):
        config = dict(source)
    else:
        try:
            config = json.loads(Path(source).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{source}: not a JSON label category file ({exc})") from None
    labels = config.get("labels") if isinstance(config, Mapping) else None
    if not isinstance(labels, list) or not all(isinstance(e, Mapping) and e.get("label") for e in labels):
        raise ValueError(
            f"a label category configuration has 'labels': [{{'label': name}}, ...], got {labels!r}"
        )
    return config
