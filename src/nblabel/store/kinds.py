"""The kinds of annotation in the log, and the groups of kinds the rest of nblabel reasons with.

Every annotation has one kind. ``human``, ``auto``, ``consolidated`` and ``verified`` carry a
label value; ``skip`` records that a person passed on an item; ``retract`` takes back the
annotation whose uid is in its ``target``. The groups below are the only place these sets are
spelled, so the ledger, the claims, the stores and the formats cannot disagree about them.
"""

from __future__ import annotations

__all__ = ["HUMAN_KINDS", "KINDS", "LABEL_KINDS", "PERSON_KINDS", "SLOT_KINDS"]

#: Every kind of annotation, in the order the stores document them.
KINDS = ("human", "auto", "consolidated", "verified", "skip", "retract")

#: Kinds that carry a label value.
LABEL_KINDS = frozenset({"human", "auto", "consolidated", "verified"})

#: Labels a person stands behind (GT's ``human-annotated: "yes"``): a person's answer, an
#: auto-label a person accepted, and a label drawn from several people's answers.
HUMAN_KINDS = frozenset({"human", "verified", "consolidated"})

#: One person's own answer (``verified``: an auto-label a person accepted): what consolidation
#: reads, and what counts towards an item's ``answers_per_item``.
PERSON_KINDS = frozenset({"human", "verified"})

#: Live annotations of these kinds take their annotator's slot on an item (see
#: :mod:`nblabel.store.claims`). A ``consolidated`` label closes the item for everyone.
SLOT_KINDS = ("human", "verified", "skip", "consolidated")
