"""The JavaScript installed in the page to time actions up to "painted", on one clock.

All times come from the page's ``performance.now()``. "Painted" is ``performance.now()`` in a
``setTimeout(0)`` posted from the first ``requestAnimationFrame`` callback after the change was in
the DOM: Chromium runs style, layout, paint and the commit to the compositor in the same task as
the rAF callbacks, so that timer runs right after the frame with the change was painted on the
main thread (the compositor's raster and presentation, on other threads, are not included). The
next rAF (a double rAF) is the start of the following frame, recorded as ``t_next``.
"""

from __future__ import annotations

__all__ = [
    "ACK_HOOK_JS",
    "ACTION_HOOK_JS",
    "CONTROL_JS",
    "DRAG_PROBE_JS",
    "ENTITY_HOOK_JS",
    "KEY_HOOK_JS",
    "PAINTED_JS",
    "PUSH_HOOK_JS",
    "SEGMENT_TOOL_PROBE_JS",
]

# painted(r): r.t_frame (start of the frame showing the change), r.t_paint (painted),
# r.t_next (start of the following frame), then r.done.
PAINTED_JS = r"""
  function painted(r) {
    requestAnimationFrame((ts) => {
      r.t_frame = performance.now();
      r.t_frame_ts = ts;
      setTimeout(() => { r.t_paint = performance.now(); }, 0);
      requestAnimationFrame((ts2) => {
        r.t_next = performance.now();
        r.t_next_ts = ts2;
        // t_paint's timer always runs before the next frame's rAF callbacks
        r.done = true;
      });
    });
  }
"""

# --------------------------------------------------------------------------- key presses

# Installed on a root element; records one entry per keydown. The capture listener on the root
# runs before the widget's own (bubble-phase) listener on the same element. A press that finds
# no prefetched item ("Loading…" on screen) is a miss; `data-unacked` dropping back gives each
# press its kernel acknowledgement, in order.
KEY_HOOK_JS = (
    r"""
(root) => {
  const B = {
    records: [], loaf: [], events: [], decodes: 0, decodeMs: 0,
    pending: null, awaitingAck: [], lastUnacked: Number(root.dataset.unacked || 0),
  };
  window.__nblBench = B;
  root.addEventListener('keydown', (e) => {
    if (e.repeat) return;
    const r = {
      i: B.records.length, key: e.key, t_key: e.timeStamp, t_listener: performance.now(),
      from: root.dataset.itemKey || '', miss: false, done: false,
    };
    B.records.push(r);
    B.pending = r;
  }, {capture: true});

  """
    + PAINTED_JS
    + r"""

  new MutationObserver((mutations) => {
    const now = performance.now();
    for (const m of mutations) {
      if (m.attributeName === 'data-item-key') {
        const r = B.pending;
        if (!r || r.t_dom !== undefined) continue;
        const key = root.dataset.itemKey || '';
        if (key === r.from) continue;
        if (key === '' || root.dataset.state !== 'item') {
          r.miss = true;  // nothing prefetched: "Loading…" is on screen
          continue;
        }
        r.t_dom = now;
        r.to = key;
        // the box widget: proposals shown (dashed) on the new image
        if (root.dataset.proposed !== undefined) r.proposed = Number(root.dataset.proposed);
        const canvas = root.querySelector('[data-testid=nbl-image]');
        if (canvas && !canvas.hidden) r.canvas = [canvas.width, canvas.height];
        painted(r);
      } else if (m.attributeName === 'data-unacked') {
        const n = Number(root.dataset.unacked || 0);
        if (n > B.lastUnacked) {
          for (let k = B.lastUnacked; k < n; k += 1) B.awaitingAck.push(B.pending);
        } else {
          for (let k = n; k < B.lastUnacked; k += 1) {
            const r = B.awaitingAck.shift();
            if (r && r.t_ack === undefined) r.t_ack = now;
          }
        }
        B.lastUnacked = n;
      }
    }
  }).observe(root, {attributes: true, attributeFilter: ['data-item-key', 'data-unacked']});

  // Context: frames of 50 ms or more, and keydowns whose next presented frame came >= 16 ms
  // after the key (Event Timing reports nothing shorter; its duration is rounded to 8 ms).
  const observe = (type, opts, fn) => {
    try { new PerformanceObserver((list) => list.getEntries().forEach(fn)).observe({type, ...opts}); }
    catch (err) { /* entry type not supported */ }
  };
  observe('long-animation-frame', {}, (e) => B.loaf.push({
    start: e.startTime, duration: e.duration, renderStart: e.renderStart,
    styleAndLayoutStart: e.styleAndLayoutStart, blocking: e.blockingDuration,
    scripts: (e.scripts || []).map((s) => ({
      invoker: s.invoker, duration: s.duration, source: (s.sourceURL || '').slice(-60),
      fn: s.sourceFunctionName,
    })),
  }));
  observe('event', {durationThreshold: 16}, (e) => {
    if (e.name === 'keydown') B.events.push({
      start: e.startTime, duration: e.duration,
      processingStart: e.processingStart, processingEnd: e.processingEnd,
    });
  });

  // Count image decodes (createImageBitmap) while the bench runs: each is a payload received.
  if (!window.__nblOrigCIB) {
    window.__nblOrigCIB = window.createImageBitmap;
    window.createImageBitmap = function (...args) {
      const w = window.__nblBench;
      const t0 = performance.now();
      const p = window.__nblOrigCIB.apply(this, args);
      if (w) {
        w.decodes += 1;
        p.then(() => { w.decodeMs += performance.now() - t0; }, () => {});
      }
      return p;
    };
  }
  return true;
}
"""
)

