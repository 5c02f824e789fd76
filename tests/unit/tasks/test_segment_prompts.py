"""Click-to-mask geometry: GrabCut prompts, extreme points, superpixels and the SAM ONNX adapter."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from nblabel import SemanticSegmentation
from nblabel.tasks.segment_prompts import GrabCut, SamOnnx, extreme_points_prompt, superpixels

W, H = 320, 240


def scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy green field with two red discs; returns the image and each disc's mask."""
    rng = np.random.default_rng(seed)
    image = np.empty((H, W, 3), np.uint8)
    image[:] = (40, 140, 50)
    yy, xx = np.mgrid[:H, :W]
    left = (xx - 100) ** 2 + (yy - 120) ** 2 <= 45**2
    right = (xx - 215) ** 2 + (yy - 120) ** 2 <= 35**2
    image[left | right] = (200, 40, 40)
    noise = rng.integers(-15, 16, image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8), left, right


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_grabcut_box_gives_the_object_and_nothing_outside_the_box() -> None:
    image, left, _ = scene()
    box = (45, 65, 156, 176)
    mask = GrabCut()(image, [], [], box)
    assert mask.shape == (H, W) and mask.dtype == bool
    assert iou(mask, left) > 0.9
    outside = np.ones_like(mask)
    outside[65:176, 45:156] = False
    assert not (mask & outside).any()


def test_grabcut_is_deterministic_in_any_thread() -> None:
    image, _, _ = scene()
    model = GrabCut()
    first = model(image, [], [], (45, 65, 156, 176))
    got: list[np.ndarray] = []
    t = threading.Thread(target=lambda: got.append(model(image, [], [], (45, 65, 156, 176))))
    t.start()
    t.join()
    assert np.array_equal(first, got[0])
    assert np.array_equal(first, model(image, [], [], (45, 65, 156, 176)))


def test_grabcut_corrective_clicks_add_and_remove() -> None:
    image, left, right = scene()
    both = (40, 60, 260, 180)
    mask = GrabCut()(image, [], [], both)
    assert iou(mask, left | right) > 0.85
    # "Not the object" on the right disc: GrabCut drops it, keeping the left one.
    fixed = GrabCut()(image, [[215, 120]], [0], both)
    assert (fixed & right).sum() < 0.2 * right.sum()
    assert iou(fixed, left) > 0.85
    # A click on the object with no box: the box comes from the click.
    clicked = GrabCut()(image, [[100, 120], [90, 100]], [1, 1], None)
    assert (clicked & left).sum() > 0.5 * left.sum()
    assert (clicked & right).sum() == 0


def test_grabcut_strokes_refine_the_previous_result_in_mask_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    image, left, right = scene()
    both = (40, 60, 260, 180)
    calls: list[tuple[int, np.ndarray, np.ndarray]] = []
    grabcut = cv2.grabCut

    def recording(img, mask, rect, bgd, fgd, iterations, mode):  # type: ignore[no-untyped-def]
        before = mask.copy()
        out = grabcut(img, mask, rect, bgd, fgd, iterations, mode)
        calls.append((mode, before, mask.copy()))
        return out

    monkeypatch.setattr(cv2, "grabCut", recording)
    # Work at full size (no scaling), so the strokes' pixels are the working pixels.
    model = GrabCut(work_size=1000)
    first = model(image, [], [], both)
    assert iou(first, left | right) > 0.85 and len(calls) == 1
    # A "not the object" stroke across the right disc, a "the object" stroke on the field.
    off = {"points": [[190, 120], [240, 120]], "size": 9, "label": 0}
    on = {"points": [[120, 70], [150, 70]], "size": 5, "label": 1}
    refined = model.refine(image, [], [], both, [off, on])
    assert [mode for mode, _, _ in calls[1:]] == [cv2.GC_INIT_WITH_MASK] * 2
    (_, _, previous), (_, init, _) = calls[1], calls[2]
    # The second run starts from the first one's state, with the strokes' pixels sure.
    drawn = np.zeros(previous.shape, np.uint8)
    ox, oy = 40 - 22, 60 - 22  # GrabCut's region: the box and a tenth of its longer side around
    cv2.line(drawn, (190 - ox, 120 - oy), (240 - ox, 120 - oy), 1, 9)
    assert (init[drawn == 1] == cv2.GC_BGD).all()
    cv2.line(drawn, (120 - ox, 70 - oy), (150 - ox, 70 - oy), 2, 5)
    assert (init[drawn == 2] == cv2.GC_FGD).all()
    assert np.array_equal(init[drawn == 0], previous[drawn == 0])
    # Sure pixels stay as the strokes say; the rest is GrabCut's answer again.
    assert not refined[116:125, 190:241].any() and refined[68:73, 120:151].all()
    assert np.array_equal(first, model(image, [], [], both))  # strokes change only the refined call
    with pytest.raises(ValueError, match="label"):
        model.refine(image, [], [], both, [{"points": [[1, 1]], "size": 3, "label": 2}])
    with pytest.raises(ValueError, match="at least one point"):
        model.refine(image, [], [], both, [{"points": [], "size": 3, "label": 1}])


