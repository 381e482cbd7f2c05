"""The broker password: from a file or a systemd credential, never from the config file or the log."""

from __future__ import annotations

import os
from pathlib import Path

from edge_ocr.errors import ConfigError


def read_password(password_file: str = "", credential: str = "") -> str | None:
    """The first line of the file or of $CREDENTIALS_DIRECTORY/<credential>; None when neither is set
    or the first line is empty."""
    if credential:
        base = os.environ.get("CREDENTIALS_DIRECTORY")
        if not base:
            raise ConfigError(
                f"[mqtt] password_credential {credential!r}: no $CREDENTIALS_DIRECTORY "
                "(set LoadCredential= in the unit, or use password_file)"
            )
        path = Path(base) / credential
    elif password_file:
        path = Path(password_file)
    else:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"[mqtt] cannot read the password from {path}: {exc.strerror or exc}") from None
    lines = text.splitlines()
    return lines[0] if lines and lines[0] else None  # empty: no password (e.g. the unit's empty fallback)
