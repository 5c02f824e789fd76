// A zoomable, pannable image stage that any drawing tool (boxes, masks, overlays) sits on.
//
// `Viewport` is the pure geometry: where the original image lies on the screen, and the
// transforms between screen (CSS pixels of the stage) and original image pixels. It has no DOM,
// so it is tested with `node --test`. `Stage` is the DOM half: canvases (the image, a sharper
// crop of it, and the marks the tool draws), a transparent overlay on top that takes the pointer
// and shows the tool's cursor, a zoom indicator, wheel and key zoom around the pointer, pan with
// space-drag or the middle button, `f` to fit. Tools only ever see original image pixels.
//
// The image and the crop are drawn into their canvases once, and zoom and pan only move and scale
// those canvases (a CSS transform the compositor applies): a changed canvas costs the browser in
// proportion to its area at every frame it changes (without a GPU, several milliseconds for a
// stage-sized one), so the image canvas holds no more pixels than the fitted view shows until the
// zoom needs the preview's own. For the same reason the marks canvas, which the tool repaints
// whole at every change (a new image's boxes), covers only the image's rectangle on the stage and
// a margin around it (`Viewport.marksRect`), not the whole stage: what a tool draws further out
// (a crosshair's ends over an empty letterbox) is cut there.
//
// Large images: the stage first draws the downscaled preview the kernel sent, then, when the
// zoom shows more screen pixels than the preview has, asks for a sharper crop of the visible
// region (`onDetail`) and draws it over the preview once it arrives. The root element says what is
// shown (`data-preview`: the preview's pixel size; `data-detail`: the crop drawn, its original
// rectangle and pixel size), so a test can tell the sharper view was drawn.
//
// A tool whose drawing changes little per frame (a mask) paints it with `drawLayer` on a canvas
// of its own between the image and the overlay, which is not cleared each frame: the tool redraws
// only what changed, while the overlay (cursor, handles) is repainted whole.
import { decodeBuffer } from "./channel.js";
import { h, setText } from "./dom.js";

const MAX_ZOOM = 32; // original pixels are at most this many CSS pixels wide
const DETAIL_MARGIN = 1.25; // ask for detail when the preview is this much coarser than the screen
const DETAIL_DELAY_MS = 120; // wait for wheel/pan to settle before asking for detail
const WHEEL_STEP = 1.0015; // zoom factor per wheel delta pixel
// CSS pixels the marks canvas reaches past the image: a box's name tag (14 px above the box) and
// its resize handles (4 px past its edges) stay whole at the image's edges.
export const MARKS_MARGIN = 16;

export class Viewport {
  /**
   * @param {number} imageWidth   original image width (pixels)
   * @param {number} imageHeight  original image height
   * @param {number} viewWidth    stage width (CSS pixels)
   * @param {number} viewHeight   stage height
   */
  constructor(imageWidth, imageHeight, viewWidth, viewHeight) {
    this.imageWidth = Math.max(1, imageWidth);
    this.imageHeight = Math.max(1, imageHeight);
    this.viewWidth = Math.max(1, viewWidth);
    this.viewHeight = Math.max(1, viewHeight);
    this.scale = 1; // CSS pixels per original pixel
    this.x = 0; // screen position of the image's top-left corner
    this.y = 0;
    this.fitted = true;
    this.fit();
  }

  /** The scale at which the whole image fits the stage. */
  get fitScale() {
    return Math.min(this.viewWidth / this.imageWidth, this.viewHeight / this.imageHeight);
  }

  get minScale() {
    return Math.min(this.fitScale * 0.5, 1);
  }

  get maxScale() {
    return Math.max(MAX_ZOOM, this.fitScale);
  }

  /** Show the whole image, centred. */
  fit() {
    this.scale = this.fitScale;
    this.x = (this.viewWidth - this.imageWidth * this.scale) / 2;
    this.y = (this.viewHeight - this.imageHeight * this.scale) / 2;
    this.fitted = true;
  }

  /** The stage changed size: a fitted view stays fitted, otherwise the centre stays put. */
  resize(viewWidth, viewHeight) {
    const centre = this.toImage(this.viewWidth / 2, this.viewHeight / 2);
    this.viewWidth = Math.max(1, viewWidth);
    this.viewHeight = Math.max(1, viewHeight);
    if (this.fitted) {
      this.fit();
      return;
    }
    this.x = this.viewWidth / 2 - centre.x * this.scale;
    this.y = this.viewHeight / 2 - centre.y * this.scale;
    this._constrain();
  }

