"""The labeling portal (#23) in headless chromium: Voilà pages, one per annotator, on one job.

Three annotators label one PostgreSQL job concurrently in three browser contexts with
``answers_per_item=2``; a row added in the notebook's kernel reaches an open page; a wrong link
and a revoked one are refused. Then the portal's server is
SIGKILLed mid-labeling: no acknowledged answer is lost and a restarted portal resumes. Every
other task type works through Voilà too, one item answered by keyboard or pointer and the stored
answer checked: image boxes (the canvas, the image sent as bytes), image classes, named entities,
semantic segmentation, label verification, a Ground Truth worker template (custom task) and the
preference tasks (pairwise, ranking, rating).
"""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pytest
from PIL import Image
from playwright.sync_api import expect

import nblabel as nl
from tests.harness.postgres import PostgresServer, pg_bindir
from tests.harness.widgets import GT_IMAGE_CLASSIFICATION, Stage, all_saved, focus, make_images, wait_item

# A Voilà page starts its own kernel, which imports nblabel and pandas before the widget shows.
PAGE_MS = 90_000
KEYS = {"ana": "1", "bob": "2", "cy": "3"}  # each annotator answers their own class: a, b, c
LABELS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh database on a throwaway PostgreSQL server."""
    bindir = pg_bindir()
    assert bindir is not None, "the portal test needs PostgreSQL (apt-get install postgresql)"
    server = PostgresServer(bindir)
    try:
        yield server.create_database()
    finally:
        server.remove()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The job's default folders land in the test's temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _texts(n: int) -> pd.DataFrame:
    return pd.DataFrame({"source": [f"note {i}: the patient reports item {i}" for i in range(n)]})


def _root(page: Any) -> Any:
    root = page.get_by_test_id("nbl-root")
    expect(root).to_be_visible(timeout=PAGE_MS)
    return root


def _answer(root: Any, key: str) -> bool:
    """Press ``key`` on the item shown and wait until the next one (or the end) is shown; False
    when the widget had nothing left to show."""
    expect(root).to_have_attribute("data-state", re.compile("item|done"), timeout=PAGE_MS)
    if root.get_attribute("data-state") == "done":
        return False
    shown = root.get_attribute("data-item-key")
    root.press(key)
    expect(root).not_to_have_attribute("data-item-key", shown)
    return True


def test_three_annotators_label_one_postgres_job(
    browser: Any, pg_url: str, in_tmp: Path, screenshot_path: Callable[[str], Path]
) -> None:
    job = nl.Job("portal", _texts(15), nl.TextClassification(LABELS), store=pg_url, answers_per_item=2)
    portal = job.serve(KEYS, instructions="Pick the class.\n\nLonger guidance: read the whole note.")
    contexts = {name: browser.new_context() for name in KEYS}
    try:
        pages = {name: ctx.new_page() for name, ctx in contexts.items()}
        for name, page in pages.items():  # all three kernels start at once
            page.goto(portal.link(name), wait_until="commit")
        roots = {name: _root(page) for name, page in pages.items()}
        for name, root in roots.items():
            wait_item(root, timeout=PAGE_MS)
            focus(root)
            # The page shows the job and this annotator, never anyone else's name or answers.
            text = pages[name].inner_text("body")
            assert f"{name}: 0 answered" in text and "Pick the class." in text
            assert not any(other in text for other in KEYS if other != name)
        screenshot_path("portal.png").write_bytes(pages["ana"].screenshot())

        # Interleaved, one key each in turn: the three queues claim concurrently.
        given = dict.fromkeys(KEYS, 0)
        for _turn in range(2):
            for name, root in roots.items():
                given[name] += _answer(root, KEYS[name])
        all_saved(roots["bob"])  # both of bob's answers stored before his access ends
        portal.revoke("bob")  # bob's next message is refused, his answers stay
        roots["bob"].press(KEYS["bob"])
        # Refused, answer and request alike (the page flashes the last refusal): nothing is stored.
        expect(pages["bob"].get_by_role("alert")).to_contain_text("your access to this job has ended")
        all_saved(roots["bob"])
        for name in ("ana", "cy"):  # the other two label until their queues run dry
            while _answer(roots[name], KEYS[name]):
                given[name] += 1
        # A row added in this kernel reaches the open portal pages (Voilà kernels elsewhere)
        # through the store, without a reload (Job.add, GT's streaming jobs).
        added = "note 15: added while the portal is open"
        assert job.add(pd.DataFrame({"source": [added]})) == 1
        expect(roots["ana"].get_by_test_id("nbl-text")).to_have_text(added, timeout=PAGE_MS)
        given["ana"] += _answer(roots["ana"], KEYS["ana"])
        for root in roots.values():
            all_saved(root)
        expect(pages["ana"].locator(".nbl-portal-mine")).to_have_text(f"ana: {given['ana']} answered")

        job.refresh()
        answers = {key: job.answers(key) for key in job.keys}
        assert all(len(a) <= 2 for a in answers.values()), answers
        assert all(len({x.annotator for x in a}) == len(a) for a in answers.values())
        flat = [x for a in answers.values() for x in a]
        assert all(x.value == LABELS[int(KEYS[x.annotator]) - 1] for x in flat), (
            "an answer under the wrong name"
        )
        assert {n: sum(x.annotator == n for x in flat) for n in KEYS} == given
        assert given["bob"] == 2  # bob's answers stay after revoking

        # A revoked link and a wrong token get the refusal page, not the job.
        refused = [contexts["bob"].new_page(), contexts["cy"].new_page()]
        refused[0].goto(pages["bob"].url, wait_until="commit")
        refused[1].goto(portal.link("cy").replace("token=", "token=x"), wait_until="commit")
        for page in refused:
            expect(page.locator(".nbl-portal-refused")).to_be_visible(timeout=PAGE_MS)
            expect(page.get_by_test_id("nbl-root")).to_have_count(0)
    except BaseException:
        print(f"--- the portal's Voilà log (tail) ---\n{portal.log_tail()}")
        raise
    finally:
        for ctx in contexts.values():
            ctx.close()
        portal.stop()


def _sigkill_tree(pid: int) -> None:
    """SIGKILL a server and every process it started (Voilà's kernels), as a crash would."""
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=10)


