"""``df.nblabel``: write any manifest DataFrame locally or to S3, as a manifest or as flat labels.

Registered on ``import nblabel`` (registering costs one attribute on ``pd.DataFrame``)::

    df.nblabel.to_s3("s3://bucket/out/output.manifest")        # the augmented manifest
    df.nblabel.to_s3("s3://bucket/out/labels.parquet")         # flat labels, format from the suffix
    df.nblabel.to_manifest("output.manifest")                  # local path or s3:// URI
    df.nblabel.to_csv("labels.csv"); df.nblabel.to_parquet("s3://bucket/labels.parquet")
    df.nblabel.flat_labels()                                   # the flat table itself

*Flat labels* are one row per manifest line: ``source-ref`` and/or ``source``, then for each label
attribute ``<attr>`` (the class name, or the list of class names for multi-label; other label
types as their JSON), ``<attr>-confidence`` (a list for multi-label), ``<attr>-human-annotated``
(bool), ``<attr>-creation-date``, ``<attr>-job-name`` and ``<attr>-type``. Unlabeled lines have
missing values there. Every write is all-or-nothing (see :func:`nblabel.io.open_writer`).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from nblabel.io import is_s3_uri, open_writer
from nblabel.manifest import is_missing, write_manifest

__all__ = ["NblabelAccessor", "flat_labels", "label_attributes"]

_FORMATS = ("manifest", "parquet", "csv")


def label_attributes(df: pd.DataFrame) -> list[str]:
    """The label attributes of a manifest DataFrame: columns ``X`` that have an ``X-metadata``.

    GT's input keys (``source``, ``source-ref``) are never label attributes, even beside a
    ``source-ref-metadata`` (3D point-cloud and video-frame input manifests have one).
    """
    names = {str(c) for c in df.columns}
    return [
        str(c)
        for c in df.columns
        if f"{c}-metadata" in names
        and not str(c).endswith("-metadata")
        and str(c) not in ("source", "source-ref")
    ]


def flat_labels(df: pd.DataFrame, attribute: str | None = None) -> pd.DataFrame:
    """One row per manifest line with the labels as plain columns (see the module docstring).

    Parameters
    ----------
    df
        A manifest DataFrame (``read_manifest``, ``Job.to_dataframe()``).
    attribute
        Only this label attribute; default every one found.

    Raises
    ------
    ValueError
        No label attribute (no ``X`` / ``X-metadata`` column pair), or ``attribute`` is not one.
    """
    found = label_attributes(df)
    if attribute is not None:
        if attribute not in found:
            raise ValueError(f"{attribute!r} is not a label attribute of this DataFrame; found {found}")
        found = [attribute]
    if not found:
        raise ValueError(
            "the DataFrame has no label attribute (a column X with an X-metadata column); "
            f"its columns are {list(map(str, df.columns))}"
        )
    out: dict[str, Any] = {}
    for column in ("source-ref", "source"):
        if column in df.columns:
            out[column] = pd.Series(df[column].tolist(), dtype=object)
    for attr in found:
        rows = [_flat(value, meta) for value, meta in zip(df[attr], df[f"{attr}-metadata"], strict=True)]
        label, confidence, human, created, job, kind = zip(*rows, strict=True) if rows else ([],) * 6
        out[attr] = pd.Series(label, dtype=object)
        multi = any(isinstance(c, list) for c in confidence)
        out[f"{attr}-confidence"] = pd.Series(confidence, dtype=object if multi else "float64")
        out[f"{attr}-human-annotated"] = pd.Series(human, dtype="boolean")
        out[f"{attr}-creation-date"] = pd.Series(created, dtype=object)
        out[f"{attr}-job-name"] = pd.Series(job, dtype=object)
        out[f"{attr}-type"] = pd.Series(kind, dtype=object)
    return pd.DataFrame(out)


def _flat(value: Any, meta: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
    if not isinstance(meta, dict):
        return None, float("nan"), pd.NA, None, None, None
    human = {"yes": True, "no": False}.get(str(meta.get("human-annotated", "")).lower(), pd.NA)
    common = (human, meta.get("creation-date"), meta.get("job-name"), meta.get("type"))
    if "class-name" in meta:
        return (meta["class-name"], _number(meta.get("confidence")), *common)
    if "class-map" in meta and isinstance(value, list):
        names = {str(k): v for k, v in (meta.get("class-map") or {}).items()}
        confidences = {str(k): v for k, v in (meta.get("confidence-map") or {}).items()}
        return (
            [names.get(str(i)) for i in value],
            [_number(confidences.get(str(i))) for i in value],
            *common,
        )
    label = (
        None if is_missing(value) else value if isinstance(value, (str, int, float, bool)) else _json(value)
    )
    return (label, _number(meta.get("confidence")), *common)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _csv_ready(flat: pd.DataFrame) -> pd.DataFrame:
    """Lists (multi-label names and confidences) as JSON text, so a CSV cell holds one value."""
    out = flat.copy()
    for column in out.columns:
        if out[column].dtype == object and any(isinstance(v, list) for v in out[column]):
            out[column] = [_json(v) if isinstance(v, list) else v for v in out[column]]
    return out


@pd.api.extensions.register_dataframe_accessor("nblabel")
class NblabelAccessor:
    """nblabel's writers on any manifest DataFrame: ``df.nblabel.to_s3(uri)`` and friends."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def flat_labels(self, attribute: str | None = None) -> pd.DataFrame:
        """The labels as plain columns (see :func:`flat_labels`)."""
        return flat_labels(self._df, attribute)

    def to_manifest(self, location: str | os.PathLike[str], *, client: Any = None) -> None:
        """Write the DataFrame as a GT (augmented) manifest to a local path or ``s3://`` URI."""
        write_manifest(self._df, location, client=client)

    def to_parquet(
        self,
        location: str | os.PathLike[str],
        *,
        attribute: str | None = None,
        overwrite: bool = True,
        client: Any = None,
        **kwargs: Any,
    ) -> None:
        """Write the flat labels as Parquet (needs pyarrow) to a local path or ``s3://`` URI.

        ``kwargs`` go to :meth:`pandas.DataFrame.to_parquet`.
        """
        flat = flat_labels(self._df, attribute)
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError("writing Parquet needs pyarrow: pip install pyarrow") from None
        with open_writer(location, overwrite=overwrite, client=client) as out:
            flat.to_parquet(out, index=False, **kwargs)

    def to_csv(
        self,
        location: str | os.PathLike[str],
        *,
        attribute: str | None = None,
        overwrite: bool = True,
        client: Any = None,
        **kwargs: Any,
    ) -> None:
        """Write the flat labels as UTF-8 CSV to a local path or ``s3://`` URI.

        Lists (multi-label) are written as JSON text. ``kwargs`` go to
        :meth:`pandas.DataFrame.to_csv`.
        """
        flat = _csv_ready(flat_labels(self._df, attribute))
        with open_writer(location, overwrite=overwrite, client=client) as out:
            text = io.TextIOWrapper(out, encoding="utf-8", newline="")
            flat.to_csv(text, index=False, **kwargs)
            text.flush()
            text.detach()  # the writer, not the wrapper, decides when the object is complete

    def to_coco(
        self,
        attribute: str,
        location: str | os.PathLike[str] | None = None,
        *,
        labels: Sequence[str] | None = None,
        client: Any = None,
    ) -> dict[str, Any]:
        """Bounding boxes as COCO JSON (see :func:`nblabel.formats.to_coco`)."""
        from nblabel.formats import to_coco

        return to_coco(self._df, attribute, location, labels=labels, client=client)

    def to_yolo(
        self,
        attribute: str,
        folder: str | os.PathLike[str],
        *,
        labels: Sequence[str] | None = None,
        overwrite: bool = False,
    ) -> Path:
        """Bounding boxes as YOLO text files (see :func:`nblabel.formats.to_yolo`)."""
        from nblabel.formats import to_yolo

        return to_yolo(self._df, attribute, folder, labels=labels, overwrite=overwrite)

    def to_voc(
        self,
        attribute: str,
        folder: str | os.PathLike[str],
        *,
        labels: Sequence[str] | None = None,
        overwrite: bool = False,
    ) -> Path:
        """Bounding boxes as Pascal VOC XML files (see :func:`nblabel.formats.to_voc`)."""
        from nblabel.formats import to_voc

        return to_voc(self._df, attribute, folder, labels=labels, overwrite=overwrite)

    def to_masks(
        self,
        attribute: str,
        folder: str | os.PathLike[str],
        *,
        labels: Sequence[str] | None = None,
        overwrite: bool = False,
    ) -> Path:
        """Segmentation masks as index PNGs plus a colour map (see :func:`nblabel.formats.to_masks`)."""
        from nblabel.formats import to_masks

        return to_masks(self._df, attribute, folder, labels=labels, overwrite=overwrite)

    def to_preference_pairs(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        attribute: str | None = None,
        responses: Sequence[str] = ("response_a", "response_b"),
        prompt: str = "source",
        dimension: str | None = None,
        **writer: Any,
    ) -> Any:
        """Pairwise, ranking or rating labels as ``prompt`` / ``chosen`` / ``rejected`` JSON Lines
        (ties left out and counted; rankings give every pair of different ranks): see
        :mod:`nblabel.formats.preference`. ``attribute`` defaults to the one label attribute;
        the returned ``.table`` is ``datasets.Dataset.from_pandas``-ready."""
        from nblabel.formats.preference import to_preference_pairs

        if attribute is None:
            found = label_attributes(self._df)
            if len(found) != 1:
                raise ValueError(f"name the label attribute: the DataFrame has {found}")
            attribute = found[0]
        return to_preference_pairs(
            self._df, path, attribute, responses, prompt=prompt, dimension=dimension, **writer
        )

    def to_s3(
        self,
        uri: str,
        *,
        format: str | None = None,
        attribute: str | None = None,
        overwrite: bool = True,
        client: Any = None,
    ) -> None:
        """Write to S3: the augmented manifest, or the flat labels as Parquet or CSV.

        Parameters
        ----------
        uri
            ``s3://bucket/key``.
        format
            ``"manifest"``, ``"parquet"`` or ``"csv"``; default from the key's suffix
            (``.parquet``, ``.csv``), else ``"manifest"``.
        attribute
            For Parquet and CSV: only this label attribute.
        overwrite
            When False, refuse to replace an existing object (conditional write).
        client
            A boto3 S3 client; default from the standard AWS settings.
        """
        if not is_s3_uri(uri):
            raise ValueError(
                f"to_s3 writes to s3://bucket/key URIs, got {uri!r}; use to_manifest for local paths"
            )
        if format is None:
            lowered = uri.lower()
            format = (
                "parquet"
                if lowered.endswith(".parquet")
                else "csv"
                if lowered.endswith(".csv")
                else "manifest"
            )
        if format not in _FORMATS:
            raise ValueError(f"format must be one of {_FORMATS}, got {format!r}")
        if format == "parquet":
            self.to_parquet(uri, attribute=attribute, overwrite=overwrite, client=client)
        elif format == "csv":
            self.to_csv(uri, attribute=attribute, overwrite=overwrite, client=client)
        elif overwrite:
            write_manifest(self._df, uri, client=client)
        else:
            with open_writer(uri, overwrite=False, client=client) as out:
                write_manifest(self._df, out)