  /** Multiply the zoom by `factor`, keeping the image point under screen (sx, sy) in place. */
  zoomAt(factor, sx, sy) {
    const scale = Math.min(this.maxScale, Math.max(this.minScale, this.scale * factor));
    if (scale === this.scale) return false;
    const point = this.toImage(sx, sy);
    this.scale = scale;
    this.x = sx - point.x * scale;
    this.y = sy - point.y * scale;
    this.fitted = false;
    this._constrain();
    return true;
  }

  /** Zoom to an absolute scale around the stage centre. */
  zoomTo(scale) {
    return this.zoomAt(scale / this.scale, this.viewWidth / 2, this.viewHeight / 2);
  }

  /** Move the image by (dx, dy) CSS pixels. */
  panBy(dx, dy) {
    const before = [this.x, this.y];
    this.x += dx;
    this.y += dy;
    this._constrain();
    if (this.x === before[0] && this.y === before[1]) return false;
    this.fitted = false;
    return true;
  }

  // Keep the image on the stage: a larger-than-stage image cannot be pulled away from an edge,
  // a smaller one can move around inside the stage but not leave it.
  _constrain() {
    const w = this.imageWidth * this.scale;
    const hgt = this.imageHeight * this.scale;
    this.x = clamp(this.x, Math.min(0, this.viewWidth - w), Math.max(0, this.viewWidth - w));
    this.y = clamp(this.y, Math.min(0, this.viewHeight - hgt), Math.max(0, this.viewHeight - hgt));
  }

  /** Screen (CSS pixels, stage-relative) to original image pixels (fractional, unclamped). */
  toImage(sx, sy) {
    return { x: (sx - this.x) / this.scale, y: (sy - this.y) / this.scale };
  }

  /** Original image pixels to screen. */
  toScreen(ix, iy) {
    return { x: ix * this.scale + this.x, y: iy * this.scale + this.y };
  }

  /** A point clamped to the image, in original pixels. */
  clampToImage(p) {
    return { x: clamp(p.x, 0, this.imageWidth), y: clamp(p.y, 0, this.imageHeight) };
  }

  /** The part of the image on screen, in original pixels (integers, inside the image). */
  visibleRect() {
    const a = this.clampToImage(this.toImage(0, 0));
    const b = this.clampToImage(this.toImage(this.viewWidth, this.viewHeight));
    const left = Math.floor(a.x);
    const top = Math.floor(a.y);
    return { left, top, width: Math.ceil(b.x) - left, height: Math.ceil(b.y) - top };
  }

