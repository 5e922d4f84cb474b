"""One summary line instead of one warning per image without a digest.

``archy validate`` and ``archy build`` on a dev tree meet dozens of unpinned
images; printing each one buries the warnings that matter.  The per-image
detail stays in ``--json``; people read one line with the one fix.
"""

from __future__ import annotations

from catalog.problems import Problem

UNPINNED_RULE = "P015"
BUILD_UNPINNED_SUFFIX = "has no digest; run `archy images lock` and commit images.lock.json"
FIX = "run `archy images lock` and commit images.lock.json (publishing refuses unpinned images)"


def summary_line(count: int, files: int) -> str:
    """``58 images in 31 apps have no @sha256 digest (P015); run `archy images lock` …``."""
    images = "image" if count == 1 else "images"
    apps = "app" if files == 1 else "apps"
    verb = "has" if count == 1 else "have"
    return f"{count} {images} in {files} {apps} {verb} no @sha256 digest (P015); {FIX}"


def collapse_problems(problems: list[Problem]) -> tuple[list[Problem], str | None]:
    """Split out the unpinned-image warnings: (the other problems, their summary or None)."""
    unpinned = [p for p in problems if p.rule == UNPINNED_RULE and p.severity == "warning"]
    if not unpinned:
        return problems, None
    rest = [p for p in problems if not (p.rule == UNPINNED_RULE and p.severity == "warning")]
    return rest, summary_line(len(unpinned), len({p.file for p in unpinned}))


def collapse_build_warnings(warnings: list[str]) -> list[str]:
    """The build's warnings with its per-image "has no digest" lines folded into one."""
    unpinned = [w for w in warnings if w.endswith(BUILD_UNPINNED_SUFFIX)]
    if not unpinned:
        return warnings
    files = {w.split(":", 1)[0] for w in unpinned}
    rest = [w for w in warnings if not w.endswith(BUILD_UNPINNED_SUFFIX)]
    return [*rest, summary_line(len(unpinned), len(files))]
