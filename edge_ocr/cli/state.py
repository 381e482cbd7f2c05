"""Where the store lives and how commands name times: shared by search, show, export and status."""

from __future__ import annotations

import argparse
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from edge_ocr import config as config_module
from edge_ocr.cli.numbers import MAX_AGE_DAYS, shown
from edge_ocr.config import Config

SYSTEM_STATE_DIR = Path("/var/lib/edge-ocr")  # the service's StateDirectory=
SYSTEM_CONFIG = Path("/etc/edge-ocr/config.toml")  # the service's ConfigurationDirectory=
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def default_state_dir() -> Path:
    """$EDGE_OCR_STATE_DIR, else the service's /var/lib/edge-ocr if present, else ~/.local/state/edge-ocr."""
    env = os.environ.get("EDGE_OCR_STATE_DIR") or os.environ.get("STATE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    if SYSTEM_STATE_DIR.is_dir():
        return SYSTEM_STATE_DIR
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "edge-ocr"


def add_state_argument(parser: argparse.ArgumentParser) -> None:
    """--state-dir, shared by every command that touches the store."""
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="the store's folder (default: $EDGE_OCR_STATE_DIR, /var/lib/edge-ocr, ~/.local/state/edge-ocr)",
    )


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """--config, for commands that need more than the state directory."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"TOML configuration (default: $EDGE_OCR_CONFIG, else {SYSTEM_CONFIG} if present)",
    )


def load_config(args: argparse.Namespace) -> Config:
    """The configuration named by --config or $EDGE_OCR_CONFIG, the system one if present, else defaults."""
    path = getattr(args, "config", None) or os.environ.get("EDGE_OCR_CONFIG")
    if path:
        return config_module.load(Path(path))
    if SYSTEM_CONFIG.is_file():
        return config_module.load(SYSTEM_CONFIG)
    return Config()


def state_dir(args: argparse.Namespace, config: Config | None = None) -> Path:
    """--state-dir, else the configuration's [device] state_dir, else the default."""
    if getattr(args, "state_dir", None):
        return args.state_dir
    if config is not None and config.device.state_dir:
        return Path(config.device.state_dir)
    return default_state_dir()


def parse_time(text: str, now: datetime | None = None) -> int:
    """'2026-11-21', '2026-11-21T14:30', ISO with zone, or relative '90m', '2h', '7d' ago; epoch ms.

    Times without a zone are local time (what a person on site means). Ages beyond 100 years and
    times before 1970 or after 9999 are refused (argparse.ArgumentTypeError: a usage error).
    """
    now = now or datetime.now(timezone.utc)
    text = text.strip()
    quoted = repr(shown(text))
    m = _RELATIVE.match(text)
    if m:
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
        if not seconds <= MAX_AGE_DAYS * 86400:  # also inf, from a few hundred digits
            raise argparse.ArgumentTypeError(f"{quoted}: an age can be at most {MAX_AGE_DAYS}d (100 years)")
        return int((now - timedelta(seconds=seconds)).timestamp() * 1000)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{quoted}: expected a date/time like 2026-11-21 or 2026-11-21T14:30, or an age like 2h or 7d"
        ) from None
    out_of_range = argparse.ArgumentTypeError(f"{quoted}: not between 1970-01-01 and 9999-12-31")
    if moment.year < 1970:  # as written: 1970-01-01 is accepted in every zone
        raise out_of_range
    try:
        if moment.tzinfo is None:
            moment = moment.astimezone()  # local time
        return int(moment.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):  # 9999-12-31 in some zones
        raise out_of_range from None


def format_time(ms: int) -> str:
    """Epoch ms as local ISO time to the second."""
    return datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")
