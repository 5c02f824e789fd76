"""Keypress → next item painted, for nblabel's classification widget in a real JupyterLab.

Starts JupyterLab as Jupyter Server ships it (``stock``: nblabel's server extension turned off
with ``NBLABEL_TCP_NODELAY=0``) and, with ``--nodelay``, as nblabel users get it (``nodelay``: the
extension sets TCP_NODELAY on the kernel websocket, see ``nblabel.server_extension``), opens a notebook that displays
``nl.Job(..., nl.ImageClassification([...]))`` (or ``TextClassification``) in headless Debian
chromium, focuses the widget and labels items with real key presses sent through the Chrome
DevTools protocol, at a human-like pace that lets the prefetch window refill.

Measured in the page, per key press (all times from ``performance.now()``'s clock):

* ``t_key``: the keydown event's ``timeStamp`` (when the browser received the key), recorded
  by a capture-phase listener on the widget root that runs before the widget's own handler.
* ``t_dom``: a MutationObserver sees the root's ``data-item-key`` change to the next item
  (the widget draws the item synchronously inside its keydown handler, so this is when the
  handler has finished).
* ``t_frame``: ``performance.now()`` in the first ``requestAnimationFrame`` callback after
  that, i.e. the start of the frame that renders the new item.
* ``t_paint`` (**"painted"**): ``performance.now()`` in a ``setTimeout(0)`` posted from that
  rAF callback. Chromium runs style, layout, paint and the commit to the compositor in the
  same task as the rAF callbacks, so this timer runs right after the frame containing the
  new item has been painted on the main thread. It does not include the compositor's
  raster/draw/present, which happens off the main thread.
* ``t_next``: the following rAF (double rAF): the start of the next frame, 0-16.7 ms after
  ``t_paint``. An upper bound, reported for readers comparing with double-rAF methods.
* ``t_ack``: the root's ``data-unacked`` count dropping back: the kernel stored the answer
  and its acknowledgement reached the widget.

Each press is made only after the previous one was painted and a gap (``--gap-ms``, with
±``--jitter``) has passed: the gap is pacing (a fast human), not synchronisation. Presses that
find no prefetched item (the widget shows "Loading…" or ignores the key) are counted and
excluded from the latency figures. The same hook is also run on a bare control element in
the same page (a keydown handler that only changes a text), which gives the browser's own
floor: input delivery plus one frame of the JupyterLab page.

One more image series runs with Chrome tracing on (``--attribution-items``); it is not pooled
with the others but explains the slow presses: for each press, the key → painted window on the
renderer's main thread is split into thread CPU per kind of task (key handler, frame rendering,
incoming messages), GC, time inside tasks without CPU (preempted, or the commit waiting for the
compositor) and time outside tasks.

With ``--training on|both`` (default both), every stock-server series is also run while the
auto-labeler trains: cell 0 starts ``job.autolabel(every=10, interval=1)`` right after creating
the job, so its worker process (``python -m nblabel.autolabel.worker``, a child of the kernel)
fits and predicts round after round on the answers the key presses give. For the comparison to be
fair and the training a real load, all jobs then hold ``--pool-images`` / ``--pool-texts`` items
(2,000 / 3,000; only ``--items`` of them are labeled, the rest stay in the pool that every round
predicts), idle series included. The worker's rounds and CPU seconds during the presses are
recorded per series. Features are computed once before the runs (the worker reads them from the
job's feature cache), so the measured load is fitting and predicting.

Usage::

    python -m benchmarks.ui_latency [--items 220] [--runs 2] [--gap-ms 200] \
        [--nodelay both|on|off] [--training both|on|off] [--out BENCHMARKS.md]

The results replace the section between ``<!-- ui_latency:start -->`` and
``<!-- ui_latency:end -->`` in ``--out`` (created if missing; other sections are kept).
Servers, kernels and the browser are stopped on exit, also on Ctrl+C or SIGTERM.
"""
