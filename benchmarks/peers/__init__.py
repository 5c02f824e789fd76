"""nblabel side by side with the Jupyter labeling widgets it replaces, in one real JupyterLab.

Installs the peers that still work on JupyterLab 4 / ipywidgets 8 into a separate virtual
environment (``--venv``, default ``~/.cache/nblabel-bench/peers-venv``), with the pins they need
(``PEER_REQUIREMENTS``), the same JupyterLab, ipywidgets and ipykernel versions as the environment
running this script, and nblabel itself from this checkout. JupyterLab is served from that
environment (its kernels too), so every widget runs in the same server, the same headless
chromium and the same run:

* ipyannotations 0.5.1 ``images.ClassLabeller`` (your own ``on_submit`` → ``display(next)`` loop);
* superintendent 0.6.0 with an ipyannotations ``ClassLabeller`` (SQLite file queue,
  ``sqlmodel==0.0.44``);
* jupyter-bbox-widget 0.7.0 (``on_submit`` → next image, Enter on the focused widget);
* ipyannotations ``text.ClassLabeller`` and pigeonXT 0.7.3 (``pigeonxt-jupyter --no-deps``) for texts.

The order interleaves: each peer's series is followed by an nblabel series on the same kind of
item with the same action (a click on a class button, or a key), so drift on the shared machine
hits both alike. Per action, measured in the page (``performance.now()`` clock), as
``python -m benchmarks.ui_latency`` does for nblabel alone:

* ``t_act``: the click's (or keydown's) ``event.timeStamp``, from a capture listener on the
  widget's output area that runs before the widget's own handlers;
* ``t_dom``: a MutationObserver sees the next item in the DOM (a new element, a new ``src``, or
  nblabel's ``data-item-key``);
* ``t_ready``: for an ``<img>`` (ipyannotations, superintendent, bbox) after its ``load`` and
  ``decode()``; nblabel draws an already decoded bitmap on its canvas, so ``t_ready = t_dom``;
* ``t_paint``: ``performance.now()`` in a ``setTimeout(0)`` posted from the next
  ``requestAnimationFrame``: right after the frame showing the item was painted on the main thread.

With ``--memory-items`` (default 1000), after the latency runs, every widget labels that many
items once more in a fresh kernel, as fast as it allows (each action once the next item is in the
DOM); the kernel's RSS and PSS are read before the first action and after the last one.

Usage::

    python -m benchmarks.peers [--items 200] [--runs 1] [--nodelay both|on|off] [--quick]

The results replace the section between ``<!-- peers:start -->`` and ``<!-- peers:end -->`` in
``--out`` (default BENCHMARKS.md). Servers, kernels and the browser stop on exit (also Ctrl+C).
"""
