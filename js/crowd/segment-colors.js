// Colours of the segmentation elements (no DOM), tested with node --test.

/**
 * GT's default label colours: matplotlib's tab10, in order (gt-formats.md §2.7: "Bird" #2ca02c is
 * the third). The kernel's copy is nblabel.masks.TAB10; crowd elements have no kernel to ask.
 */
export const SEGMENT_COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

/** The colour of instance number `n` (from 0): hues a golden angle apart, never white. */
export function instanceColor(n) {
  const hue = (n * 137.508) % 360;
  const light = n % 2 ? 0.42 : 0.55;
  const a = 0.75 * Math.min(light, 1 - light);
  const channel = (k) => {
    const t = (k + hue / 30) % 12;
    const v = light - a * Math.max(-1, Math.min(t - 3, 9 - t, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}

/**
 * The mask GT's `initial-value` overlay stands for: each pixel's value is 1 + the index of its
 * colour in `colors` ("#rrggbb", exact RGB), 0 (BACKGROUND) for white, transparent or any colour
 * not listed. `rgba` holds the overlay's pixels at the image's natural size (ImageData.data).
 */
export function maskFromColors(rgba, colors) {
  const value = new Map();
  colors.forEach((c, i) => {
    if (typeof c === "string" && /^#[0-9a-f]{6}$/i.test(c) && !value.has(c.toLowerCase())) value.set(c.toLowerCase(), i + 1);
  });
  const byRgb = new Map([...value].map(([c, v]) => [parseInt(c.slice(1), 16), v]));
  const out = new Uint8Array(rgba.length / 4);
  for (let i = 0; i < out.length; i += 1) {
    const o = i * 4;
    if (rgba[o + 3] === 0) continue;
    out[i] = byRgb.get((rgba[o] << 16) | (rgba[o + 1] << 8) | rgba[o + 2]) ?? 0;
  }
  return out;
}