  /**
   * The image's rectangle on the stage grown by `margin` CSS pixels on every side and cut to the
   * stage, in whole CSS pixels: where the marks canvas lies.
   */
  marksRect(margin = MARKS_MARGIN) {
    const a = this.toScreen(0, 0);
    const b = this.toScreen(this.imageWidth, this.imageHeight);
    const left = Math.max(0, Math.floor(a.x - margin));
    const top = Math.max(0, Math.floor(a.y - margin));
    const right = Math.min(Math.ceil(this.viewWidth), Math.ceil(b.x + margin));
    const bottom = Math.min(Math.ceil(this.viewHeight), Math.ceil(b.y + margin));
    return { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
  }

  /** Zoom in percent of original pixels (100: one image pixel per CSS pixel). */
  get percent() {
    return Math.round(this.scale * 100);
  }

  /**
   * True when a preview `previewWidth` pixels wide is visibly coarser than the screen at this
   * zoom (with `dpr` device pixels per CSS pixel), so a sharper crop is worth fetching.
   */
  wantsDetail(previewWidth, dpr = 1) {
    const screenPerImage = this.scale * dpr;
    const previewPerImage = previewWidth / this.imageWidth;
    return previewPerImage < 1 && screenPerImage > previewPerImage * DETAIL_MARGIN;
  }

  /** The size (device pixels) to fetch a crop `rect` at: the screen's, never above original. */
  detailSize(rect, dpr = 1) {
    const f = Math.min(1, this.scale * dpr);
    return { width: Math.max(1, Math.round(rect.width * f)), height: Math.max(1, Math.round(rect.height * f)) };
  }
}

export function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The DOM stage. A tool is an object with any of:
 *   cursor: CSS cursor over the image;
 *   down(point, event) -> true when the tool takes the drag; move(point, event); up(point, event);
 *   draw(ctx, stage): paint the marks (ctx is in CSS pixels of the stage; use stage.viewport;
 *   only what lies within `MARKS_MARGIN` of the image shows).
 *   drawLayer(ctx, stage): keep the layer canvas under the marks up to date (ctx untransformed,
 *   device pixels; the canvas is not cleared between frames, nor when the view moves).
 * A tool sets its cursor on `stage.overlay`, the element that takes the pointer.
 * `point` is in original image pixels (fractional, not clamped).
 */
export class Stage {
  /**
   * @param {{onDetail?: (rect, size) => void, onChange?: () => void, maxHeight?: () => number}} options
   *   onDetail: asked for a sharper crop of `rect` (original pixels) at `size` (output pixels);
   *   onChange: the view moved (zoom or pan).
   */
  constructor({ onDetail = null, onChange = null, maxHeight = null } = {}) {
    this.onDetail = onDetail;
    this.onChange = onChange;
    this.maxHeight = maxHeight ?? (() => Math.max(240, (globalThis.innerHeight || 800) * 0.6));
    this.tool = null;
    this.viewport = null;
    this.image = null; // {bitmap, width, height}: preview bitmap + original size
    this.detail = null; // {bitmap, rect}
    this._drawnImage = null; // the bitmap the image canvas holds, and the crop's
    this._drawnDetail = null;
    this.layerCanvas = null; // made on the first paint of a tool with drawLayer
    this._size = { width: 1, height: 1 }; // the stage's canvas size, device pixels
    this.pointer = null; // last pointer position over the stage, original pixels
    this.spaceDown = false;
    this.panning = null; // {x, y, id} during a pan drag
    this.dragging = false; // the tool holds a drag
    this._frame = 0;
    this._imageDirty = true;
    this._detailTimer = 0;
    this._detailAsked = "";

    this.imageCanvas = h("canvas", { class: "nbl-vp-image nbl-vp-placed", "data-testid": "nbl-vp-image" });
    this.detailCanvas = h("canvas", { class: "nbl-vp-detail nbl-vp-placed", "data-testid": "nbl-vp-detail", hidden: true });
    this.marks = h("canvas", { class: "nbl-vp-marks nbl-vp-placed", "data-testid": "nbl-vp-marks" });
    this.overlay = h("div", { class: "nbl-vp-overlay", "data-testid": "nbl-vp-overlay" });
    this.indicator = h("div", { class: "nbl-vp-zoom", "data-testid": "nbl-zoom", "aria-live": "polite" });
    this.el = h("div", { class: "nbl-viewport", "data-testid": "nbl-viewport" }, [
      this.imageCanvas,
      this.detailCanvas,
      this.marks,
      this.overlay,
      this.indicator,
    ]);

    this._onPointerDown = (e) => this._pointerDown(e);
    this._onPointerMove = (e) => this._pointerMove(e);
    this._onPointerUp = (e) => this._pointerUp(e);
    this._onWheel = (e) => this._wheel(e);
    this._onLeave = () => {
      if (!this.dragging) {
        this.pointer = null;
        this.requestDraw();
      }
    };
    this.overlay.addEventListener("pointerdown", this._onPointerDown);
    this.overlay.addEventListener("pointermove", this._onPointerMove);
    this.overlay.addEventListener("pointerup", this._onPointerUp);
    this.overlay.addEventListener("pointercancel", this._onPointerUp);
    this.overlay.addEventListener("pointerleave", this._onLeave);
    this.overlay.addEventListener("wheel", this._onWheel, { passive: false });
    this.overlay.addEventListener("auxclick", (e) => e.preventDefault());
    this._width = 0; // the stage's width (CSS pixels) as last observed; 0 before that
    this._resizeObserver = globalThis.ResizeObserver ? new ResizeObserver((entries) => this._resized(entries)) : null;
    this._resizeObserver?.observe(this.el);
  }

