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
