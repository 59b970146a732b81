"""Compile gettext catalogues with polib, so no system gettext is needed."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polib


def catalogues(locale_dirs: Iterable[Path]) -> list[Path]:
    """Every .po file under the given locale directories."""
    return sorted(
        po for directory in locale_dirs for po in Path(directory).glob("*/LC_MESSAGES/*.po")
    )


def compile_catalogue(po_path: Path, force: bool = False) -> bool:
    """Write the .mo next to ``po_path`` when missing or older; True if written."""
    mo_path = po_path.with_suffix(".mo")
    if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return False
    catalogue = polib.pofile(str(po_path))
    # Fuzzy entries are guesses awaiting review; gettext's msgfmt skips them too.
    for entry in catalogue.fuzzy_entries():
        catalogue.remove(entry)
    catalogue.save_as_mofile(str(mo_path))
    return True
