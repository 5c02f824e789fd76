// The magic wand of the segmentation widget: click a pixel, and the 4-connected region of pixels
// whose colour is within `tolerance` of it (largest channel difference) takes the current class.
// It runs in the browser on the image's decoded pixels (the same bitmap lib/pixels.js decoded for
// the screen, possibly smaller than the original): the region is found on those pixels, and each
// original pixel takes the class when the decoded pixel it shows as does, so the mask stays one
// class per original pixel. One undo step (lib/mask.js). The pure parts are tested with `node --test`.

export const TOLERANCES = [4, 8, 12, 16, 24, 32, 48, 64, 96];

/**
 * The wand's region in an RGBA image `rgba` of `width` x `height` from pixel (x, y):
 * `{region, rect}`, a Uint8Array with 1 for the pixels of the region and the region's bounding
 * rectangle {x0, y0, x1, y1} (null when empty).
 */
export function wandRegion(rgba, width, height, x, y, tolerance) {
  const region = new Uint8Array(width * height);
  let rect = null;
  if (x < 0 || y < 0 || x >= width || y >= height) return { region, rect };
  const s = 4 * (y * width + x);
  const r0 = rgba[s];
  const g0 = rgba[s + 1];
  const b0 = rgba[s + 2];
  const near = (i) => {
    const o = 4 * i;
    return Math.abs(rgba[o] - r0) <= tolerance && Math.abs(rgba[o + 1] - g0) <= tolerance && Math.abs(rgba[o + 2] - b0) <= tolerance;
  };
  const stack = [x, y];
  while (stack.length) {
    const sy = stack.pop();
    const sx = stack.pop();
    const row = sy * width;
    if (region[row + sx] || !near(row + sx)) continue;
    let a = sx;
    while (a > 0 && !region[row + a - 1] && near(row + a - 1)) a -= 1;
    let b = sx + 1;
    while (b < width && !region[row + b] && near(row + b)) b += 1;
    region.fill(1, row + a, row + b);
    if (!rect) rect = { x0: a, y0: sy, x1: b, y1: sy + 1 };
    else {
      rect.x0 = Math.min(rect.x0, a);
      rect.x1 = Math.max(rect.x1, b);
      rect.y0 = Math.min(rect.y0, sy);
      rect.y1 = Math.max(rect.y1, sy + 1);
    }
    for (const ny of [sy - 1, sy + 1]) {
      if (ny < 0 || ny >= height) continue;
      const nrow = ny * width;
      let inRun = false;
      for (let i = a; i < b; i += 1) {
        const hit = !region[nrow + i] && near(nrow + i);
        if (hit && !inRun) stack.push(i, ny);
        inRun = hit;
      }
    }
  }
  return { region, rect };
}

/**
 * Paint on `editor` (original size) the original pixels whose decoded pixel is in `region`
 * (`rw` x `rh`, within its bounding rectangle `rect`): original pixel (X, Y) shows decoded pixel
 * (floor(X * rw / W), floor(Y * rh / H)). Only the original pixels showing `rect` are visited.
 * Returns the pixels painted.
 */
export function paintRegion(editor, region, rw, rh, rect, value) {
  if (!rect) return 0;
  const { width, height } = editor;
  // The original pixels showing decoded columns x0..x1 and rows y0..y1: from ceil(x0 * W / rw).
  const X0 = Math.ceil((rect.x0 * width) / rw);
  const X1 = Math.min(width, Math.ceil((rect.x1 * width) / rw));
  const Y0 = Math.ceil((rect.y0 * height) / rh);
  const Y1 = Math.min(height, Math.ceil((rect.y1 * height) / rh));
  const columns = new Int32Array(X1 - X0);
  for (let X = X0; X < X1; X += 1) columns[X - X0] = Math.floor((X * rw) / width);
  let painted = 0;
  for (let Y = Y0; Y < Y1; Y += 1) {
    const row = Math.floor((Y * rh) / height) * rw;
    let X = X0;
    while (X < X1) {
      if (!region[row + columns[X - X0]]) {
        X += 1;
        continue;
      }
      let end = X + 1;
      while (end < X1 && region[row + columns[end - X0]]) end += 1;
      editor.span(Y, X, end, value);
      painted += end - X;
      X = end;
    }
  }
  return painted;
}

/** The RGBA bytes of a decoded image (an ImageBitmap), read once per image by the widget. */
export function rgbaOf(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
}