# A bare focusable element for the control series: its keydown handler only changes a text
# and the same data-item-key attribute the hook watches.
CONTROL_JS = r"""
() => {
  const el = document.createElement('div');
  el.tabIndex = 0;
  el.dataset.testid = 'bench-control';
  el.dataset.state = 'item';
  el.dataset.itemKey = 'c0';
  el.dataset.unacked = '0';
  el.setAttribute('data-lm-suppress-shortcuts', 'true');
  el.style.cssText = 'position:fixed;right:8px;bottom:8px;z-index:10000;padding:6px 10px;' +
    'background:#fff;border:1px solid #888;font:14px sans-serif';
  el.textContent = 'control 0';
  let n = 0;
  el.addEventListener('keydown', (e) => {
    e.preventDefault();
    e.stopPropagation();
    n += 1;
    el.textContent = 'control ' + n;
    el.dataset.itemKey = 'c' + n;
  });
  document.body.append(el);
  el.focus();
  return true;
}
"""

# --------------------------------------------------------------------------- peers

# Installed on a widget cell's output area: one record per action (click or key); ``sig()``
# names the item on screen ('' while none is), so "the next item is in the DOM" is a change of
# ``sig()``; an <img> item is awaited until loaded and decoded before the frame.
ACTION_HOOK_JS = (
    r"""
(root, cfg) => {
  const ids = new WeakMap();
  let nextId = 0;
  const idOf = (el) => { if (!ids.has(el)) ids.set(el, ++nextId); return ids.get(el); };
  const nbl = () => root.querySelector('[data-testid=nbl-root]');
  const sig = () => {
    if (!cfg.item) {
      const w = nbl();
      return w && w.dataset.state === 'item' ? (w.dataset.itemKey || '') : '';
    }
    const el = root.querySelector(cfg.item);
    if (!el) return '';
    return cfg.srcSig ? (el.getAttribute('src') || '') : String(idOf(el));
  };
  const B = {records: [], pending: null, sig, awaitingAck: [], lastUnacked: 0};
  window.__peerBench = B;
  const w0 = nbl();
  if (w0) B.lastUnacked = Number(w0.dataset.unacked || 0);

  root.addEventListener(cfg.trigger, (e) => {
    if (e.repeat) return;
    const r = {i: B.records.length, t_act: e.timeStamp, t_listener: performance.now(),
               from: sig(), miss: false, done: false};
    B.records.push(r);
    B.pending = r;
  }, {capture: true});

  """
    + PAINTED_JS
    + r"""

  async function ready(r) {
    const img = cfg.img ? root.querySelector(cfg.item) : null;
    if (img) {
      if (!img.complete) {
        await new Promise((ok) => {
          img.addEventListener('load', ok, {once: true});
          img.addEventListener('error', ok, {once: true});
        });
      }
      r.t_load = performance.now();
      try { await img.decode(); } catch (err) { r.decodeError = String(err); }
      r.px = [img.naturalWidth, img.naturalHeight];
    }
    r.t_ready = performance.now();
    painted(r);
  }

  new MutationObserver(() => {
    const now = performance.now();
    const w = nbl();
    if (w) {  // nblabel: acknowledgements (answers stored by the kernel), attributed in order
      const n = Number(w.dataset.unacked || 0);
      if (n > B.lastUnacked) {
        for (let k = B.lastUnacked; k < n; k += 1) B.awaitingAck.push(B.pending);
      } else {
        for (let k = n; k < B.lastUnacked; k += 1) {
          const a = B.awaitingAck.shift();
          if (a && a.t_ack === undefined) a.t_ack = now;
        }
      }
      B.lastUnacked = n;
    }
    const r = B.pending;
    if (!r || r.t_dom !== undefined) return;
    const s = sig();
    if (s === r.from) return;
    if (s === '') {  // nblabel showed "Loading…": no prefetched item for this action
      if (!cfg.item) r.miss = true;
      return;
    }
    r.t_dom = now;
    r.to = s.length > 80 ? s.slice(0, 80) : s;
    ready(r);
  }).observe(root, {subtree: true, childList: true, attributes: true,
                    attributeFilter: ['src', 'data-item-key', 'data-state', 'data-unacked']});
  return sig();
}
"""
)

# --------------------------------------------------------------------------- entities

