"""The segmentation widget's tool requests, driven without a browser (as test_widget_python.py does).

The browser asks for a prompt's mask or an image's superpixels; the kernel answers each request
once, from a worker thread, with the mask's rectangle or the label image as a zlib buffer. The
replies are compared with what the headless functions give for the same image.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from recorder import Recorder

import nblabel as nl
from nblabel.tasks.segment_prompts import GrabCut, extreme_points_prompt, superpixels
from nblabel.widgets import SegmentWidget, widget_for

BUNDLE = Path(__file__).resolve().parents[3] / "src" / "nblabel" / "static" / "segment.js"
W, H = 300, 200


@pytest.fixture
def image(tmp_path: Path) -> tuple[str, np.ndarray]:
    """A PNG (lossless, so the kernel reads these very pixels): a red square on noisy green."""
    rng = np.random.default_rng(1)
    pixels = np.empty((H, W, 3), np.uint8)
    pixels[:] = (40, 150, 60)
    pixels[60:140, 80:180] = (210, 30, 40)
    pixels = np.clip(pixels + rng.integers(-12, 13, pixels.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "square.png"
    Image.fromarray(pixels).save(path)
    return str(path), pixels


@pytest.fixture
def open_widget(image: tuple[str, np.ndarray]) -> Iterator[Any]:
    assert BUNDLE.is_file(), f"{BUNDLE} is missing: build it with `npm run build` (or `make js`)"
    made = []

    def make(**task: Any) -> tuple[SegmentWidget, Recorder, str]:
        job = nl.Job(
            "seg", pd.DataFrame({"source-ref": [image[0]]}), nl.SemanticSegmentation(["a", "b"], **task)
        )
        w = widget_for(job.feed())
        assert isinstance(w, SegmentWidget)
        recorder = Recorder()
        w.send = recorder
        made.append(w)
        return w, recorder, job.feed().items.keys[0]

    yield make
    for w in made:
        w.close()


def unpack(message: dict[str, Any], buffers: list[bytes]) -> np.ndarray:
    """The full-size mask of a ``prompt-mask`` reply."""
    mask = np.zeros((H, W), bool)
    if message["rect"] is not None:
        x0, y0, x1, y1 = message["rect"]
        crop = np.frombuffer(zlib.decompress(bytes(buffers[0])), np.uint8).reshape(y1 - y0, x1 - x0)
        assert set(np.unique(crop)) <= {0, 1}
        mask[y0:y1, x0:x1] = crop.astype(bool)
    return mask


def test_a_box_prompt_is_answered_with_grabcut_s_mask(open_widget, image) -> None:
    w, rec, key = open_widget()
    box = [60, 40, 200, 160]
    w._on_custom(w, {"type": "prompt", "id": 7, "key": key, "box": box, "points": [], "labels": []}, [])
    [(reply, buffers)] = rec.wait_for("prompt-mask")
    assert reply["id"] == 7 and reply["key"] == key and "error" not in reply
    expected = GrabCut()(image[1], [], [], box)
    got = unpack(reply, buffers)
    assert np.array_equal(got, expected)
    rows, cols = np.flatnonzero(expected.any(axis=1)), np.flatnonzero(expected.any(axis=0))
    assert reply["rect"] == [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]  # the mask's bounding box
    assert ((got[60:140, 80:180]).mean()) > 0.95
    assert reply["ms"] > 0

    # A correction: "not the object" on the square's left part drops the piece it falls on.
    w._on_custom(
        w, {"type": "prompt", "id": 8, "key": key, "box": box, "points": [[90, 100]], "labels": [0]}, []
    )
    _, (reply, buffers) = rec.wait_for("prompt-mask", 2)
    assert reply["id"] == 8
    assert np.array_equal(unpack(reply, buffers), GrabCut()(image[1], [[90, 100]], [0], box))


def test_refining_strokes_go_to_grabcut_s_mask_mode_or_as_clicks_to_other_models(open_widget, image) -> None:
    w, rec, key = open_widget()
    box = [60, 40, 200, 160]
    strokes = [{"points": [[90, 70], [90, 130]], "size": 8, "label": 0}]
    w._on_custom(w, {"type": "prompt", "id": 1, "key": key, "box": box, "strokes": strokes}, [])
    [(reply, buffers)] = rec.wait_for("prompt-mask")
    refined = GrabCut().refine(image[1], [], [], box, strokes)
    assert np.array_equal(unpack(reply, buffers), refined)
    assert not refined[70:131, 87:94].any() and refined[60:140, 100:180].mean() > 0.95

    seen: list[tuple[list[list[int]], list[int]]] = []

    def clicks_only(img: np.ndarray, points: Any, labels: Any, box: Any) -> np.ndarray:
        seen.append((np.asarray(points).tolist(), np.asarray(labels).tolist()))
        return np.zeros(img.shape[:2], bool)

    w, rec, key = open_widget(prompt_model=clicks_only)
    message = {"type": "prompt", "id": 2, "key": key, "box": box, "points": [[5, 5]], "labels": [1]}
    w._on_custom(w, {**message, "strokes": strokes}, [])
    [(reply, _)] = rec.wait_for("prompt-mask")
    assert reply["rect"] is None and seen == [([[5, 5], [90, 70], [90, 130]], [1, 0, 0])]
    w._on_custom(w, {**message, "id": 3, "strokes": [{"points": [], "size": 3, "label": 1}]}, [])
    _, (bad, _) = rec.wait_for("prompt-mask", 2)
    assert bad["id"] == 3 and "at least one point" in bad["error"]


def test_extreme_points_are_the_grabcut_prompt_of_their_box(open_widget, image) -> None:
    w, rec, key = open_widget()
    extreme = [[80, 100], [130, 60], [179, 101], [128, 139]]
    w._on_custom(
        w, {"type": "prompt", "id": 1, "key": key, "extreme": extreme, "points": [], "labels": []}, []
    )
    [(reply, buffers)] = rec.wait_for("prompt-mask")
    box, points, labels = extreme_points_prompt(extreme, W, H)
    assert np.array_equal(unpack(reply, buffers), GrabCut()(image[1], points, labels, box))


def test_the_prompt_model_runs_off_the_main_thread_and_its_failures_are_replies(open_widget) -> None:
    threads: list[str] = []

    def model(img: np.ndarray, points: Any, labels: Any, box: Any) -> np.ndarray:
        threads.append(threading.current_thread().name)
        if box is None:
            raise RuntimeError("no box, no mask")
        out = np.zeros(img.shape[:2], bool)
        out[box[1] : box[3], box[0] : box[2]] = True
        return out

    w, rec, key = open_widget(prompt_model=model)
    w._on_custom(w, {"type": "prompt", "id": 1, "key": key, "box": [10, 20, 30, 25]}, [])
    [(reply, buffers)] = rec.wait_for("prompt-mask")
    assert reply["rect"] == [10, 20, 30, 25]
    assert unpack(reply, buffers).sum() == 20 * 5
    assert threads == [threads[0]] and threads[0].startswith("nblabel-seg-tools")
    w._on_custom(w, {"type": "prompt", "id": 2, "key": key, "points": [[5, 5]], "labels": [1]}, [])
    _, (failed, buffers) = rec.wait_for("prompt-mask", 2)
    assert failed["id"] == 2 and failed["rect"] is None and buffers == []
    assert failed["error"] == "the prompt model failed: no box, no mask"
    w._on_custom(w, {"type": "prompt", "id": 3, "key": "no such item", "box": [0, 0, 9, 9]}, [])
    *_, (unknown, _) = rec.wait_for("prompt-mask", 3)
    assert unknown["id"] == 3 and "error" in unknown


def test_a_wrong_sized_mask_from_the_model_is_an_error_reply(open_widget) -> None:
    w, rec, key = open_widget(prompt_model=lambda img, pts, labels, box: np.ones((3, 3), bool))
    w._on_custom(w, {"type": "prompt", "id": 1, "key": key, "box": [0, 0, 9, 9]}, [])
    [(reply, _)] = rec.wait_for("prompt-mask")
    assert "returned a (3, 3) mask for a 300 x 200 image" in reply["error"]


def test_superpixels_arrive_as_a_uint16_label_image(open_widget, image) -> None:
    w, rec, key = open_widget()
    w._on_custom(w, {"type": "superpixels", "key": key}, [])
    [(reply, buffers)] = rec.wait_for("superpixels")
    assert (reply["key"], reply["width"], reply["height"]) == (key, W, H)
    labels = np.frombuffer(zlib.decompress(bytes(buffers[0])), "<u2").reshape(H, W)
    assert np.array_equal(labels, superpixels(image[1]))
    assert reply["count"] == int(labels.max()) + 1
    w._on_custom(w, {"type": "superpixels", "key": "nope"}, [])
    _, (missing, buffers) = rec.wait_for("superpixels", 2)
    assert "error" in missing and buffers == []