  /** Show an image: `bitmap` is the preview, `width`/`height` the original size. Fits it. */
  setImage(image) {
    this.image = image;
    this.detail?.bitmap?.close?.();
    this.detail = null;
    this.el.dataset.preview = image?.bitmap ? JSON.stringify({ width: image.bitmap.width, height: image.bitmap.height }) : "";
    delete this.el.dataset.detail;
    this._detailAsked = "";
    this.viewport = null;
    this.layout();
  }

  /** A sharper crop arrived: `rect` in original pixels. Ignored if it is not the last one asked. */
  setDetail(rect, bitmap) {
    if (!this.image || rectKey(rect) !== this._detailAsked) {
      bitmap?.close?.();
      return;
    }
    this.detail?.bitmap?.close?.();
    this.detail = { rect, bitmap };
    this._imageDirty = true;
    this._schedule();
  }

  /** Size the stage to its container width and the image's aspect ratio, and redraw. */
  layout() {
    if (!this.image) return;
    // The width the resize observer saw, once it has: reading `clientWidth` after the key handler
    // changed the page would make the browser lay it out there and then, for every new image.
    const width = Math.max(1, this._width || this.el.clientWidth || 800);
    const height = Math.round(
      Math.max(200, Math.min(this.maxHeight(), (width * this.image.height) / this.image.width)),
    );
    if (this.el.style.height !== `${height}px`) this.el.style.height = `${height}px`;
    const dpr = globalThis.devicePixelRatio || 1;
    this._size = { width: Math.round(width * dpr), height: Math.round(height * dpr) };
    if (this.layerCanvas) sizeCanvas(this.layerCanvas, this._size.width, this._size.height);
    if (!this.viewport) this.viewport = new Viewport(this.image.width, this.image.height, width, height);
    else this.viewport.resize(width, height);
    this._changed();
  }

  fit() {
    if (!this.viewport) return;
    this.viewport.fit();
    this._changed();
  }

  zoomBy(factor, sx, sy) {
    if (!this.viewport) return;
    const vp = this.viewport;
    if (vp.zoomAt(factor, sx ?? vp.viewWidth / 2, sy ?? vp.viewHeight / 2)) this._changed();
  }

  /** Screen point of a pointer event, stage-relative CSS pixels. */
  screenPoint(event) {
    const r = this.overlay.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  }

  /** Redraw the overlay (the tool's drawing) at the next frame. */
  requestDraw() {
    this._schedule();
  }