def test_grabcut_refuses_prompts_it_cannot_use() -> None:
    image, _, _ = scene()
    with pytest.raises(ValueError, match="box or at least one point"):
        GrabCut()(image, [[5, 5]], [0], None)
    with pytest.raises(ValueError, match="2 x 2"):
        GrabCut()(image, [], [], (10, 10, 11, 30))
    with pytest.raises(ValueError, match="point labels"):
        GrabCut()(image, [[5, 5]], [1, 0], (0, 0, 50, 50))
    with pytest.raises(ValueError, match="is 1"):
        GrabCut()(image, [[5, 5]], [2], (0, 0, 50, 50))


def test_grabcut_on_the_whole_image_keeps_a_background() -> None:
    image, left, right = scene()
    mask = GrabCut()(image, [], [], (0, 0, W, H))
    assert iou(mask, left | right) > 0.8


def test_extreme_points_give_a_padded_box_and_sure_points() -> None:
    points = [[55, 120], [100, 75], [145, 121], [99, 165]]
    box, pts, labels = extreme_points_prompt(points, W, H)
    assert box == (55 - 5, 75 - 5, 146 + 5, 166 + 5)  # 5% of 91 pixels, rounded
    assert pts.tolist() == points and labels.tolist() == [1, 1, 1, 1]
    assert extreme_points_prompt([[0, 0], [10, 0], [10, 10], [0, 10]], 12, 12)[0] == (0, 0, 12, 12)
    with pytest.raises(ValueError, match="4 points"):
        extreme_points_prompt(points[:3], W, H)
    image, left, _ = scene()
    mask = GrabCut()(image, pts, labels, box)
    assert iou(mask, left) > 0.9


def test_superpixels_are_dense_labels_that_follow_edges() -> None:
    image, left, _ = scene()
    labels = superpixels(image, n_segments=200)
    assert labels.shape == (H, W) and labels.dtype == np.uint16
    assert set(np.unique(labels)) == set(range(int(labels.max()) + 1))
    assert 50 < labels.max() + 1 < 400
    # Superpixels fall on one side of the disc's edge: few straddle it.
    inside = np.bincount(labels[left], minlength=labels.max() + 1)
    total = np.bincount(labels.ravel())
    share = inside[total > 0] / total[total > 0]
    assert ((share > 0.2) & (share < 0.8)).sum() <= 0.05 * len(share)


def test_superpixels_of_a_large_image_are_computed_smaller_and_cover_every_pixel() -> None:
    image = np.repeat(np.repeat(scene()[0], 2, axis=0), 2, axis=1)  # 640 x 480
    labels = superpixels(image, n_segments=100, work_size=320)
    assert labels.shape == (2 * H, 2 * W)
    assert set(np.unique(labels)) == set(range(int(labels.max()) + 1))


