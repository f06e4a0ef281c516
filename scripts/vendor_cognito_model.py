"""Copy botocore's cognito-idp service model into api/ without its documentation strings.

The JSON API validates requests against this model (api/shapes.py) without needing botocore at
run time. Run after changing the boto3 pin in requirements-dev.txt:

    python scripts/vendor_cognito_model.py

tests/api/test_model.py fails while the copy and the installed botocore disagree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "api" / "cognito-idp-2016-04-18.json"


def stripped_model() -> dict:
    """botocore's model for cognito-idp 2016-04-18, minus documentation."""
    from botocore.loaders import Loader

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "documentation"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(Loader().load_service_model("cognito-idp", "service-2", "2016-04-18"))


def main() -> int:
    TARGET.write_text(json.dumps(stripped_model(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
