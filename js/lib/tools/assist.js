// The segmentation widget's assisted tools, wired together: box → mask and extreme points → mask
// (lib/tools/prompt.js, answered by the kernel's prompt model), the superpixel brush
// (lib/tools/superpixel.js, over SLIC labels the kernel computes once per image) and the magic
// wand (lib/tools/wand.js, in the browser on the decoded image). It talks to the kernel through
// the widget's channel (`prompt` → `prompt-mask`, `superpixels` → `superpixels`), keeps what
// arrives per image, and says what it did on the widget's root (`data-prompt`, `data-superpixels`,
// `data-wand`, `data-tool-ms`) for the browser tests and the benchmark.
import { inflate } from "../mask.js";
import { pixelAt } from "./brush.js";
import { PromptTool } from "./prompt.js";
import { SuperpixelBrush, Superpixels } from "./superpixel.js";
import { TOLERANCES, paintRegion, rgbaOf, wandRegion } from "./wand.js";

/** The assisted tools by key, and their buttons' labels and titles. */
export const ASSIST_TOOLS = {
  box: { key: "c", label: "Box → mask c", title: "Drag a box around an object: its mask (c); then click to add, Shift-click to remove, Alt-drag a stroke to refine (Alt+Shift: not the object), Escape for the next object" },
  extreme: { key: "x", label: "Extreme points x", title: "Click the object's 4 extreme points: its mask (x); then click to correct" },
  superpixel: { key: "u", label: "Superpixels u", title: "Paint whole superpixels (u)" },
  wand: { key: "w", label: "Wand w", title: "Fill the clicked colour region (w); [ ] change the tolerance" },
};

/** What the person reads when a prompt finds no object. */
const EMPTY_ANSWER =
  "No object found there: its colours match its surroundings. Click on it to add it, or paint it (superpixels u, brush b).";

export class AssistTools {
  /**
   * @param {object} o
   * @param {import("../channel.js").Channel} o.channel  the widget's channel to the kernel
   * @param {() => HTMLElement} o.root  the widget's root (its data attributes say what the tools did)
   * @param {() => string | undefined} o.key  the key of the image on screen
   * @param {() => object | null} o.item  the item on screen (its `bitmap`)
   * @param {{editor: object | null}} o.mask  the mask of the image on screen
   * @param {(count?: boolean) => void} o.edited  redraw after an edit (or a setting)
   * @param {(text: string) => void} o.flash  tell the person something went wrong
   * @param {() => number} o.size  the brush's diameter, in original pixels: a refining stroke's width
   */
  constructor({ channel, root, key, item, mask, edited, flash, size }) {
    Object.assign(this, { channel, root, key, item, mask, edited, flash, size });
    this.prompt = new PromptTool();
    this.brush = new SuperpixelBrush();
    this.tolerance = 24;
    this.superpixels = new Map(); // key -> Superpixels, for the few images around the cursor
    this.asked = new Set(); // keys whose superpixels were asked for
    this.rgba = null; // {key, data, width, height}: the decoded pixels of the image on screen
    this.request = null; // the last prompt sent (the root's data-prompt shows it with its outcome)
  }

  /** Whether `tool` is one of these. */
  handles(tool) {
    return tool in ASSIST_TOOLS;
  }

  /** Another image came on screen, or the person picked another tool: drop the object in progress. */
  reset(tool) {
    this.prompt.finish();
    this.brush.cancel();
    if (tool === "box" || tool === "extreme") this.prompt.mode = tool;
    if (tool === "superpixel") this.askSuperpixels();
    if (tool === "wand" && this.item()?.bitmap) this.pixels(); // read once, before the first click
    const sp = this.superpixels.get(this.key());
    this.root().dataset.superpixels = sp ? String(sp.count) : this.asked.has(this.key()) ? "loading" : "none";
    this.root().dataset.wandTolerance = String(this.tolerance);
  }

  /** Ask the kernel for the superpixels of the image on screen, once. */
  askSuperpixels() {
    const key = this.key();
    if (!key || this.superpixels.has(key) || this.asked.has(key)) return;
    this.asked.add(key);
    this.root().dataset.superpixels = "loading";
    this.channel.trySend({ type: "superpixels", key });
  }

  /** `[` / `]` with the wand: a smaller or larger tolerance. */
  resize(step) {
    const i = TOLERANCES.indexOf(this.tolerance);
    this.tolerance = TOLERANCES[Math.max(0, Math.min(TOLERANCES.length - 1, i + step))];
    this.root().dataset.wandTolerance = String(this.tolerance);
  }

  /** Pointer down with `tool` at image point `p` in class `value`; true when the tool follows the drag. */
  down(tool, p, value, event = null) {
    const editor = this.mask.editor;
    if (!editor) return false;
    if (tool === "wand") {
      this.wand(editor, p, value);
      return false;
    }
    if (tool === "superpixel") {
      const sp = this.superpixels.get(this.key());
      if (!sp) {
        this.askSuperpixels();
        this.flash("The superpixels of this image are still being computed.");
        return false;
      }
      this.brush.begin(editor, sp, p, value);
      this.edited();
      return true;
    }
    return this.prompt.down(p, event, this.size());
  }