def test_portal_killed_mid_labeling_loses_no_acknowledged_answer(browser: Any, in_tmp: Path) -> None:
    job = nl.Job("crash", _texts(5), nl.TextClassification(LABELS))
    portal = job.serve(["ana"])
    link = portal.link("ana")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(link, wait_until="commit")  # Voilà streams the page as its cell runs
        root = _root(page)
        focus(root)
        for _ in range(2):
            assert _answer(root, "1")
        all_saved(root)
        root.press("1")  # in flight when the server dies: kept in the page, re-sent later
        assert portal.pid is not None
        _sigkill_tree(portal.pid)
        job.refresh()
        assert len([a for k in job.keys for a in job.answers(k)]) >= 2  # the acknowledged ones

        portal = job.serve(port=portal.port)  # no new links: ana's keeps working
        page.goto(link, wait_until="commit")  # Voilà streams the page as its cell runs
        root = _root(page)
        wait_item(root, timeout=PAGE_MS)
        all_saved(root)
        job.refresh()
        assert len([a for k in job.keys for a in job.answers(k)]) == 3  # the re-sent one, once
        assert root.get_attribute("data-item-key") not in {a.item for k in job.keys for a in job.answers(k)}
        focus(root)
        while _answer(root, "1"):
            pass
        all_saved(root)
        job.refresh()
        assert job.progress.labeled == 5
        assert sorted(a.annotator for k in job.keys for a in job.answers(k)) == ["ana"] * 5
    finally:
        context.close()
        portal.stop()


@contextmanager
def _ana_pages(browser: Any, jobs: list[nl.Job]) -> Iterator[list[tuple[Any, Any]]]:
    """Serve each job to "ana" (the Voilà servers start side by side) and open her page of each
    in one browser context: ``(page, widget root)`` per job, every kernel starting at once."""
    portals: list[Any] = []
    context = browser.new_context()
    try:
        with ThreadPoolExecutor(len(jobs)) as pool:
            started = [pool.submit(job.serve, ["ana"]) for job in jobs]
        portals += [f.result() for f in started if f.exception() is None]
        for future in started:
            future.result()  # a server that did not start fails the test; the others stop below
        pages = [context.new_page() for _ in portals]
        for page, portal in zip(pages, portals, strict=True):
            page.goto(portal.link("ana"), wait_until="commit")
        yield [(page, _root(page)) for page in pages]
    except BaseException:
        for portal in portals:
            print(f"--- the portal's Voilà log (tail) ---\n{portal.log_tail()}")
        raise
    finally:
        context.close()
        for portal in portals:
            portal.stop()


def _only_answer(job: nl.Job) -> Any:
    """The job's one stored answer, which must be ana's."""
    job.refresh()
    (answer,) = [a for k in job.keys for a in job.answers(k)]
    assert answer.annotator == "ana"
    return answer


