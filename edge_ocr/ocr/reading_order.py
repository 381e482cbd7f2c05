"""Sort text lines the way a person reads them: rows top to bottom, each row left to right."""

from __future__ import annotations

import numpy as np


def reading_order(quads: list[np.ndarray]) -> list[int]:
    """Indices of quads in reading order; lines overlapping vertically by half share a row."""
    if not quads:
        return []
    tops = [float(q[:, 1].min()) for q in quads]
    bottoms = [float(q[:, 1].max()) for q in quads]
    lefts = [float(q[:, 0].min()) for q in quads]
    centres = [(t + b) / 2 for t, b in zip(tops, bottoms)]
    rows: list[list[int]] = []
    for i in sorted(range(len(quads)), key=lambda k: (centres[k], lefts[k])):
        if rows:
            last = rows[-1]
            r_top = min(tops[k] for k in last)
            r_bottom = max(bottoms[k] for k in last)
            overlap = min(r_bottom, bottoms[i]) - max(r_top, tops[i])
            height = min(r_bottom - r_top, bottoms[i] - tops[i])
            if height > 0 and overlap >= 0.5 * height:
                last.append(i)
                continue
        rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda k: lefts[k])]
