"""A sequence tagger for named entities, trained on people's answers: proposals with confidences.

Tokens
    :func:`nblabel.text.tokenize` (the rule the CoNLL export and the widget's keyboard
    cursor use), with one addition: every Han, Hiragana and Katakana character is a token of its
    own, since Chinese and Japanese write no spaces between words and a whole sentence would
    otherwise be one token. While training, entity boundaries also split tokens (as in the CoNLL
    export); when predicting they cannot, so an entity that starts or ends inside a word of
    another script is never proposed.
Tags
    IOB2 (``O``, ``B-<label>``, ``I-<label>``) over those tokens.
Model
    A linear-chain CRF (``sklearn-crfsuite``, L-BFGS with L1 + L2 penalties) on token features:
    lowercase form, prefixes and suffixes of 1-3 characters, word shape (``Xxxx``, ``dd-dd``),
    capitalisation, digits, the script of the token, whether a space precedes it, and the
    lowercase form, shape and capitalisation of the two tokens either side.
Confidence
    A span's confidence is the *minimum*, over its tokens, of the CRF's marginal probability of
    the tag the decoder gave that token (``B-<label>`` for the first, ``I-<label>`` after). It
    bounds the probability of the whole span from above and is low as soon as any one token is
    in doubt. A document's confidence is its lowest span confidence; a document with no span
    gets the lowest marginal of ``O`` over its tokens (how sure the model is that nothing is
    there).

Spans come back as code-point offsets (Python ``str`` indices), end exclusive.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nblabel.tasks.entities import outermost
from nblabel.text import tokenize, tokens_and_tags

__all__ = [
    "DocumentFeatures",
    "EntityTagger",
    "default_crf",
    "document_features",
    "span_scores",
    "tag_texts",
    "tagger_tokens",
]

Span = tuple[int, int]
DocumentFeatures = tuple[list[Span], list[dict[str, Any]]]
"""One text as the tagger reads it: token offsets and one feature dict per token."""

# Scripts written without spaces between words: each character is a token.
_CJK = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]"
)


def _cjk_breaks(text: str) -> set[int]:
    breaks: set[int] = set()
    for m in _CJK.finditer(text):
        breaks.update((m.start(), m.end()))
    return breaks


def tagger_tokens(text: str) -> list[Span]:
    """The tagger's tokens of ``text`` as code-point ``(start, end)`` offsets (see the module)."""
    return tokenize(text, _cjk_breaks(text))


def _shape(token: str) -> str:
    out: list[str] = []
    for ch in token:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if len(out) < 2 or out[-1] != c or out[-2] != c:  # runs longer than 2 shrink: Xxxxx -> Xxx
            out.append(c)
    return "".join(out)


def _script(token: str) -> str:
    ch = token[0]
    code = ord(ch)
    if 0x3040 <= code <= 0x309F:
        return "hira"
    if 0x30A0 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F:
        return "kata"
    if _CJK.match(ch):
        return "han"
    if ch.isdigit():
        return "digit"
    if ch.isalpha():
        return "latin" if code < 0x250 else "alpha"
    return "punct"


def _word(text: str, span: Span) -> dict[str, Any]:
    token = text[span[0] : span[1]]
    lower = token.lower()
    return {
        "lower": lower,
        "shape": _shape(token),
        "title": token[:1].isupper(),
        "upper": token.isupper(),
        "script": _script(token),
        "digit": any(ch.isdigit() for ch in token),
        "p1": lower[:1],
        "p2": lower[:2],
        "p3": lower[:3],
        "s1": lower[-1:],
        "s2": lower[-2:],
        "s3": lower[-3:],
        "len": min(len(token), 8),
        "space": span[0] == 0 or text[span[0] - 1].isspace(),
    }


_NEIGHBOUR_KEYS = ("lower", "shape", "title", "script")


def _features(text: str, spans: Sequence[Span]) -> list[dict[str, Any]]:
    words = [_word(text, s) for s in spans]
    out = []
    for i, word in enumerate(words):
        f: dict[str, Any] = {"bias": 1.0, **word}
        for d in (-2, -1, 1, 2):
            j = i + d
            if 0 <= j < len(words):
                for key in _NEIGHBOUR_KEYS:
                    f[f"{d}:{key}"] = words[j][key]
            else:
                f[f"{d}:edge"] = True
        if i > 0:
            f["-1|0"] = f"{words[i - 1]['lower']}|{word['lower']}"
        out.append(f)
    return out


def document_features(texts: Sequence[Any]) -> list[DocumentFeatures]:
    """Tokens and token features of each text (anything but a string counts as empty).

    This is the featurizer the auto-labeler caches for entity jobs.
    """
    out = []
    for text in texts:
        text = text if isinstance(text, str) else ""
        spans = tagger_tokens(text)
        out.append((spans, _features(text, spans)))
    return out


def default_crf() -> Any:
    """The CRF the tagger trains by default (L-BFGS, c1=0.05, c2=0.05, 100 iterations)."""
    try:
        from sklearn_crfsuite import CRF
    except ImportError:  # pragma: no cover - a dependency of nblabel; say what is missing
        raise ImportError(
            "entity auto-labeling needs sklearn-crfsuite: pip install sklearn-crfsuite"
        ) from None
    return CRF(algorithm="lbfgs", c1=0.05, c2=0.05, max_iterations=100, all_possible_transitions=True)


