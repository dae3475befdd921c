"""What every bench shares: rounds run interleaved, medians with their spread, ratio lines.

Machines are noisy, so no figure stands alone: each is printed with the spread of its rounds, and
every bar is judged on a ratio to a baseline measured in the same rounds (median of the per-round
ratios), never on timings from different runs.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence

MIN_ROUNDS = 5


def interleaved(rounds: int, arms: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Run every arm once per round, in turn (noise hits all arms alike); values by arm."""
    if rounds < MIN_ROUNDS:
        raise SystemExit(f"--rounds must be >= {MIN_ROUNDS}, got {rounds}")
    values: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(rounds):
        for name, measure in arms.items():
            values[name].append(measure())
    return values


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Per-round ratios of two arms measured in the same rounds."""
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def spread(values: Sequence[float], scale: float = 1.0, unit: str = "", digits: int = 2) -> str:
    """``median (min-max, n rounds)``, each value multiplied by ``scale``."""
    low, mid, high = min(values) * scale, statistics.median(values) * scale, max(values) * scale
    if digits == 0:
        return f"{mid:,.0f}{unit} ({low:,.0f}-{high:,.0f}, {len(values)} rounds)"
    return f"{mid:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f}, {len(values)} rounds)"


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def at_least(label: str, values: Sequence[float], bar: float) -> str:
    """A ratio line judged on the median: ``label = median (spread) [bar >= x: PASS]``."""
    ok = statistics.median(values) >= bar
    return f"{label} = {spread(values)}  [bar >= {bar:g}: {verdict(ok)}]"


def at_most(label: str, values: Sequence[float], bar: float) -> str:
    """A ratio line judged on the median: ``label = median (spread) [bar <= x: PASS]``."""
    ok = statistics.median(values) <= bar
    return f"{label} = {spread(values)}  [bar <= {bar:g}: {verdict(ok)}]"
