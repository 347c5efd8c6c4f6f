"""Personal data: detection (presidio pattern recognizers), review decisions, redaction plans.

`detect` finds values in text, `scan` runs it over a case, `decisions` records what reviewers
decide and turns it into the `RedactionPlan` (plan.py) a release applies; `words` holds the
case's own word lists.
"""
