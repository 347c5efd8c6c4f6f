"""What a release must hide: the result of review decisions, read by publishing.

Redaction is by value, applied to every rendering of an item (body, headers, attachment text,
the raw derivative): a value accepted on an item is hidden throughout that item and its
attachments; a generalised value is hidden everywhere in the case. Value-based replacement is
deliberately blunt: it cannot miss an occurrence that an offset in one rendering would not map to.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RedactionPlan:
    # item number -> values accepted for redaction in that item (and its attachments)
    by_item: dict[int, frozenset[str]] = field(default_factory=dict)
    # values redacted in every item of the case
    everywhere: frozenset[str] = frozenset()
    # value -> its type ("card", "ssn", ...), for the replacement label [REDACTED card]
    types: dict[str, str] = field(default_factory=dict)
    # findings nobody has decided on yet (a release may refuse to go out while any remain)
    undecided: int = 0

    def values_for(self, nums: list[int]) -> frozenset[str]:
        """The values to hide in a rendering that shows these items (an email and its parts)."""
        found: set[str] = set(self.everywhere)
        for num in nums:
            found |= self.by_item.get(num, frozenset())
        return frozenset(found)

    def label(self, value: str) -> str:
        return f"[REDACTED {self.types.get(value, 'personal data')}]"
