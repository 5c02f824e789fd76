"""The entity tagger: tokens (CJK one per character), features, learning from answers,
exact code-point offsets with emoji and CJK, and confidences from the CRF's marginals."""

from __future__ import annotations

import random

import pytest
from entity_helpers import synthetic_doc, synthetic_docs

from nblabel.autolabel.tagger import EntityTagger, document_features, span_scores, tagger_tokens
from nblabel.text import tokenize


def words(text: str) -> list[str]:
    return [text[s:e] for s, e in tagger_tokens(text)]


def test_tokens_are_the_export_tokenizer_plus_one_per_cjk_character() -> None:
    latin = "Zoë met Ann-Marie in Zürich 🇨🇭 👋🏽 on 2024-02-29."
    assert tagger_tokens(latin) == tokenize(latin)
    assert words("田中さんは東京に住んでいます。") == list("田中さんは東京に住んでいます。")
    assert words("昨日 Tokyo タワー 🍣 2024年") == ["昨", "日", "Tokyo", "タ", "ワ", "ー", "🍣", "2024", "年"]


def test_features_describe_shape_case_script_and_neighbours() -> None:
    ((_, features),) = document_features(["Ann met 李雷 in Zürich 2024"])
    assert [f["lower"] for f in features] == ["ann", "met", "李", "雷", "in", "zürich", "2024"]
    ann, li, zurich, year = features[0], features[2], features[5], features[6]
    assert (ann["shape"], ann["title"], ann["-1:edge"], ann["1:lower"]) == ("Xxx", True, True, "met")
    assert (li["script"], li["1:script"], li["space"], features[3]["space"]) == ("han", "han", True, False)
    assert (zurich["s3"], zurich["p2"], zurich["-1:lower"]) == ("ich", "zü", "in")
    assert (year["shape"], year["digit"], year["1:edge"]) == ("dd", True, True)
    assert document_features([None])[0] == ([], [])


def test_tagger_learns_entities_of_unseen_names_from_synthetic_texts() -> None:
    train = synthetic_docs(60, seed=1, part=0)
    test = synthetic_docs(100, seed=2, part=1)  # other names and places than in training
    tagger = EntityTagger().fit(list(train.source), list(train.gold))
    found = tagger.predict(list(test.source))
    scores = span_scores(list(test.gold), [entities for entities, _ in found])
    # The bar: exact spans (label and both offsets) on texts whose names were never seen.
    assert scores["precision"] >= 0.9, scores
    assert scores["recall"] >= 0.9, scores


def test_offsets_are_exact_code_points_with_emoji_flags_and_cjk() -> None:
    rng = random.Random(3)
    train = [synthetic_doc(rng) for _ in range(80)]
    tagger = EntityTagger().fit([t for t, _ in train], [e for _, e in train])
    texts = [
        "Yesterday Ann Smith met Bruno Okafor in Zürich 👋.",
        "Chloé Dubois 🎉 flew from São Paulo to Oslo on Monday.",
        "We asked Ann García about the weather in New York 🇨🇭 and she laughed.",
        "佐藤さんは京都に住んでいます。",
        "昨日田中さんと東京で会いました 🍣。",
    ]
    expected = [
        [("Person", "Ann Smith"), ("Person", "Bruno Okafor"), ("Place", "Zürich")],
        [("Person", "Chloé Dubois"), ("Place", "São Paulo"), ("Place", "Oslo")],
        [("Person", "Ann García"), ("Place", "New York")],
        [("Person", "佐藤"), ("Place", "京都")],
        [("Person", "田中"), ("Place", "東京")],
    ]
    for text, want, (entities, confidence) in zip(texts, expected, tagger.predict(texts), strict=True):
        assert [(e["label"], text[e["startOffset"] : e["endOffset"]]) for e in entities] == want, text
        assert all(0 < e["confidence"] <= 1 for e in entities)
        assert confidence == min(e["confidence"] for e in entities)
    # The flag (two code points) and the emoji sit before "New York": offsets count code points.
    third = tagger.predict([texts[2]])[0][0]
    assert third[1]["startOffset"] == texts[2].index("New York")


def test_confidence_is_the_lowest_marginal_of_a_spans_tags() -> None:
    rng = random.Random(4)
    train = [synthetic_doc(rng) for _ in range(40)]
    tagger = EntityTagger().fit([t for t, _ in train], [e for _, e in train])
    text = "Yesterday Ann Smith met Bruno Okafor in Zürich 👋."
    ((spans, features),) = document_features([text])
    marginals = tagger._fitted.predict_marginals([features])[0]
    tags = tagger._fitted.predict([features])[0]
    entities, _ = tagger.predict([text])[0]
    for e in entities:
        inside = [k for k, (s, end) in enumerate(spans) if e["startOffset"] <= s and end <= e["endOffset"]]
        assert tags[inside[0]] == f"B-{e['label']}"
        assert e["confidence"] == round(min(marginals[k][tags[k]] for k in inside), 4)
    # Nothing proposed: the text's confidence is how sure the model is of "O" everywhere.
    (nothing, confidence) = tagger.predict(["a note about the weather"])[0]
    assert nothing == [] and 0.5 < confidence <= 1


def test_training_needs_an_entity_and_prediction_a_trained_model() -> None:
    with pytest.raises(ValueError, match="at least one answer with an entity"):
        EntityTagger().fit(["no names here"], [[]])
    with pytest.raises(RuntimeError, match="not trained"):
        EntityTagger().predict(["text"])


def test_span_scores_count_exact_spans_only() -> None:
    gold = [[{"label": "Person", "startOffset": 0, "endOffset": 3}], []]
    near = [[{"label": "Person", "startOffset": 0, "endOffset": 4}], []]
    assert span_scores(gold, gold) == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "exact": 1.0}
    assert span_scores(gold, near) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "exact": 0.5}
