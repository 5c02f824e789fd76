// The images of the image widgets: decoded before they are needed, released far behind the
// cursor. A keypress must only swap an image that is ready: the channel decodes each item's
// image as it arrives, off the main thread, long before the item comes on screen.
import { bytesOf } from "./channel.js";
import { h, showNote } from "./dom.js";

/**
 * Decode the images of item payloads into `<img>` elements, ready to show: `item.image`, or
 * `item.error` when the browser cannot decode it. For widgets that show the image as it is
 * (classification); `img.decode()` decodes it now, so putting it on screen costs no decoding.
 */
export async function decodeImageElements(items, buffers) {
  await Promise.all(
    items.map(async (item) => {
      if (item.buffer === undefined || item.buffer === null) return;
      const blob = new Blob([bytesOf(buffers[item.buffer])], { type: item.mime });
      const img = h("img", {
        class: "nbl-image",
        "data-testid": "nbl-image",
        alt: `image ${item.position + 1}`,
        draggable: "false",
        src: URL.createObjectURL(blob),
      });
      try {
        await img.decode();
        item.image = img;
      } catch (err) {
        URL.revokeObjectURL(img.src);
        item.error = `the browser could not decode this image (${err?.message ?? err})`;
      }
    }),
  );
}

/** Drop an item's decoded pixels (an ImageBitmap or an `<img>` of `decodeImageElements`). */
function releasePixels(item) {
  if (item.bitmap) {
    item.bitmap.close();
    item.bitmap = null;
  }
  if (item.image) {
    URL.revokeObjectURL(item.image.src);
    item.image = null;
  }
}

/**
 * Decoded images of the items far behind the cursor are released (a long session would
 * otherwise hold every image it showed); going back asks the kernel for them again.
 */
export class Pixels {
  /** `forget(item)` drops whatever else a widget decoded for a released item (masks). */
  constructor(session, channel, keepBehind = 30, forget = () => {}) {
    this.session = session;
    this.channel = channel;
    this.keepBehind = keepBehind;
    this.forget = forget;
    this.releasedUpTo = 0; // trail index below which pixels were released
    this.fetching = new Set(); // keys whose pixels were asked for again
  }

  release() {
    const { session } = this;
    const end = session.pos - this.keepBehind;
    for (; this.releasedUpTo < end; this.releasedUpTo += 1) {
      const item = session.items.get(session.trail[this.releasedUpTo]);
      if (!item) continue;
      releasePixels(item);
      this.forget(item);
    }
  }

  refetch(item) {
    if (this.fetching.has(item.key)) return;
    this.fetching.add(item.key);
    this.channel.trySend({ type: "get", keys: [item.key] });
  }

  /** Items arrived (the channel's `received` hook): they are no longer being fetched. */
  received(items) {
    for (const item of items) this.fetching.delete(item.key);
  }

  /**
   * The stage of an image widget for the item on screen: its image, its error, "loading" (its
   * pixels asked for again) or "all done"; the root's `data-state` and `data-item-key` say which.
   */
  showItem(item, { frame, stage, problem, message }) {
    const root = frame.root;
    stage.el.hidden = true;
    problem.hidden = true;
    message.hidden = true;
    if (!item) {
      showNote(message, this.session.exhausted ? frame.doneText() : "Loading the next images…");
      root.dataset.itemKey = "";
      root.dataset.state = this.session.exhausted ? "done" : "loading";
    } else if (item.error) {
      showNote(problem, `Cannot show this image: ${item.error}. Press s to skip it.`);
      root.dataset.state = "error";
    } else if (item.bitmap) {
      stage.el.hidden = false;
      stage.layout();
      root.dataset.state = "item";
    } else {
      showNote(message, "Loading image…");
      root.dataset.state = "loading";
      this.refetch(item);
    }
    if (item) root.dataset.itemKey = item.key;
    frame.showPosition(item, "Image");
  }

  /** Release every decoded image (the widget is going away). */
  closeAll() {
    for (const item of this.session.items.values()) releasePixels(item);
  }
}
