"""[ocr] names checked against the shipped model manifest: pack, variant, second opinion, allow-list.

This reads the manifest and the dictionaries that ship with the package (no model is loaded), so that
`config check` refuses what the daemon would refuse when it loads its models.
"""

from __future__ import annotations

from pathlib import Path

from edge_ocr.config.loader import Config, Problems
from edge_ocr.errors import ModelError
from edge_ocr.models import Manifest, ModelPack, load_charset, second_opinion_pack
from edge_ocr.ocr.allowlist import parse_allowlist


def _allow(allow: str, pack: ModelPack, key_owner: str, problems: Problems) -> None:
    try:
        allowed = parse_allowlist(allow)
        charset = set(load_charset(pack))
    except (ValueError, ModelError):
        return  # syntax is reported by the section's own check; a broken pack by the pack check
    missing = "".join(sorted(allowed - charset))
    if not allowed & charset:
        problems.add("ocr", "allow", f"no character of {allow!r} is in the {key_owner} dictionary")
    elif missing:
        problems.add("ocr", "allow", f"characters not in the {key_owner} dictionary: {missing!r}")


def check_models(config: Config, problems: Problems, models_dir: Path | None = None) -> None:
    """Add a problem for each [ocr] name the manifest does not know."""
    o = config.ocr
    if not o.enabled:
        return
    try:
        manifest = Manifest.load(models_dir)
        pack = manifest.pack(o.pack or None, o.variant or None)
    except ModelError as exc:
        problems.add("ocr", "variant" if o.variant and o.pack in ("", None) else "pack", str(exc))
        return
    second = None
    try:
        second = second_opinion_pack(manifest, pack, o.second_opinion)
    except ModelError as exc:
        problems.add("ocr", "second_opinion", str(exc))
    if o.allow:
        _allow(o.allow, pack, f"{pack.name} model", problems)
        if second is not None:
            _allow(o.allow, second, f"second opinion's ({second.name})", problems)