def test_image_boxes_image_classes_and_named_entities_through_the_portal(browser: Any, in_tmp: Path) -> None:
    refs = make_images(in_tmp / "images", 2, size=(640, 480))
    boxes = nl.Job("scenes", pd.DataFrame({"source-ref": refs}), nl.BoundingBox(["car", "person"]))
    classes = nl.Job("photos", pd.DataFrame({"source-ref": refs}), nl.ImageClassification(["car", "person"]))
    notes = nl.Job(
        "notes",
        pd.DataFrame({"source": ["Ann met Bob in Bern", "no one"]}),
        nl.NamedEntities(["Person", "Place"]),
    )
    with _ana_pages(browser, [boxes, notes, classes]) as [
        (box_page, box_root),
        (note_page, note_root),
        (class_page, class_root),
    ]:
        wait_item(box_root, timeout=PAGE_MS)
        focus(box_root)
        stage = Stage(SimpleNamespace(page=box_page), box_root)  # Stage drives the mouse of a page
        stage.drag(stage.screen(100, 100), stage.screen(300, 200))
        first = box_root.get_attribute("data-item-key")
        for key in ("2", "Enter"):  # the drawn box becomes a person, then the answer goes
            box_page.keyboard.press(key)
        expect(box_root).not_to_have_attribute("data-item-key", first)
        all_saved(box_root)

        wait_item(note_root, timeout=PAGE_MS)
        focus(note_root)
        for key in ("ArrowRight", "1", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight", "2", "Enter"):
            note_page.keyboard.press(key)  # "Ann" a person, "Bern" a place
        all_saved(note_root)

        wait_item(class_root, timeout=PAGE_MS)
        expect(class_root.get_by_test_id("nbl-image")).not_to_have_js_property("naturalWidth", 0)  # decoded
        focus(class_root)
        class_page.keyboard.press("2")
        all_saved(class_root)
    (drawn,) = _only_answer(boxes).value["annotations"]
    assert drawn["class_id"] == 1 and abs(drawn["width"] - 200) <= 2 and abs(drawn["height"] - 100) <= 2
    assert _only_answer(notes).value == [
        {"label": "Person", "startOffset": 0, "endOffset": 3},
        {"label": "Place", "startOffset": 15, "endOffset": 19},
    ]
    photo = _only_answer(classes)
    assert (photo.item, photo.value) == (classes.keys[0], "person")


def test_segmentation_verification_and_a_gt_template_through_the_portal(browser: Any, in_tmp: Path) -> None:
    refs = make_images(in_tmp / "images", 2, size=(320, 240))
    masks = nl.Job("masks", pd.DataFrame({"source-ref": refs}), nl.SemanticSegmentation(["road", "sky"]))
    checked = pd.DataFrame(
        {
            "source-ref": refs,
            "species": [0, 1],
            "species-metadata": [{"class-name": "cat"}, {"class-name": "dog"}],
        }
    )
    verify = nl.Job("checks", checked, nl.LabelVerification("species"))
    custom = nl.Job("pets", pd.DataFrame({"source-ref": refs}), nl.CustomTask(GT_IMAGE_CLASSIFICATION))
    with _ana_pages(browser, [masks, verify, custom]) as [
        (p1, mask_root),
        (p2, verify_root),
        (p3, custom_root),
    ]:
        wait_item(mask_root, timeout=PAGE_MS)
        focus(mask_root)
        for key in ("2", "r"):  # every pixel sky
            p1.keyboard.press(key)
        expect(mask_root).to_have_attribute("data-painted", str(320 * 240))
        p1.keyboard.press("Enter")
        all_saved(mask_root)

        wait_item(verify_root, timeout=PAGE_MS)
        focus(verify_root)
        p2.keyboard.press("2")  # the first label is incorrect
        all_saved(verify_root)

        wait_item(custom_root, timeout=PAGE_MS)
        template = custom_root.get_by_test_id("nbl-template")
        expect(template.locator("crowd-image-classifier img")).to_have_js_property("naturalWidth", 320)
        focus(custom_root)
        for key in ("2", "Control+Enter"):  # Dog, submitted
            p3.keyboard.press(key)
        all_saved(custom_root)
    mask = _only_answer(masks)
    assert mask.item == masks.keys[0]
    with Image.open(mask.value["mask"]) as png:
        assert png.size == (320, 240) and set(np.unique(np.asarray(png))) == {2}
    verdict = _only_answer(verify)
    assert (verdict.item, verdict.value) == (verify.keys[0], {"verdict": "incorrect", "comment": ""})
    pet = _only_answer(custom)
    assert (pet.item, pet.value) == (custom.keys[0], {"crowd-image-classifier": {"label": "Dog"}})


def _responses(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": [f"prompt {i}" for i in range(n)],
            "response_a": [f"first answer to prompt {i}" for i in range(n)],
            "response_b": [f"second answer to prompt {i}" for i in range(n)],
        }
    )


def test_pairwise_ranking_and_rating_through_the_portal(browser: Any, in_tmp: Path) -> None:
    pairs = nl.Job("pairs", _responses(2), nl.Pairwise())
    ranks = nl.Job("ranks", _responses(2), nl.Ranking())
    rates = nl.Job(
        "rates", _responses(2), nl.Rating((1, 5), comment=False, responses=("response_a", "response_b"))
    )
    jobs = [pairs, ranks, rates]
    keys = [("b",), ("2", "1", "Enter"), ("4", "2", "Enter")]
    with _ana_pages(browser, jobs) as opened:
        for (page, root), pressed in zip(opened, keys, strict=True):
            wait_item(root, timeout=PAGE_MS)
            expect(root.get_by_test_id("nbl-pref-item")).to_contain_text("second answer to prompt 0")
            focus(root)
            for key in pressed:
                page.keyboard.press(key)
            expect(root.get_by_test_id("nbl-position")).to_have_text("Item 2 of 2")
            all_saved(root)
    assert _only_answer(pairs).value == {"choice": "B"}
    assert _only_answer(ranks).value == {
        "ordinalRankingDimensions": [{"name": "Overall", "responseRankings": [2, 1]}]
    }
    assert _only_answer(rates).value == {"ratingDimensions": [{"name": "Overall", "responseRatings": [4, 2]}]}