# Selection end (pointerup) → the new <mark> painted, and Enter → the next document painted.
ENTITY_HOOK_JS = (
    r"""
(root) => {
  // The widget swaps two document elements (the next one is built ahead): follow the one shown.
  const shown = (n) => n.isConnected && n.closest('[data-testid=nbl-doc]') !== null;
  const B = {up: [], keys: []};
  window.__nblEnt = B;
  """
    + PAINTED_JS
    + r"""
  root.addEventListener('pointerup', (e) => {
    if (shown(e.target)) B.up.push({t_start: e.timeStamp});
  }, {capture: true});
  root.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') B.keys.push({t_start: e.timeStamp, from: root.dataset.itemKey});
  }, {capture: true});
  new MutationObserver((mutations) => {
    const r = B.up[B.up.length - 1];
    if (!r || r.t_dom !== undefined) return;
    for (const m of mutations) for (const n of m.addedNodes) {
      if (n.nodeName === 'MARK' && shown(n)) { r.t_dom = performance.now(); painted(r); return; }
    }
  }).observe(root, {childList: true, subtree: true});
  new MutationObserver(() => {
    const r = B.keys[B.keys.length - 1];
    if (!r || r.t_dom !== undefined || root.dataset.itemKey === r.from) return;
    if (root.dataset.state !== 'item') { r.miss = true; return; }
    r.t_dom = performance.now();
    painted(r);
  }).observe(root, {attributes: true, attributeFilter: ['data-item-key']});
  return true;
}
"""
)


# --------------------------------------------------------------------------- kernel messages

# Key → the kernel's acknowledgement (`data-unacked` dropping back), in ms.
ACK_HOOK_JS = r"""
root => {
  const B = (window.__nblAck = { pending: [], latencies: [] });
  root.addEventListener("keydown", (e) => { if ("123".includes(e.key)) B.pending.push(e.timeStamp); }, true);
  let last = Number(root.dataset.unacked || 0);
  new MutationObserver(() => {
    const now = performance.now();
    const count = Number(root.dataset.unacked || 0);
    for (let i = count; i < last; i += 1) {
      const t = B.pending.shift();
      if (t !== undefined) B.latencies.push(now - t);
    }
    last = count;
  }).observe(root, { attributes: true, attributeFilter: ["data-unacked"] });
}
"""

# A proposals push → painted, on the wall clock (performance.timeOrigin + now) that the kernel's
# time.time() shares, keyed by the pushed confidence.
PUSH_HOOK_JS = r"""
root => {
  const line = root.querySelector("[data-testid=nbl-proposal]");
  const B = (window.__nblPush = {});
  new MutationObserver(() => {
    const m = /\((\d+)%\)/.exec(line.textContent || "");
    if (!m || B[m[1]]) return;
    const entry = (B[m[1]] = { dom: performance.timeOrigin + performance.now() });
    requestAnimationFrame(() => setTimeout(() => { entry.painted = performance.timeOrigin + performance.now(); }, 0));
  }).observe(line, { childList: true, characterData: true, subtree: true, attributes: true });
}
"""

# --------------------------------------------------------------------------- drags

# Installed after the widget rendered: its pointermove listener runs after the stage's, so the
# frame callback it queues runs after the stage's paint in the same frame.
DRAG_PROBE_JS = """
(overlay) => {
  window.__lat = [];
  overlay.addEventListener('pointermove', (e) => {
    if (!e.buttons) return;
    const t0 = e.timeStamp;
    requestAnimationFrame(() => window.__lat.push(performance.now() - t0));
  });
}
"""

# Installed on the segmentation widget's overlay: per pointer action, the time from the event to
# the animation frame after the widget's redraw (as DRAG_PROBE_JS). `down`: a click's edit (wand,
# brush), made in the pointerdown handler; `move`: a stroke's moves; `prompt`: a prompt sent on
# pointerup (a box, a click), until the frame after its answer was painted (the root's
# data-prompt turns to painted or unchanged).
SEGMENT_TOOL_PROBE_JS = """
(overlay) => {
  const P = { down: [], move: [], prompt: [], kernel: [], sent: null };
  window.__tools = P;
  const root = overlay.closest('[data-testid=nbl-root]');
  const after = (t0, list) => requestAnimationFrame(() => list.push(performance.now() - t0));
  overlay.addEventListener('pointerdown', (e) => after(e.timeStamp, P.down));
  overlay.addEventListener('pointermove', (e) => { if (e.buttons) after(e.timeStamp, P.move); });
  overlay.addEventListener('pointerup', (e) => { P.sent = e.timeStamp; });
  new MutationObserver(() => {
    const prompt = JSON.parse(root.dataset.prompt || '{}');
    if (P.sent === null || (prompt.state !== 'painted' && prompt.state !== 'unchanged')) return;
    const t0 = P.sent;
    P.sent = null;
    P.kernel.push(prompt.kernelMs);
    after(t0, P.prompt);
  }).observe(root, { attributes: true, attributeFilter: ['data-prompt'] });
}
"""
