"""The widget protocol as a state machine: any sequence of messages, well- or ill-formed, gets
exactly one reply each, and the store is never left inside a transaction.

Hypothesis drives a real classification widget (its comm is anywidget's headless one, ``send``
a recorder) over a text job in a real SQLite store, with a second annotator answering in the
same store. Messages are answers, skips and undos (of one's own answers, of someone else's, of
nothing), re-sent and colliding uids, ``hello`` / ``more`` / ``get`` / ``detail`` requests with
fields of every type, forged message types, non-objects, lone UTF-16 surrogates and huge
values. Text jobs reply on the kernel's thread, so each reply is checked as soon as the handler
returns; the image paths (replies from worker threads) have their own tests in
tests/unit/widgets/test_widget_python.py.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from recorder import Recorder

from nblabel import Job, TextClassification

LABELS = ["cat", "dog", "bird"]
TEXTS = pd.DataFrame({"source": [f"sentence {i}" for i in range(6)]})
# What the kernel answers a message with; `goto` and `proposals` are sent unasked.
REPLIES = {"items", "ack", "rejected", "store-error", "error", "detail"}

HALVES = st.sampled_from(["\ud800", "a\udfff", "\ud83d cut emoji", "ok\x00nul"])
HUGE = st.sampled_from(["x" * 200_000, ["cat"] * 5_000])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), HALVES, HUGE)
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
KINDS = st.one_of(st.sampled_from(["answer", "skip", "undo", "hello", "more", "get", "detail"]), JUNK)


class WidgetProtocol(RuleBasedStateMachine):
    """One widget of annotator ``ana``; ``bo`` answers the same job from another kernel."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="nblabel-protocol-"))
        self.store_path = self.folder / "job.sqlite"
        self.job = Job("proto", TEXTS, TextClassification(LABELS), store=self.store_path, annotator="ana")
        self.bo = Job("proto", TEXTS, TextClassification(LABELS), store=self.store_path, annotator="bo")
        self.widget = self.job.annotate(window=3)
        self.recorder = Recorder()
        self.widget.send = self.recorder
        self.sent: list[Any] = []  # messages sent, to send again
        self.ours: list[str] = []  # uids of messages sent by this widget
        self.theirs: list[str] = []  # uids of bo's answers

    def teardown(self) -> None:
        self.widget.close()
        self.job.store.close()
        self.bo.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- what the browser may send ------------------------------------------------------------

    def uids(self) -> st.SearchStrategy[Any]:
        known = [*self.ours, *self.theirs]
        fresh = st.uuids().map(lambda u: u.hex)
        return st.one_of(fresh, st.sampled_from(known) if known else fresh, JUNK)

    def keys(self) -> st.SearchStrategy[Any]:
        return st.one_of(st.sampled_from(self.job.keys), st.integers(-2, 8), JUNK)

    @rule(data=st.data(), value=st.one_of(st.sampled_from(LABELS), JUNK), extra=JUNK)
    def answer(self, data: st.DataObject, value: Any, extra: Any) -> None:
        message = {
            "type": "answer",
            "uid": data.draw(self.uids()),
            "key": data.draw(self.keys()),
            "value": value,
        }
        if extra is not None:
            message["unknown"] = extra  # unknown keys are ignored
        self.send(message)

    @rule(data=st.data())
    def skip(self, data: st.DataObject) -> None:
        self.send({"type": "skip", "uid": data.draw(self.uids()), "key": data.draw(self.keys())})

    @rule(data=st.data())
    def undo(self, data: st.DataObject) -> None:
        target = data.draw(st.one_of(st.none(), self.uids()))
        self.send({"type": "undo", "uid": data.draw(self.uids()), "target": target})

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def send_again(self, data: st.DataObject) -> None:
        self.send(data.draw(st.sampled_from(self.sent)))

    @rule(data=st.data(), width=JUNK)
    def hello(self, data: st.DataObject, width: Any) -> None:
        resend = data.draw(
            st.one_of(st.lists(st.sampled_from(self.sent), max_size=3) if self.sent else JUNK, JUNK)
        )
        self.send({"type": "hello", "width": width, "height": 600, "resend": resend})

    @rule(data=st.data(), count=st.one_of(st.integers(-1, 5), JUNK))
    def more(self, data: st.DataObject, count: Any) -> None:
        exclude = data.draw(st.one_of(st.lists(st.sampled_from(self.job.keys), max_size=4), JUNK))
        self.send({"type": "more", "count": count, "exclude": exclude})

    @rule(data=st.data())
    def get(self, data: st.DataObject) -> None:
        self.send({"type": "get", "keys": data.draw(st.one_of(st.lists(self.keys(), max_size=3), JUNK))})

    @rule(data=st.data(), rect=JUNK)
    def detail(self, data: st.DataObject, rect: Any) -> None:
        self.send({"type": "detail", "key": data.draw(self.keys()), "rect": rect, "width": 10, "height": 10})

    @rule(kind=KINDS, body=JUNK)
    def forged(self, kind: Any, body: Any) -> None:
        self.send({"type": kind, "uid": "forged", "payload": body})

    @rule(content=JUNK)
    def not_an_object(self, content: Any) -> None:
        self.send(content)

    @rule(data=st.data(), label=st.sampled_from(LABELS))
    def someone_else_answers(self, data: st.DataObject, label: str) -> None:
        position = data.draw(st.integers(0, len(TEXTS) - 1))
        self.theirs.append(self.bo.label(position, label).uid)

    # -- the checks ---------------------------------------------------------------------------

    def send(self, message: Any) -> None:
        """Send one message as the comm would; check it got its replies and nothing else."""
        expected = 1
        if isinstance(message, dict):
            if isinstance(message.get("uid"), str):
                self.ours.append(message["uid"])
            if message.get("type") == "hello" and isinstance(message.get("resend"), list):
                expected += len(message["resend"])  # each re-sent answer is replied to as well
        before = self.stored()
        self.recorder.clear()
        self.widget._on_custom(self.widget, message, [])
        replies = [m for m, _ in self.recorder.sent if m.get("type") in REPLIES]
        assert len(replies) == expected, (message, self.recorder.sent)
        # nothing the browser can send is a kernel failure, and the store is fine
        assert {m["type"] for m in replies} <= {"items", "ack", "rejected", "detail"}, replies
        acked = {uid for m in replies if m["type"] == "ack" for uid in m["uids"]}
        after = self.stored()
        assert acked <= set(after), "acknowledged but not stored"
        for uid in acked:
            assert after[uid] == ("proto", "ana")
        assert set(after) - set(before) <= acked, "stored without an acknowledgement"
        self.sent.append(message)

    def stored(self) -> dict[str, tuple[str, str]]:
        db = sqlite3.connect(self.store_path)
        try:
            return {
                uid: (a, who)
                for uid, a, who in db.execute("SELECT uid, attribute, annotator FROM annotations")
            }
        finally:
            db.close()

    @invariant()
    def store_is_released(self) -> None:
        store = self.job.store
        assert not store._db.in_transaction
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        other = sqlite3.connect(self.store_path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails at once if the widget's kernel holds the lock
            other.execute("ROLLBACK")
        finally:
            other.close()


WidgetProtocol.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
test_widget_protocol = WidgetProtocol.TestCase
