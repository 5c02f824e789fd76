"""The headless labeling core: a job's items, its answer log, its queue, and what widgets are fed.

:class:`~nblabel.Job` composes these collaborators and holds the user's verbs; nothing here
takes a Job or imports widget code, so every piece runs and is tested without a notebook.

==========================================  =============================================================
:class:`~nblabel.labeling.items.Items`      keys, positions, sources and input attributes of the rows
:class:`~nblabel.labeling.answers.AnswerLog`  label, skip, undo, retract, accept, reject; current labels
:class:`~nblabel.labeling.queue.Queue`      open items, claims, the auto-labeler's order and proposals
:class:`~nblabel.labeling.feed.Feed`        the item widgets' protocol: payloads in, answers out
:class:`~nblabel.labeling.review.ReviewFeed`  the review grid's pages and actions
:mod:`~nblabel.labeling.consolidation`      consolidation, agreement and disagreements on the log
==========================================  =============================================================
"""