def test_the_task_takes_any_prompt_model_and_defaults_to_grabcut() -> None:
    assert isinstance(SemanticSegmentation(["a"]).prompt_model, GrabCut)

    def mine(image: np.ndarray, points: Any, labels: Any, box: Any) -> np.ndarray:
        return np.zeros(image.shape[:2], bool)

    task = SemanticSegmentation(["a"], prompt_model=mine)
    assert task.prompt_model is mine
    assert "prompt_model=" in repr(task)
    with pytest.raises(TypeError, match="callable"):
        SemanticSegmentation(["a"], prompt_model="sam.onnx")


# -- the SAM ONNX adapter, on small ONNX files with SAM's inputs and outputs ----------------------


def build_sam_like(folder: Path) -> tuple[Path, Path]:
    """An encoder and a decoder with the names and shapes of SAM's ONNX export.

    The encoder turns the (1, 3, 1024, 1024) normalised image into a (1, 256, 64, 64) embedding
    (16 x 16 average pooling, then every channel the red channel's mean); the decoder's mask is
    the embedding's first channel, cropped to the image and resized to ``orig_im_size``: red places
    are the object. The
    prompt inputs are read (summed into ``iou_predictions``) so they must have SAM's shapes.
    """
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 1024, 1024])
    emb = helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 256, 64, 64])
    weights = np.zeros((256, 3, 1, 1), np.float32)
    weights[:, 0] = 1.0
    weights[:, 1] = -1.0
    encoder = helper.make_graph(
        [
            helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[16, 16], strides=[16, 16]),
            helper.make_node("Conv", ["pooled", "w"], ["image_embeddings"]),
        ],
        "encoder",
        [image],
        [emb],
        [numpy_helper.from_array(weights, "w")],
    )
    enc_path = folder / "encoder.onnx"
    onnx.save(helper.make_model(encoder, opset_imports=[helper.make_opsetid("", 17)]), enc_path)

    f = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("image_embeddings", f, [1, 256, 64, 64]),
        helper.make_tensor_value_info("point_coords", f, [1, "n", 2]),
        helper.make_tensor_value_info("point_labels", f, [1, "n"]),
        helper.make_tensor_value_info("mask_input", f, [1, 1, 256, 256]),
        helper.make_tensor_value_info("has_mask_input", f, [1]),
        helper.make_tensor_value_info("orig_im_size", f, [2]),
    ]
    outputs = [
        helper.make_tensor_value_info("masks", f, [1, 1, "h", "w"]),
        helper.make_tensor_value_info("iou_predictions", f, [1, 1]),
        helper.make_tensor_value_info("low_res_masks", f, [1, 1, 256, 256]),
    ]
    const = numpy_helper.from_array
    nodes = [
        helper.make_node("Slice", ["image_embeddings", "s0", "s1", "ax"], ["channel"]),
        # As SAM's decoder does, crop the padding (the image fills the top left) before resizing.
        helper.make_node("ReduceMax", ["orig_im_size"], ["longest"], keepdims=1),
        helper.make_node("Div", ["orig_im_size", "longest"], ["share"]),
        helper.make_node("Mul", ["share", "grid"], ["cells"]),
        helper.make_node("Ceil", ["cells"], ["cells_up"]),
        helper.make_node("Cast", ["cells_up"], ["ends"], to=TensorProto.INT64),
        helper.make_node("Slice", ["channel", "zeros2", "ends", "axes23"], ["first"]),
        helper.make_node("Cast", ["orig_im_size"], ["size_hw"], to=TensorProto.INT64),
        helper.make_node("Concat", ["ones", "size_hw"], ["sizes"], axis=0),
        helper.make_node("Resize", ["first", "", "", "sizes"], ["masks"], mode="nearest"),
        helper.make_node("Resize", ["first", "", "", "low"], ["low_res_masks"], mode="nearest"),
        helper.make_node("ReduceSum", ["point_coords"], ["c"], keepdims=0),
        helper.make_node("ReduceSum", ["point_labels"], ["l"], keepdims=0),
        helper.make_node("ReduceSum", ["mask_input"], ["m"], keepdims=0),
        helper.make_node("Sum", ["c", "l", "m", "has_mask_input"], ["total"]),
        helper.make_node("Reshape", ["total", "shape11"], ["iou_predictions"]),
    ]
    inits = [
        const(np.array([0], np.int64), "s0"),
        const(np.array([1], np.int64), "s1"),
        const(np.array([1], np.int64), "ax"),
        const(np.array([1, 1], np.int64), "ones"),
        const(np.array([64.0], np.float32), "grid"),
        const(np.array([0, 0], np.int64), "zeros2"),
        const(np.array([2, 3], np.int64), "axes23"),
        const(np.array([1, 1, 256, 256], np.int64), "low"),
        const(np.array([1, 1], np.int64), "shape11"),
    ]
    decoder = helper.make_graph(nodes, "decoder", inputs, outputs, inits)
    dec_path = folder / "decoder.onnx"
    onnx.save(helper.make_model(decoder, opset_imports=[helper.make_opsetid("", 17)]), dec_path)
    return enc_path, dec_path


