"""``fuchi new-policy``: write a minimal policy directory that passes ``check`` and ``test`` as it is."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from ..errors import UsageError

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def new_policy(target: str | Path) -> list[Path]:
    """Create a policy directory from the template.

    Args:
        target: The directory to create; its name becomes the policy id.

    Returns:
        The files written.

    Raises:
        UsageError: The directory exists and is not empty, or its name is not a valid id.

    """
    root = Path(target)
    policy_id = root.name
    if not _ID.match(policy_id):
        raise UsageError(
            f"政策编号只能含小写字母、数字和连字符 the directory name {policy_id!r} must be a lower-case id "
            "(letters, digits, hyphens)"
        )
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"目录非空 {root} exists and is not empty")
    template = resources.files("fuchi.drafting") / "templates" / "new-policy"
    written: list[Path] = []
    for rel in (
        "policy.yaml",
        "parameters.yaml",
        "messages.yaml",
        "inputs.yaml",
        "rules/00-schema.lp",
        "rules/10-items.lp",
        "rules/90-status.lp",
        "cases/example.yaml",
        "source/measures.zh.txt",
    ):
        text = (template / rel).read_text(encoding="utf-8")
        if rel == "policy.yaml":
            text = text.format(policy_id=policy_id)
        out = root / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        written.append(out)
    return written
