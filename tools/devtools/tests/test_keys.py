"""A local run's key set: every service's key, valid from when it was made."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from carenet_devtools.keys import DevKeyring

MESSAGE = b'{"event_type": "CaseOpened"}'


def test_a_new_key_is_published_valid_from_when_it_was_made(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    keyring = DevKeyring(tmp_path)
    signer = keyring.signer("casework")

    (published,) = json.loads(keyring.key_set_path.read_text())["keys"]
    assert published["kid"] == signer.key_id
    assert int(before.timestamp()) <= published["nbf"] <= datetime.now(UTC).timestamp()
    assert "exp" not in published
    trusted, signature = keyring.trusted(), signer.sign(MESSAGE)
    now = datetime.now(UTC)
    assert trusted.problem_with("casework", MESSAGE, signature, signed_at=now) is None
    earlier = now - timedelta(days=1)
    assert trusted.problem_with("casework", MESSAGE, signature, signed_at=earlier) is not None
    assert keyring.signer("casework").key_id == signer.key_id, "kept, not made again"
