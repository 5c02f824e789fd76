"""The portal's headless parts: tokens kept hashed, who a request is, refusals on revocation,
the page's text, the command line's job loading."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest

import nblabel as nl
from nblabel.cli import load_job
from nblabel.portal import serve
from nblabel.portal.app import AccessRevoked, GuardedFeed, identity, page
from nblabel.portal.tokens import REVOKED, Tokens


def _job(n: int = 3) -> nl.Job:
    return nl.Job(
        "portal", pd.DataFrame({"source": [f"text {i}" for i in range(n)]}), nl.TextClassification(["a", "b"])
    )


def test_tokens_are_stored_hashed_and_replaced_or_revoked_by_name() -> None:
    job = _job()
    tokens = Tokens(job.store, job.attribute)
    first = tokens.issue("ana")
    stored = job.store.get_meta("portal:portal:ana")
    assert stored is not None and stored.startswith("sha256:") and first not in stored
    assert tokens.valid("ana", first) and tokens.granted("ana")
    assert (
        not tokens.valid("bob", first)
        and not tokens.valid("ana", first + "x")
        and not tokens.valid("ana", "")
    )
    second = tokens.issue("ana")  # a new link ends the old one
    assert tokens.valid("ana", second) and not tokens.valid("ana", first)
    tokens.revoke("ana")
    assert job.store.get_meta("portal:portal:ana") == REVOKED
    assert not tokens.valid("ana", second) and not tokens.granted("ana")
    with pytest.raises(ValueError, match="annotator name"):
        tokens.issue("../ana")
    assert not tokens.valid("<b>ana</b>", second)


def test_identity_from_the_query_string_or_the_hub_user() -> None:
    job = _job()
    tokens = Tokens(job.store, job.attribute)
    token = tokens.issue("ana")
    found = identity(tokens, {"QUERY_STRING": f"who=ana&token={token}"})
    assert found is not None and found[0] == "ana" and found[1]()
    assert identity(tokens, {"QUERY_STRING": "who=ana&token=nope"}) is None
    assert identity(tokens, {}) is None
    assert identity(tokens, {"JUPYTERHUB_USER": "bob"}) is None  # the Hub vouches, the store grants
    tokens.issue("bob")
    hub = identity(tokens, {"JUPYTERHUB_USER": "bob", "QUERY_STRING": "who=ana"})
    assert hub is not None and hub[0] == "bob"
    tokens.issue("ana")  # a new link for ana: the page opened with the old one loses access
    assert not found[1]()


def test_a_revoked_annotators_messages_are_refused_and_their_answers_stay() -> None:
    owner = _job()
    tokens = Tokens(owner.store, owner.attribute)
    token = tokens.issue("bob")
    found = identity(tokens, {"QUERY_STRING": f"who=bob&token={token}"})
    assert found is not None
    bob = nl.Job("portal", owner.data, owner.task, annotator="bob")
    feed = GuardedFeed(bob, found[1])
    positions, _ = feed.next_positions(2)
    feed.apply({"type": "answer", "uid": "u1", "key": bob.keys[positions[0]], "value": "a"})
    tokens.revoke("bob")
    with pytest.raises(AccessRevoked, match="access to this job has ended"):
        feed.apply({"type": "answer", "uid": "u2", "key": bob.keys[positions[1]], "value": "b"})
    with pytest.raises(AccessRevoked):
        feed.next_positions(1)
    with pytest.raises(AccessRevoked):
        feed.payloads(positions)
    owner.refresh()
    assert [(a.annotator, a.value) for k in owner.keys for a in owner.answers(k)] == [("bob", "a")]


def test_the_page_shows_instructions_as_text_and_the_annotators_own_count() -> None:
    job = _job()
    evil = '<img src=x onerror="alert(1)">'
    shown = page(job, "ana", lambda: True, f"Short {evil}\n\nThe long part.")
    values = [
        child.value for child in shown.children if hasattr(child, "value") and isinstance(child.value, str)
    ]
    assert any(html.escape(evil) in v for v in values) and not any(evil in v for v in values)
    assert any("ana: 0 answered" in v for v in values)
    job.label(0, "a")  # by ana (the unit tests' annotator)
    widget = shown.children[-1]
    widget.progress = job.feed().progress()  # what an acknowledgement does
    assert any("ana: 1 answered" in child.value for child in shown.children if hasattr(child, "value"))
    widget.close()


def test_serve_refuses_repeated_names_and_instructions_that_are_not_text() -> None:
    job = _job()
    with pytest.raises(ValueError, match="different names"):
        serve(job, ["ana", "ana"])
    with pytest.raises(TypeError, match="instructions must be text"):
        serve(job, ["ana"], instructions=["x"])  # type: ignore[arg-type]


def test_the_command_line_loads_the_job_a_file_makes(tmp_path: Path) -> None:
    script = tmp_path / "jobs.py"
    script.write_text(
        "import pandas as pd\nimport nblabel as nl\n"
        "pets = nl.Job('pets', pd.DataFrame({'source': ['x']}), nl.TextClassification(['a', 'b']))\n"
    )
    assert load_job(f"{script}:pets").name == "pets"
    with pytest.raises(SystemExit, match="defines no Job named 'job'"):
        load_job(str(script))
    with pytest.raises(SystemExit, match="no such file"):
        load_job(str(tmp_path / "missing.py"))