class EntityTagger:
    """Learns entity spans from answered texts and proposes spans, with confidences, for others.

    Parameters
    ----------
    crf
        An unfitted ``sklearn_crfsuite.CRF`` (anything with ``fit(X, y)`` and
        ``predict_marginals(X)``); default :func:`default_crf`.

    Examples
    --------
    >>> tagger = EntityTagger().fit(["Ann lives in Bern"], [[{"label": "Person", "startOffset": 0, "endOffset": 3}]])
    """

    def __init__(self, crf: Any = None) -> None:
        self.crf = crf
        self._fitted: Any = None

    def fit(
        self,
        texts: Sequence[str],
        answers: Sequence[Sequence[Mapping[str, Any]]],
        features: Sequence[DocumentFeatures] | None = None,
    ) -> EntityTagger:
        """Train on texts and their entities (the task's answers: code-point offsets).

        ``features`` may give :func:`document_features` of the texts already computed; a text
        whose entities split its tokens is featurized again with those splits.

        Raises
        ------
        ValueError
            No answer holds an entity (nothing to learn), or an entity covers only white space.
        """
        from sklearn.base import clone

        if not any(answers):
            raise ValueError("the tagger needs at least one answer with an entity to learn from")
        X, y = [], []
        for n, (text, entities) in enumerate(zip(texts, answers, strict=True)):
            # One tag per token: nested entities give way to the ones around them.
            spans, tags = tokens_and_tags(text, outermost(entities), _cjk_breaks(text))
            given = features[n] if features is not None else None
            X.append(given[1] if given is not None and given[0] == spans else _features(text, spans))
            y.append(tags)
        self._fitted = clone(self.crf) if self.crf is not None else default_crf()
        self._fitted.fit(X, y)
        return self

    def predict(
        self, texts: Sequence[str], features: Sequence[DocumentFeatures] | None = None
    ) -> list[tuple[list[dict[str, Any]], float]]:
        """Per text: its proposed entities (each with a ``confidence``) and the text's confidence.

        See the module docstring for what the confidences are.
        """
        if self._fitted is None:
            raise RuntimeError("the tagger is not trained: call fit first")
        docs = list(features) if features is not None else document_features(texts)
        X = [f for _, f in docs]
        tags = self._fitted.predict(X) if docs else []
        marginals = self._fitted.predict_marginals(X) if docs else []
        return [_decode(d[0], t, m) for d, t, m in zip(docs, tags, marginals, strict=True)]


def tag_texts(
    shared: tuple[EntityTagger, Callable[[Sequence[Any]], Sequence[DocumentFeatures]]], sources: Sequence[Any]
) -> list[tuple[list[dict[str, Any]], float]]:
    """What :meth:`EntityTagger.predict` proposes for some texts, featurized here by the round's
    featurizer (``shared``: the fitted tagger and the featurizer): a Dask worker's part of an
    entity round on a cluster. The features are not kept: tokenizing a text costs about what
    reading its tokens back would."""
    tagger, featurizer = shared
    texts = [s if isinstance(s, str) else "" for s in sources]
    return tagger.predict(texts, featurizer(list(sources)))


def _decode(
    spans: Sequence[Span], tags: Sequence[str], marginals: Sequence[Mapping[str, float]]
) -> tuple[list[dict[str, Any]], float]:
    """Entities from the decoder's (Viterbi) tags, with confidences from the tag marginals.

    An ``I-`` tag that does not continue an entity of its label starts one (as IOB2 readers do).
    """
    entities: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    nothing = 1.0
    for (start, end), tag, m in zip(spans, tags, marginals, strict=True):
        p = float(m.get(tag, 0.0))
        kind, _, label = tag.partition("-")
        if kind == "O" or not label:
            current = None
            nothing = min(nothing, p)
            continue
        if kind == "I" and current is not None and current["label"] == label:
            current["endOffset"] = end
            current["confidence"] = min(current["confidence"], p)
            continue
        current = {"label": label, "startOffset": start, "endOffset": end, "confidence": p}
        entities.append(current)
    for e in entities:
        e["confidence"] = round(e["confidence"], 4)
    confidence = min((e["confidence"] for e in entities), default=round(nothing, 4))
    return entities, confidence


def span_scores(
    gold: Sequence[Sequence[Mapping[str, Any]]], predicted: Sequence[Sequence[Mapping[str, Any]]]
) -> dict[str, float]:
    """Exact-span precision, recall and F1 (label and both offsets must match), micro-averaged
    over documents, and the share of documents predicted exactly (what Enter accepts unchanged)."""
    tp = n_gold = n_pred = exact = 0
    for g, p in zip(gold, predicted, strict=True):
        gs = {(e["label"], e["startOffset"], e["endOffset"]) for e in g}
        ps = {(e["label"], e["startOffset"], e["endOffset"]) for e in p}
        tp += len(gs & ps)
        n_gold += len(gs)
        n_pred += len(ps)
        exact += gs == ps
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "exact": exact / len(gold) if len(gold) else 0.0,
    }
