"""The vendored service model is botocore's (scripts/vendor_cognito_model.py keeps it so), and
every registered action is one of its operations."""

from __future__ import annotations

import json

from api import shapes
from api.registry import ACTIONS, Auth
from scripts.vendor_cognito_model import stripped_model


def test_the_vendored_model_is_the_installed_botocores():
    assert shapes.model() == json.loads(json.dumps(stripped_model())), (
        "botocore changed: run scripts/vendor_cognito_model.py"
    )


def test_admin_actions_need_sigv4_as_in_the_model():
    for name, action in ACTIONS.items():
        unsigned = "smithy.api#noAuth" in shapes.model()["operations"][name].get("auth", [])
        assert (action.auth != Auth.SIGV4) == unsigned, name


def test_the_readme_lists_every_action_the_door_answers():
    """README's "Actions answered now" names each registered action and nothing else, so the
    list people read before moving an app stays true."""
    import re
    from pathlib import Path

    from django.conf import settings

    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    listed_block = readme.split("**Actions answered now**", 1)[1].split("**Not yet:**", 1)[0]
    listed = set(re.findall(r"\b([A-Z][A-Za-z]+)(?=[,.\s(])", listed_block))
    operations = set(shapes.operation_names())
    assert listed & operations == set(ACTIONS)