class Spy:
    """Wraps an onnxruntime session: counts runs and keeps the last feeds."""

    def __init__(self, session: Any) -> None:
        self.session, self.runs, self.feeds = session, 0, None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> Any:
        self.runs += 1
        self.feeds = feeds
        return self.session.run(names, feeds)


def test_sam_onnx_encodes_once_per_image_and_decodes_each_prompt(tmp_path: Path) -> None:
    encoder, decoder = build_sam_like(tmp_path)
    model = SamOnnx(encoder, decoder)
    model._encoder, model._decoder = Spy(model._encoder), Spy(model._decoder)
    assert model.input_size == 1024
    image = np.zeros((512, 1024, 3), np.uint8)
    image[:] = (20, 200, 20)
    image[128:256, 256:512] = (230, 20, 20)  # whole 16-pixel cells at SAM's scale of 1
    mask = model(image, [[300, 200]], [1], None)
    expected = np.zeros((512, 1024), bool)
    expected[128:256, 256:512] = True
    assert mask.shape == (512, 1024) and np.array_equal(mask, expected)
    feeds = model._decoder.feeds
    assert feeds["point_coords"].tolist() == [[[300.5, 200.5], [0.0, 0.0]]]  # SAM's padding point
    assert feeds["point_labels"].tolist() == [[1.0, -1.0]]
    assert feeds["orig_im_size"].tolist() == [512.0, 1024.0]
    assert feeds["mask_input"].shape == (1, 1, 256, 256)

    again = model(image, [[10, 10]], [0], (250, 120, 520, 260))
    assert np.array_equal(again, expected)
    feeds = model._decoder.feeds
    assert feeds["point_coords"].tolist() == [[[10.5, 10.5], [250.0, 120.0], [520.0, 260.0]]]
    assert feeds["point_labels"].tolist() == [[0.0, 2.0, 3.0]]
    assert (model._encoder.runs, model._decoder.runs) == (1, 2)

    small = image[::2, ::2].copy()  # another image: encoded once more, coordinates scaled by 2
    model(small, [[150, 100]], [1], None)
    assert model._decoder.feeds["point_coords"].tolist()[0][0] == [301.0, 201.0]
    assert model._encoder.runs == 2


def test_sam_onnx_works_as_the_task_prompt_model(tmp_path: Path) -> None:
    task = SemanticSegmentation(["building"], prompt_model=SamOnnx(*build_sam_like(tmp_path)))
    assert "SamOnnx(" in repr(task)
    with pytest.raises(ValueError, match="box or at least one point"):
        task.prompt_model(np.zeros((64, 64, 3), np.uint8), [], [], None)