  move(tool, p) {
    if (tool === "superpixel" && this.brush.stroke) {
      this.brush.to(this.mask.editor, this.superpixels.get(this.key()), p);
      this.edited(false);
    } else if (tool === "box" || tool === "extreme") this.prompt.move(p);
  }

  up(tool, p, event, value, scale) {
    const editor = this.mask.editor;
    if (!editor) return;
    if (tool === "superpixel" && this.brush.stroke) {
      this.root().dataset.superpixelStroke = JSON.stringify(this.brush.end(editor, this.superpixels.get(this.key()), p));
      this.edited();
      return;
    }
    const request = this.prompt.up(p, editor, value, scale, Boolean(event?.shiftKey));
    if (request) {
      this.channel.trySend({ ...request, key: this.key() });
      this.request = request;
      this.root().dataset.prompt = JSON.stringify({ ...request, state: "waiting" });
    }
    this.edited(false); // the click or the box is drawn at once
  }

  wand(editor, p, value) {
    if (!this.item()?.bitmap) return;
    const started = performance.now();
    const { data, width, height } = this.pixels();
    const q = pixelAt(p);
    const x = Math.floor((q.x * width) / editor.width);
    const y = Math.floor((q.y * height) / editor.height);
    const { region, rect } = wandRegion(data, width, height, x, y, this.tolerance);
    editor.begin();
    const painted = paintRegion(editor, region, width, height, rect, value);
    editor.end();
    this.root().dataset.wand = JSON.stringify({ point: [q.x, q.y], value, tolerance: this.tolerance, painted });
    this.root().dataset.toolMs = (performance.now() - started).toFixed(2);
    this.edited();
  }

  /** The decoded RGBA pixels of the image on screen, read from its bitmap once. */
  pixels() {
    const key = this.key();
    const { bitmap } = this.item();
    if (this.rgba?.key !== key) this.rgba = { key, data: rgbaOf(bitmap), width: bitmap.width, height: bitmap.height };
    return this.rgba;
  }

  /** A message of the tools from the kernel; false when it is not one. */
  receive(msg, buffers) {
    if (msg.type === "prompt-mask") {
      this.answer(msg, buffers);
      return true;
    }
    if (msg.type === "superpixels") {
      this.received(msg, buffers);
      return true;
    }
    return false;
  }

  async answer(msg, buffers) {
    const editor = this.mask.editor;
    if (msg.key !== this.key() || !editor) return;
    let bits = null;
    try {
      if (msg.rect) bits = await inflate(buffers[0], msg.rect[2] - msg.rect[0], msg.rect[3] - msg.rect[1]);
    } catch (err) {
      msg = { ...msg, error: `could not read the mask: ${err?.message ?? err}` };
    }
    if (msg.key !== this.key() || editor !== this.mask.editor) return; // the image changed meanwhile
    const sentAt = this.prompt.pending?.sentAt;
    const outcome = this.prompt.answer(msg, bits, editor);
    if (outcome === "stale") return;
    if (outcome === "error") this.flash(`No mask: ${msg.error}`);
    // GrabCut separates by colour: an object coloured like what surrounds it comes back empty.
    if (outcome === "empty") this.flash(EMPTY_ANSWER);
    this.edited();
    this.root().dataset.prompt = JSON.stringify({ ...this.request, state: outcome, rect: msg.rect, kernelMs: msg.ms ?? null });
    // Painted: the overlay shows it at the next frame, which the benchmark waits for.
    this.root().dataset.toolMs = (performance.now() - sentAt).toFixed(2);
  }

  async received(msg, buffers) {
    this.asked.delete(msg.key);
    if (msg.error) {
      if (msg.key === this.key()) this.flash(`No superpixels: ${msg.error}`);
      return;
    }
    try {
      const bytes = await inflate(buffers[0], 2 * msg.width, msg.height);
      this.superpixels.set(msg.key, new Superpixels(msg.width, msg.height, new Uint16Array(bytes.buffer, bytes.byteOffset, msg.width * msg.height)));
    } catch (err) {
      this.flash(`Could not read the superpixels: ${err?.message ?? err}`);
      return;
    }
    // Keep the few newest: a label image is two bytes per original pixel.
    while (this.superpixels.size > 4) this.superpixels.delete(this.superpixels.keys().next().value);
    if (msg.key === this.key()) this.root().dataset.superpixels = String(this.superpixels.get(msg.key).count);
  }

  /** What the tools draw over the image: the box being dragged, the clicked points. */
  draw(ctx, vp, color) {
    this.prompt.draw(ctx, vp, color);
  }

  /** The info line's part: what the tool in use waits for. */
  status(tool) {
    if (tool === "extreme" && !this.prompt.object) return ` · ${this.prompt.extreme.length}/4 extreme points`;
    if ((tool === "box" || tool === "extreme") && this.prompt.pending) return " · finding the mask…";
    if ((tool === "box" || tool === "extreme") && this.prompt.object) return " · click to add, Shift-click to remove, Alt-drag to refine (Alt+Shift: not it), Escape: next object";
    if (tool === "wand") return ` · tolerance ${this.tolerance}`;
    if (tool === "superpixel" && !this.superpixels.has(this.key())) return " · computing superpixels…";
    return "";
  }
}
