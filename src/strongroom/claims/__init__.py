"""Claims: statements a user records, each tied to exhibits that support or contradict it,
shown with the evidential standing of every exhibit, and exported as a report a reader can
check against a published release (docs/claims.md).

- `add_claim`, `link`, `unlink`, `claims`, `claim` (with standing): claims/model.py
- `standing(case, num)`: DKIM verdict, custody hash, forensic flags, duplicates: claims/standing.py
- `export(case, ids, out)`: HTML and JSON with permalinks and sha256s: claims/export.py
"""

from strongroom.claims.export import export
from strongroom.claims.model import add_claim, claim, claims, link, unlink
from strongroom.claims.standing import standing

__all__ = ["add_claim", "claim", "claims", "export", "link", "standing", "unlink"]
