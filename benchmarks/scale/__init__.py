"""A million-item job: opening it, labeling in it, its output and its memory, beside pandas.

Builds once, under ``--cache``, a manifest of ``--lines`` lines spelled
``{"source-ref":"s3://bucket/images/0000042.jpg","id":42}`` (the first ``2 * --window`` lines
name real 1024x768 JPEGs in the cache folder instead, so the widget's first window is made of
real previews), a shuffled copy of it (item keys out of order cost more memory to look up),
and a 100-line manifest for the latency comparison. Every measurement runs in a fresh Python
process (this module with ``--child``), as a new kernel would; nblabel, pandas and the widget
classes are imported before the clock starts.

Measured:

* **open → first item**: ``read_manifest`` + ``Job(...)`` on a new store + ``job.pending(1)``.
* **open → first window sent (widget path)**: ``read_manifest`` + ``Job(...)`` +
  ``job.annotate()`` + the browser's ``hello`` message handled until the widget's ``items``
  reply (the first window's payloads and JPEG buffers) is handed to ``send``. Headless: the
  comm is anywidget's dummy and ``send`` is recorded; the browser's decoding is not included.
* ``pandas.read_json(lines=True)`` of the same file, for scale.
* **labeling**: per call, ``Job.label`` and the widget's answer path (``ClassifyWidget._answer``:
  ``Feed.apply``, the store's durable append, progress, the ``ack``), in the 100-line job and
  in the big one, processes interleaved. Each answer is committed with ``synchronous=FULL``,
  so the disk's flush is most of it.
* **output**: with 10% of the items labeled, ``job.to_dataframe()``, ``write_manifest(out)``
  and ``out.to_json(orient="records", lines=True)`` on the same frame, interleaved.
* **memory**: the process's RSS and PSS after open + first item, minus before reading, beside
  ``df.memory_usage(deep=True).sum()``; and the peak RSS over the same span.

Usage::

    python -m benchmarks.scale [--lines 1000000] [--repeats 5] [--cache DIR] [--out BENCHMARKS.md]

The results replace the section between ``<!-- scale:start -->`` and ``<!-- scale:end -->`` in
``--out`` (other sections are kept). A run at a million lines takes about 5-10 minutes.
"""