  /** Handle a keydown from the widget root; returns true when the stage used it. */
  handleKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !this.viewport) return false;
    const around = this.pointer ? this.viewport.toScreen(this.pointer.x, this.pointer.y) : {};
    switch (event.key) {
      case "+":
      case "=":
        this.zoomBy(1.25, around.x, around.y);
        return true;
      case "-":
      case "_":
        this.zoomBy(0.8, around.x, around.y);
        return true;
      case "f":
      case "F":
        this.fit();
        return true;
      case " ":
        this.spaceDown = true;
        this.overlay.style.cursor = "grab";
        return true;
      default:
        return false;
    }
  }

  handleKeyUp(event) {
    if (event.key === " ") {
      this.spaceDown = false;
      this._cursor();
      return true;
    }
    return false;
  }

  destroy() {
    cancelAnimationFrame(this._frame);
    clearTimeout(this._detailTimer);
    this._resizeObserver?.disconnect();
    this.detail?.bitmap?.close?.();
  }

  // -- internals ------------------------------------------------------------------------------
  // The stage's width changed (a hidden stage, 0 wide, keeps the width it had).
  _resized(entries) {
    const width = Math.round(entries[entries.length - 1].contentRect.width);
    if (width <= 0 || width === this._width) return;
    this._width = width;
    this.layout();
  }

  _changed() {
    this._imageDirty = true;
    this._schedule();
    this._askDetail();
    this.onChange?.();
  }

  _schedule() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this.paint();
    });
  }

  /** Paint now (normally called from an animation frame). */
  paint() {
    if (!this.viewport || !this.image) return;
    const dpr = globalThis.devicePixelRatio || 1;
    const vp = this.viewport;
    if (this._imageDirty) {
      this._imageDirty = false;
      this._paintImage(vp, dpr);
      this._paintDetail(vp);
      setText(this.indicator, `${vp.percent}%`);
      this.indicator.title = "Zoom: wheel or +/- · pan: space-drag or middle button · f fits";
    }
    if (this.tool?.drawLayer) this.tool.drawLayer(this._layer().getContext("2d"), this);
    const ctx = this._marksContext(vp, dpr);
    this.tool?.draw?.(ctx, this);
  }

  // The marks canvas cleared, over the image's rectangle (and margin) at view `vp`, its context
  // in the stage's CSS pixels like a stage-sized canvas's.
  _marksContext(vp, dpr) {
    const canvas = this.marks;
    const r = vp.marksRect();
    sizeCanvas(canvas, Math.round(r.width * dpr), Math.round(r.height * dpr));
    const shown = { width: `${r.width}px`, height: `${r.height}px`, transform: `translate(${r.left}px, ${r.top}px)` };
    for (const [key, value] of Object.entries(shown)) if (canvas.style[key] !== value) canvas.style[key] = value;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, -r.left * dpr, -r.top * dpr);
    return ctx;
  }

  // The preview on the image canvas: drawn for a new image at the fitted view's resolution (at
  // most the preview's), redrawn with every preview pixel the first time a zoom shows more.
  _paintImage(vp, dpr) {
    const canvas = this.imageCanvas;
    const { bitmap, width, height } = this.image;
    canvas.hidden = !bitmap;
    if (!bitmap) return;
    const w = previewWidth(this.image, vp, dpr);
    if (this._drawnImage !== bitmap || w > canvas.width) {
      this._drawnImage = bitmap;
      drawInto(canvas, bitmap, w);
    }
    place(canvas, vp, { left: 0, top: 0, width, height });
  }

  // The sharper crop on its own canvas over the preview, drawn once, kept where it belongs.
  _paintDetail(vp) {
    const canvas = this.detailCanvas;
    canvas.hidden = !this.detail;
    if (!this.detail) return;
    const { rect, bitmap } = this.detail;
    if (this._drawnDetail !== bitmap) {
      this._drawnDetail = bitmap;
      drawInto(canvas, bitmap, bitmap.width);
      this.el.dataset.detail = JSON.stringify({ rect, width: bitmap.width, height: bitmap.height });
    }
    place(canvas, vp, rect);
  }

  // The tool's own layer canvas, as large as the stage; it keeps its pixels between frames.
  _layer() {
    if (!this.layerCanvas) {
      this.layerCanvas = h("canvas", { class: "nbl-vp-layer", "data-testid": "nbl-vp-layer" });
      sizeCanvas(this.layerCanvas, this._size.width, this._size.height);
      this.el.insertBefore(this.layerCanvas, this.marks);
    }
    return this.layerCanvas;
  }

  _askDetail() {
    clearTimeout(this._detailTimer);
    if (!this.onDetail || !this.image?.bitmap) return;
    this._detailTimer = setTimeout(() => {
      const vp = this.viewport;
      const dpr = globalThis.devicePixelRatio || 1;
      if (!vp || !vp.wantsDetail(this.image.bitmap.width, dpr)) {
        return;
      }
      const rect = vp.visibleRect();
      if (rect.width < 1 || rect.height < 1) return;
      const key = rectKey(rect);
      if (key === this._detailAsked) return;
      this._detailAsked = key;
      this.onDetail(rect, vp.detailSize(rect, dpr));
    }, DETAIL_DELAY_MS);
  }

  _cursor() {
    this.overlay.style.cursor = this.panning ? "grabbing" : this.spaceDown ? "grab" : this.tool?.cursor ?? "default";
  }

  _imagePoint(event) {
    const s = this.screenPoint(event);
    return this.viewport.toImage(s.x, s.y);
  }

  _pointerDown(event) {
    if (!this.viewport) return;
    if (event.button === 1 || (event.button === 0 && this.spaceDown)) {
      event.preventDefault();
      this.panning = { x: event.clientX, y: event.clientY, id: event.pointerId };
      this.overlay.setPointerCapture?.(event.pointerId);
      this._cursor();
      return;
    }
    if (event.button !== 0) return;
    const point = this._imagePoint(event);
    this.pointer = point;
    if (this.tool?.down?.(point, event)) {
      this.dragging = true;
      this.overlay.setPointerCapture?.(event.pointerId);
      event.preventDefault();
    }
    this.requestDraw();
  }

  _pointerMove(event) {
    if (!this.viewport) return;
    if (this.panning) {
      const dx = event.clientX - this.panning.x;
      const dy = event.clientY - this.panning.y;
      this.panning.x = event.clientX;
      this.panning.y = event.clientY;
      if (this.viewport.panBy(dx, dy)) this._changed();
      return;
    }
    const point = this._imagePoint(event);
    this.pointer = point;
    if (this.dragging) this.tool?.move?.(point, event);
    else this.tool?.hover?.(point, event);
    this.requestDraw();
  }

  _pointerUp(event) {
    if (this.panning) {
      this.panning = null;
      this.overlay.releasePointerCapture?.(event.pointerId);
      this._cursor();
      return;
    }
    if (!this.dragging) return;
    this.dragging = false;
    this.overlay.releasePointerCapture?.(event.pointerId);
    this.tool?.up?.(this._imagePoint(event), event);
    this.requestDraw();
  }

  _wheel(event) {
    if (!this.viewport) return;
    // The wheel zooms once the widget has focus (or with Ctrl); otherwise it scrolls the notebook.
    const root = this.el.closest("[tabindex]");
    const focused = root && (root === document.activeElement || root.contains(document.activeElement));
    if (!focused && !event.ctrlKey) return;
    event.preventDefault();
    const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
    const s = this.screenPoint(event);
    this.zoomBy(WHEEL_STEP ** -clamp(delta, -300, 300), s.x, s.y);
  }
}

