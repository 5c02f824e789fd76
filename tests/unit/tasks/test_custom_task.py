"""Custom tasks: template rendering, GT's filters and autoescape, pre/post shapes, output.

The expected values are GT's own documented examples (SMDG sms-custom-templates-step2.md for
the filters, sms-custom-templates-step3-lambda-requirements.md for the Lambda shapes,
gt-formats.md §2.9/§5.3–5.4).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from recorder import Recorder

import nblabel as nl
from nblabel.formats.gt import WorkerResponseError, worker_responses
from nblabel.tasks.custom import default_pre
from nblabel.tasks.templating import SUPPORTED_ELEMENTS, TemplateError, WorkerTemplate

pytest_plugins = ["s3_fixtures"]

ROOT = Path(__file__).resolve().parents[3]
FORM = '<crowd-form><crowd-input name="c"></crowd-input>{{ task.input.source }}</crowd-form>'


def texts(*sources: str) -> pd.DataFrame:
    return pd.DataFrame({"source": list(sources)})


# -- rendering, filters, autoescape ------------------------------------------------------------


def test_filters_render_as_gt_documents_them() -> None:
    # SMDG sms-custom-templates-step2.md, "Example of the filters": GT's input strings, given as
    # data (a string literal in the template itself is template source and is not escaped).
    template = WorkerTemplate(
        "auto-escape: {{ task.input.plain }}\n"
        "explicit escape: {{ task.input.plain | escape }}\n"
        "explicit escape_once: {{ task.input.escaped | escape_once }}\n"
        "skip_autoescape: {{ task.input.plain | skip_autoescape }}\n"
        "to_json: {{ task.input.jsObject | to_json }}"
    )
    out = template.render(
        {
            "plain": "Have you read 'James & the Giant Peach'?",
            "escaped": "Have you read 'James &amp; the Giant Peach'?",
            "jsObject": {"point_number": 8, "coords": [59, 76]},
        }
    )
    assert out.splitlines() == [
        "auto-escape: Have you read &#39;James &amp; the Giant Peach&#39;?",
        "explicit escape: Have you read &#39;James &amp; the Giant Peach&#39;?",
        "explicit escape_once: Have you read &#39;James &amp; the Giant Peach&#39;?",
        "skip_autoescape: Have you read 'James & the Giant Peach'?",
        'to_json: {"point_number": 8, "coords": [59, 76]}',
    ]


def test_data_is_escaped_and_to_json_cannot_close_a_tag() -> None:
    evil = "</script><img src=x onerror=alert(1)>'"
    template = WorkerTemplate(
        "<p>{{ task.input.text }}</p><script>var d = {{ task.input | to_json }};</script>"
        "<crowd-classifier categories='{{ task.input.labels | to_json }}'></crowd-classifier>"
    )
    out = template.render({"text": evil, "labels": [evil]})
    assert "<img" not in out and out.count("</script>") == 1
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#39;" in out
    # The JSON still means the same value.
    script = re.search(r"var d = (.*);</script>", out).group(1)
    assert json.loads(script) == {"text": evil, "labels": [evil]}
    assert "'" not in out.split("categories=")[1].split("'")[1]


def test_liquid_features_and_hyphenated_manifest_keys() -> None:
    # GT's chained-job example reads task.input.manifestLine.<attr>-metadata.class-map[...]
    template = WorkerTemplate(
        "{% for box in task.input.manifestLine.prior.annotations %}"
        "{% capture id %}{{ box.class_id }}{% endcapture %}"
        "{{ task.input.manifestLine.prior-metadata.class-map[id] }}:{{ box.left }};"
        "{% endfor %}{{ task.input.missing }}|{{ task.input.n | plus: 1 }}"
    )
    line = {
        "prior": {"annotations": [{"class_id": 1, "left": 5}, {"class_id": 0, "left": 7}]},
        "prior-metadata": {"class-map": {"0": "cat", "1": "dog"}},
    }
    assert template.render({"manifestLine": line, "n": 2}) == "dog:5;cat:7;|3"


def test_gt_element_script_is_dropped() -> None:
    out = WorkerTemplate(
        '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>\n<crowd-form></crowd-form>'
    ).render({})
    assert "assets.crowd.aws" not in out and "<crowd-form>" in out


def test_grant_read_access_local_files_become_data_urls(tmp_path: Path) -> None:
    img = tmp_path / "pic.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    template = WorkerTemplate('<img src="{{ task.input.ref | grant_read_access }}">')
    url = re.search(r'src="([^"]+)"', template.render({"ref": str(img)})).group(1)
    head, data = url.split(",", 1)
    assert head == "data:image/png;base64"
    assert base64.b64decode(data) == img.read_bytes()
    assert "https://example.com/a.jpg" in template.render({"ref": "https://example.com/a.jpg"})
    with pytest.raises(TemplateError, match=r"grant_read_access: .*missing\.jpg': file not found"):
        template.render({"ref": str(tmp_path / "missing.jpg")})


def test_grant_read_access_follows_the_jobs_media_root_rule(tmp_path: Path) -> None:
    images, secret = tmp_path / "images", tmp_path / "secret.png"
    images.mkdir()
    (images / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nimage")
    secret.write_bytes(b"\x89PNG\r\n\x1a\nsecret")
    climbing = str(images / ".." / "secret.png")
    template = WorkerTemplate('<img src="{{ task.input.ref | grant_read_access }}">')
    with pytest.raises(TemplateError, match=r"grant_read_access: '.*secret\.png': climbs out .*media_root"):
        template.render({"ref": climbing})
    assert "data:image/png" in template.render({"ref": str(images / "a.png")}, media_root=images)
    with pytest.raises(TemplateError, match=r"grant_read_access: '.*secret\.png': is outside media_root"):
        template.render({"ref": str(secret)}, media_root=images)
    assert "data:image/png" in template.render({"ref": climbing}, media_root=tmp_path)


def test_a_manifest_cannot_point_the_widget_at_files_outside_media_root(tmp_path: Path) -> None:
    # The default pre-annotation function keeps a line's own taskObject: the job's source-ref
    # check does not see it, the widget's rendering does.
    (tmp_path / "images").mkdir()
    (tmp_path / "secret.txt").write_text("not for the browser")
    df = pd.DataFrame(
        {"source": ["a", "b"], "taskObject": [str(tmp_path / "images" / ".." / "secret.txt"), "https://x/y"]}
    )
    task = nl.CustomTask(
        '<crowd-form><img src="{{ task.input.taskObject | grant_read_access }}"></crowd-form>'
    )
    job = nl.Job("rooted-custom", df, task, media_root=tmp_path / "images")
    widget = job.annotate()
    try:
        (refused, shown), _ = widget._payloads([0, 1])
        assert "html" not in refused and "is outside media_root" in refused["error"]
        assert 'src="https://x/y"' in shown["html"]
    finally:
        widget.close()


def test_grant_read_access_presigns_s3(s3_env, bucket: str, s3_direct) -> None:
    s3_direct.put_object(Bucket=bucket, Key="imgs/a b.jpg", Body=b"jpeg bytes")
    template = WorkerTemplate('<img src="{{ task.input.taskObject | grant_read_access }}">')
    html = template.render({"taskObject": f"s3://{bucket}/imgs/a b.jpg"})
    url = re.search(r'src="([^"]+)"', html).group(1).replace("&amp;", "&")  # autoescaped in HTML
    assert url.startswith("http") and "X-Amz-Signature=" in url and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as resp:
        assert resp.read() == b"jpeg bytes"


# -- loading -------------------------------------------------------------------------------------


def test_only_elements_gt_does_not_have_are_refused_and_named() -> None:
    task = nl.CustomTask(
        "<crowd-form><crowd-semantic-segmentation name='m'></crowd-semantic-segmentation>"
        "<crowd-polyline name='p'></crowd-polyline><crowd-input name='x'></crowd-input></crowd-form>"
    )
    assert task.template.elements == {
        "crowd-form",
        "crowd-semantic-segmentation",
        "crowd-polyline",
        "crowd-input",
    }
    with pytest.raises(TemplateError) as info:
        nl.CustomTask(
            "<crowd-sldier name='x'></crowd-sldier><crowd-fancy></crowd-fancy><crowd-tabs></crowd-tabs>"
        )
    message = str(info.value)
    assert message.startswith(
        "the template: <crowd-fancy>, <crowd-sldier> are not Ground Truth crowd elements"
    )
    assert "crowd-tabs>" not in message.split("(")[0]
    # A tag only named in a comment is not used (GT's own custom-instructions-width sample).
    assert nl.CustomTask(
        "<!-- works with <crowd-nothing> too --><crowd-form></crowd-form>"
    ).template.elements == {"crowd-form"}


def test_template_files_and_liquid_errors_are_named(tmp_path: Path) -> None:
    path = tmp_path / "task.liquid.html"
    path.write_text(FORM)
    task = nl.CustomTask(path)
    assert task.template.origin == str(path) and task.template.elements == {"crowd-form", "crowd-input"}
    assert nl.CustomTask(str(path)).template.source == FORM
    with pytest.raises(TemplateError, match=r"template file not found: .*nope\.html"):
        nl.CustomTask(str(tmp_path / "nope.html"))
    bad = tmp_path / "bad.html"
    bad.write_text("<crowd-form>\n{% if x %}\n{{ y }\n</crowd-form>")
    with pytest.raises(TemplateError, match=r"(?s)bad\.html: the Liquid does not parse: .*3:0"):
        nl.CustomTask(bad)


def test_js_and_python_support_the_same_elements() -> None:
    index = (ROOT / "js" / "crowd" / "index.js").read_text()
    listed = re.search(r"export const ELEMENTS = \[(.*?)\];", index, re.S).group(1)
    assert tuple(re.findall(r'"(crowd-[a-z-]+)"', listed)) == SUPPORTED_ELEMENTS
    defined = set()
    for module in (ROOT / "js" / "crowd").glob("*.js"):
        defined.update(re.findall(r'define\(\s*"(crowd-[a-z-]+)"', module.read_text()))
    assert defined == set(SUPPORTED_ELEMENTS)


# -- pre-annotation --------------------------------------------------------------------------------


def test_default_pre_is_gts_shape_with_the_line_as_task_input() -> None:
    line = {"source-ref": "s3://b/a.jpg", "extra": 1}
    assert default_pre(line) == {
        "taskInput": {"source-ref": "s3://b/a.jpg", "extra": 1, "taskObject": "s3://b/a.jpg"},
        "isHumanAnnotationRequired": "true",
    }
    assert default_pre({"source": "hi", "taskObject": "kept"})["taskInput"]["taskObject"] == "kept"


def test_a_lambda_style_pre_function_runs_unchanged() -> None:
    # A pre-annotation Lambda in GT's documented shape (request -> response), adapted as the
    # CustomTask docstring says.
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert event["version"] == "2018-10-16"
        source = event["dataObject"].get("source-ref") or event["dataObject"]["source"]
        return {"taskInput": {"taskObject": source, "n": 2}, "isHumanAnnotationRequired": "true"}

    task = nl.CustomTask(
        "<crowd-form><p>{{ task.input.taskObject }} x{{ task.input.n }}</p></crowd-form>",
        pre=lambda d: lambda_handler({"version": "2018-10-16", "dataObject": d}, None),
    )
    task_input, required = task.pre_annotate({"source": "a & b"}, "k1")
    assert required and task.render(task_input) == "<crowd-form><p>a &amp; b x2</p></crowd-form>"
    for flag, want in (("false", False), (False, False), ("true", True), (True, True)):
        t = nl.CustomTask(FORM, pre=lambda d, f=flag: {"taskInput": d, "isHumanAnnotationRequired": f})
        assert t.pre_annotate({"source": "x"})[1] is want
    broken = nl.CustomTask(FORM, pre=lambda d: {"input": d})
    with pytest.raises(ValueError, match=r"item k9: the pre-annotation function must return .*taskInput"):
        broken.pre_annotate({"source": "x"}, "k9")
    failing = nl.CustomTask(FORM, pre=lambda d: 1 / 0)
    with pytest.raises(ValueError, match=r"item k9: the pre-annotation function failed: ZeroDivisionError"):
        failing.pre_annotate({"source": "x"}, "k9")


# -- answers, post-annotation, output --------------------------------------------------------------

ANSWER = {"category": {"label": "Cat"}, "comment": "fluffy"}


def test_answers_are_stored_and_land_under_the_attribute_as_groundtruth_custom() -> None:
    job = nl.Job("pets", pd.DataFrame({"source-ref": ["a.jpg", "b.jpg"], "x": [1, 2]}), nl.CustomTask(FORM))
    job.label(0, ANSWER)
    with pytest.raises(ValueError, match=r"item b\.jpg: a custom task's answer is a JSON object"):
        job.label(1, "Cat")
    out = job.to_dataframe()
    assert out.at[0, "pets"] == ANSWER
    meta = out.at[0, "pets-metadata"]
    assert meta["type"] == "groundtruth/custom" and meta["job-name"] == "labeling-job/pets"
    assert meta["human-annotated"] == "yes" and set(meta) == {
        "type",
        "job-name",
        "human-annotated",
        "creation-date",
    }
    assert pd.isna(out.at[1, "pets"])
    assert worker_responses(job.task, {0: job.answers(0)})[0][0]["answerContent"] == ANSWER


def test_post_gets_gts_payload_and_its_content_becomes_the_label(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def post(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # RECIPE's sample consolidation, plus GT's documented response shape.
        seen.append(payload)
        return [
            {
                "datasetObjectId": entry["datasetObjectId"],
                "consolidatedAnnotation": {
                    "content": {
                        "tweets": {
                            "votes": [
                                json.loads(a["annotationData"]["content"]) for a in entry["annotations"]
                            ]
                        }
                    }
                },
            }
            for entry in payload
            if entry["datasetObjectId"] != "2"  # GT writes no label for an item left out
        ]

    job = nl.Job("tweets", texts("a", "b", "c"), nl.CustomTask(FORM, post=post), annotator="ana")
    job.label(0, {"c": "first"})
    job.label(0, {"c": "second"}, annotator="bob")
    job.label(2, {"c": "third"})
    out = job.to_dataframe()
    (payload,) = seen
    assert payload == [
        {
            "datasetObjectId": "0",
            "dataObject": {"content": "a"},
            "annotations": [
                {"workerId": "ana", "annotationData": {"content": '{"c": "first"}'}},
                {"workerId": "bob", "annotationData": {"content": '{"c": "second"}'}},
            ],
        },
        {
            "datasetObjectId": "2",
            "dataObject": {"content": "c"},
            "annotations": [{"workerId": "ana", "annotationData": {"content": '{"c": "third"}'}}],
        },
    ]
    assert out.at[0, "tweets"] == {"votes": [{"c": "first"}, {"c": "second"}]}
    assert out.at[0, "tweets-metadata"]["type"] == "groundtruth/custom"
    assert pd.isna(out.at[1, "tweets"]) and pd.isna(out.at[2, "tweets"])


def test_post_answers_in_another_shape_are_refused_with_the_reason() -> None:
    cases = [
        (lambda p: {"nope": 1}, r"must return a list"),
        (lambda p: [{"datasetObjectId": "0"}], r"entry 0 lacks datasetObjectId or consolidatedAnnotation"),
        (
            lambda p: [{"datasetObjectId": "7", "consolidatedAnnotation": {"content": {}}}],
            r"'7' was not in the payload",
        ),
        (
            lambda p: [{"datasetObjectId": "0", "consolidatedAnnotation": {"content": {"x": 1}}}],
            r"no 'j' key",
        ),
        (lambda p: 1 / 0, r"post-annotation function failed: ZeroDivisionError"),
    ]
    for post, message in cases:
        job = nl.Job("j", texts("a"), nl.CustomTask(FORM, post=post), store=f"s{len(message)}.sqlite")
        job.label(0, {"c": "x"})
        with pytest.raises(ValueError, match=message):
            job.to_dataframe()


def test_export_writes_gt_layout_for_custom_answers(tmp_path: Path) -> None:
    job = nl.Job("custom-export", texts("a", "b"), nl.CustomTask(FORM))
    job.label(1, ANSWER)
    result = job.export(tmp_path / "out")
    base = tmp_path / "out" / "custom-export"
    lines = [json.loads(x) for x in (base / "manifests/output/output.manifest").read_text().splitlines()]
    assert (
        lines[1]["custom-export"] == ANSWER
        and lines[1]["custom-export-metadata"]["type"] == "groundtruth/custom"
    )
    (response,) = (base / "annotations/worker-response/iteration-1/1").glob("*.json")
    assert json.loads(response.read_text())["answers"][0]["answerContent"] == ANSWER
    assert result.worker_responses == 1


def test_exported_worker_responses_import_back_whole(tmp_path: Path) -> None:
    # Several people's custom answers travel as GT's worker-response files and come back as the
    # same form outputs, for the post-annotation function to consolidate.
    job = nl.Job("custom-out", texts("a", "b"), nl.CustomTask(FORM), annotator="ana")
    job.label(1, ANSWER)
    job.label(1, {"c": "other"}, annotator="bob")
    job.export(tmp_path / "out")
    again = nl.Job("custom-in", texts("a", "b"), nl.CustomTask(FORM), store=tmp_path / "in.sqlite")
    assert again.import_answers(tmp_path / "out" / "custom-out") == 2
    assert again.import_answers(tmp_path / "out" / "custom-out") == 0
    assert [(a.annotator, a.value) for a in again.answers(1)] == [("ana", ANSWER), ("bob", {"c": "other"})]
    bad = tmp_path / "bad" / "iteration-1" / "0"
    bad.mkdir(parents=True)
    (bad / "x.json").write_text(
        '{"answers": [{"workerId": "w", "answerContent": [1], "submissionTime": "t"}]}'
    )
    with pytest.raises(WorkerResponseError, match=r"x\.json, answer 0: answerContent must be an object"):
        again.import_answers(tmp_path / "bad")


# -- the widget's Python side ---------------------------------------------------------------------


def test_widget_renders_items_and_leaves_out_items_pre_keeps_from_people() -> None:
    task = nl.CustomTask(
        "<crowd-form><p>{{ task.input.source }}</p></crowd-form>",
        pre=lambda d: {
            "taskInput": d,
            "isHumanAnnotationRequired": "false" if d["source"] == "b" else "true",
        },
    )
    job = nl.Job("w", texts("a<", "b", "c"), task)
    widget = job.annotate()
    try:
        assert type(widget).__name__ == "CustomWidget"
        recorder = Recorder()
        widget.send = recorder
        widget._on_custom(widget, {"type": "hello", "resend": []}, [])
        (message, _), *_ = recorder.wait_for("items")
        assert [i["html"] for i in message["items"]] == [
            "<crowd-form><p>a&lt;</p></crowd-form>",
            "<crowd-form><p>c</p></crowd-form>",
        ]
        assert message["exhausted"] is True
        key = message["items"][0]["key"]
        widget._on_custom(widget, {"type": "answer", "uid": "u1", "key": key, "value": ANSWER}, [])
        assert recorder.wait_for("ack")[0][0]["uids"] == ["u1"]
        widget._on_custom(widget, {"type": "answer", "uid": "u2", "key": key, "value": [1]}, [])
        assert "JSON object" in recorder.wait_for("rejected")[0][0]["reason"]
        assert job.to_dataframe().at[0, "w"] == ANSWER
        # Asked again, the widget neither renews its claim on the item kept from people (it
        # expires) nor sends it.
        expires = {c.item: c.expires for c in job.store.claims("w")}
        widget._on_custom(widget, {"type": "more", "count": 5, "exclude": []}, [])
        message = recorder.wait_for("items", 2)[1][0]
        assert [i["position"] for i in message["items"]] == [2]
        renewed = {c.item: c.expires for c in job.store.claims("w")}
        assert renewed[job.keys[1]] == expires[job.keys[1]] and renewed[job.keys[2]] > expires[job.keys[2]]
    finally:
        widget.close()


def test_a_broken_item_is_reported_on_the_item() -> None:
    job = nl.Job(
        "broken",
        pd.DataFrame({"source-ref": ["/nowhere/x.jpg"]}),
        nl.CustomTask('<crowd-form><img src="{{ task.input.taskObject | grant_read_access }}"></crowd-form>'),
    )
    widget = job.annotate()
    try:
        (item,), buffers = widget._payloads([0])
        assert buffers == []
        assert "html" not in item
        assert (
            item["error"].startswith("item /nowhere/x.jpg: grant_read_access: ")
            and "file not found" in item["error"]
        )
    finally:
        widget.close()
