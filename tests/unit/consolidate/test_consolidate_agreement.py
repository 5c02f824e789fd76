"""Agreement figures against published values, scikit-learn and statsmodels."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from nblabel.consolidate import agreement_table, cohen_kappa, fleiss_kappa, krippendorff_alpha
from nblabel.consolidate.agreement import category


def test_krippendorff_alpha_of_krippendorffs_own_example() -> None:
    # K. Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), example C:
    # 4 observers, 12 units, missing values; nominal alpha = 0.743.
    a = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
    b = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
    c = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
    d = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
    units = [[x for x in unit if x is not None] for unit in zip(a, b, c, d, strict=True)]
    assert round(krippendorff_alpha(units), 3) == 0.743


def test_fleiss_kappa_of_the_textbook_example() -> None:
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories; kappa = 0.210.
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    units = [[c for c, n in enumerate(row) for _ in range(n)] for row in table]
    assert round(fleiss_kappa(units), 3) == 0.210


def test_cohen_kappa_of_the_textbook_example() -> None:
    # Wikipedia's worked example: 50 proposals, both "yes" 20, A yes B no 5, A no B yes 10,
    # both "no" 15: observed 0.7, chance 0.5, kappa 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("abcd")), min_size=1, max_size=40))
def test_cohen_kappa_equals_scikit_learn(pairs: list[tuple[str, str]]) -> None:
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    ours = cohen_kappa(a, b)
    if len(set(a) | set(b)) == 1:
        assert math.isnan(ours)  # where scikit-learn warns and gives NaN
    else:
        assert ours == pytest.approx(cohen_kappa_score(a, b))


def test_cohen_kappa_of_categories_scikit_learn_cannot_take() -> None:
    # Multi-label answers are tuples (scikit-learn reads a list of them as a 2-D array), and an
    # int and a string must stay two categories (numpy would cast both to "1").
    a = [("cat", "dog"), ("cat",), ("dog",), 1]
    b = [("cat", "dog"), ("dog",), ("dog",), "1"]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score([0, 1, 2, 3], [0, 2, 2, 4]))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda raters: st.lists(
            st.lists(st.sampled_from("abcd"), min_size=raters, max_size=raters), min_size=1, max_size=30
        )
    )
)
def test_fleiss_kappa_equals_statsmodels_when_every_item_has_the_same_raters(units: list[list[str]]) -> None:
    # statsmodels' fleiss_kappa takes only items with equal numbers of answers; ours takes any.
    ours = fleiss_kappa(units)
    if len({c for u in units for c in u}) == 1:
        assert math.isnan(ours)
        return
    cats = sorted({c for u in units for c in u})
    table = [[u.count(c) for c in cats] for u in units]
    assert ours == pytest.approx(statsmodels_fleiss_kappa(table, method="fleiss"))


def test_degenerate_cases_are_nan() -> None:
    assert math.isnan(cohen_kappa([], []))
    assert math.isnan(cohen_kappa(["a", "a"], ["a", "a"]))  # one category only
    assert math.isnan(fleiss_kappa([["a"], ["b"]]))  # nobody rated an item twice
    assert math.isnan(krippendorff_alpha([["a"], ["b"]]))
    assert math.isnan(krippendorff_alpha([]))
    assert math.isnan(fleiss_kappa([["a", "a"], ["a", "a"]]))  # one category only
    assert math.isnan(krippendorff_alpha([["a", "a"], ["a", "a"]]))
    # One category among the items answered twice: the single answers do not count.
    assert math.isnan(krippendorff_alpha([["a", "a"], ["b"], ["c"]]))
    with pytest.raises(ValueError, match="different lengths"):
        cohen_kappa(["a"], ["a", "b"])


def test_perfect_and_systematic_disagreement() -> None:
    same = [["x", "x"], ["y", "y"], ["z", "z"]]
    assert fleiss_kappa(same) == pytest.approx(1.0)
    assert krippendorff_alpha(same) == pytest.approx(1.0)
    opposite = [["x", "y"], ["y", "x"]] * 5
    assert fleiss_kappa(opposite) < 0 and krippendorff_alpha(opposite) < 0


def test_table_rows() -> None:
    answers = {
        1: [("ana", "cat"), ("bo", "cat"), ("cy", "dog")],
        2: [("ana", "dog"), ("bo", "dog"), ("cy", "dog")],
        3: [("ana", "cat"), ("bo", "dog")],
        4: [("cy", "cat")],
    }
    table = agreement_table(answers, {1: "cat", 2: "dog", 3: "cat"}, {"ana": 0.9})
    whole = table.set_index("measure").loc[["fleiss_kappa", "krippendorff_alpha"]]
    assert list(whole["items"]) == [3, 3]  # item 4 has one answer
    pairs = table[table["measure"] == "cohen_kappa"]
    assert [(r.annotator, r.other, r.items) for r in pairs.itertuples()] == [
        ("ana", "bo", 3),
        ("ana", "cy", 2),
        ("bo", "cy", 2),
    ]
    assert pairs.iloc[0]["value"] == pytest.approx(cohen_kappa(["cat", "dog", "cat"], ["cat", "dog", "dog"]))
    mine = table[table["measure"] == "agreement_with_consolidated"].set_index("annotator")["value"]
    assert mine.to_dict() == {"ana": 1.0, "bo": pytest.approx(2 / 3), "cy": 0.5}
    assert table[table["measure"] == "quality"]["annotator"].tolist() == ["ana"]


def test_multilabel_answers_are_one_category_each() -> None:
    assert category(["dog", "cat"]) == category(["cat", "dog"])
    assert category({"a": [1]}) == '{"a":[1]}'
    answers = {
        1: [("ana", ["dog", "cat"]), ("bo", ["cat", "dog"])],
        2: [("ana", ["cat"]), ("bo", ["dog"])],
        3: [("ana", ["dog"]), ("bo", ["dog"])],
    }
    figures = agreement_table(answers).set_index("measure")["value"]
    # Categories {cat, dog}, {cat}, {dog}: observed 2/3, chance 1/3·1/3 + 1/3·2/3 = 1/3.
    assert figures["cohen_kappa"] == pytest.approx(0.5)
    assert figures["krippendorff_alpha"] == pytest.approx(krippendorff_alpha([[0, 0], [1, 2], [2, 2]]))


def test_classes_with_frame_attributes_agree_on_the_class_alone() -> None:
    # GT's classifier answer with frame attributes: the class is what people agree on or not.
    sunny = {"label": "dog", "frame-attributes": {"weather": "sunny"}}
    rainy = {"label": "dog", "frame-attributes": {"weather": "rain"}}
    assert category(sunny) == category(rainy) == "dog"
    assert category({"labels": ["dog", "cat"], "frame-attributes": {}}) == ("cat", "dog")
    assert category({"label": "dog", "other": 1}) == '{"label":"dog","other":1}'  # not that shape
    answers = {
        1: [("ana", sunny), ("bo", rainy)],
        2: [("ana", "cat"), ("bo", {"label": "cat"})],
        3: [("ana", "cat"), ("bo", rainy)],
    }
    plain = {
        1: [("ana", "dog"), ("bo", "dog")],
        2: [("ana", "cat"), ("bo", "cat")],
        3: [("ana", "cat"), ("bo", "dog")],
    }
    pd.testing.assert_frame_equal(agreement_table(answers), agreement_table(plain))