/**
 * The width (pixels) the image canvas needs to show `image`'s preview at view `vp`: the fitted
 * view's resolution (at most the preview's), or every preview pixel once the zoom shows more.
 */
export function previewWidth({ bitmap, width }, vp, dpr = 1) {
  const fitted = Math.min(bitmap.width, Math.round(width * vp.fitScale * dpr));
  return Math.round(width * vp.scale * dpr) > fitted ? bitmap.width : fitted;
}

/** Give `canvas` `width` x `height` pixels, touching it only if that changes (a resize clears it). */
function sizeCanvas(canvas, width, height) {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
}

/** Size `canvas` `width` pixels wide (the bitmap's aspect) and draw `bitmap` over all of it. */
function drawInto(canvas, bitmap, width) {
  const height = Math.max(1, Math.round((width * bitmap.height) / bitmap.width));
  canvas.width = width; // also clears it
  canvas.height = height;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
}

/**
 * Show a placed canvas (CSS pixels as large as its own) over `rect` of the image (original
 * pixels) at view `vp`: a transform only, which the compositor applies without repainting.
 */
function place(canvas, vp, rect) {
  const p = vp.toScreen(rect.left, rect.top);
  const sx = (rect.width * vp.scale) / canvas.width;
  const sy = (rect.height * vp.scale) / canvas.height;
  canvas.style.transform = `matrix(${sx}, 0, 0, ${sy}, ${p.x}, ${p.y})`;
  canvas.style.imageRendering = vp.scale < 4 ? "" : "pixelated"; // past 400% show the pixels as they are
}

function rectKey(rect) {
  return `${rect.left},${rect.top},${rect.width},${rect.height}`;
}

/**
 * The stage of a widget that shows one item at a time: asks the kernel over `channel` for
 * sharper crops of the item `shownKey()` names, and mirrors the view on the widget root's
 * `data-view` and `data-zoom` (what the browser tests read). Its `receiveDetail(msg, buffers)`
 * is the channel's `other` hook: it shows the crops that arrive.
 */
export function itemStage(channel, shownKey) {
  const stage = new Stage({
    onDetail: (rect, size) => {
      const key = shownKey();
      if (key) channel.trySend({ type: "detail", key, rect, width: size.width, height: size.height });
    },
    onChange: () => {
      const root = stage.el.closest(".nblabel");
      if (!root) return;
      const vp = stage.viewport;
      root.dataset.view = JSON.stringify({ scale: vp.scale, x: vp.x, y: vp.y });
      root.dataset.zoom = String(vp.percent);
    },
  });
  stage.receiveDetail = async (msg, buffers) => {
    if (msg.type !== "detail" || msg.key !== shownKey()) return;
    try {
      stage.setDetail(msg.rect, await decodeBuffer(buffers[0], msg.mime));
    } catch (err) {
      console.warn("nblabel: could not decode a sharper view", err);
    }
  };
  return stage;
}
