"""Publishing: a static, redacted, verifiable release of a case (docs/publish.md).

- `publish(case, out, plan, query=..., title=...)` writes the release and returns a summary;
- `read_redact_file(path)`, `review_plan(case)`, `merge(...)` make the `RedactionPlan`;
- `check_files(root, checks)` is the scan every release passes before it is moved into place.
"""

from __future__ import annotations

from strongroom.publish.plans import has_values, merge, read_redact_file, review_plan
from strongroom.publish.site import PublishResult, UnsafeRelease, check_files, publish

__all__ = [
    "PublishResult",
    "UnsafeRelease",
    "check_files",
    "has_values",
    "merge",
    "publish",
    "read_redact_file",
    "review_plan",
]
