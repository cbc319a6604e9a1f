"""The table ``make bench`` prints: both servers' medians, the ratio, and the target."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

_DECIMALS = {"ms": 0, "/s": 0, "MB": 1}


@dataclass(frozen=True)
class Row:
    """One measurement: samples of both servers, taken in pairs, and the target's test."""

    label: str
    unit: str
    bare: list[float]
    proxy: list[float]
    target: str
    highest_ratio: float | None = None  # ratio targets: at most this ...
    lowest_ratio: float | None = None  # ... or at least this
    limit: float | None = None  # a target on the proxy's own figure: under this
    names: tuple[str, str] = ("bare", "proxy")  # what the two columns measured

    @property
    def ratios(self) -> list[float]:
        return [proxy / bare for bare, proxy in zip(self.bare, self.proxy, strict=True)]

    @property
    def ratio(self) -> float:
        """The median of the pairs' ratios: a pair is measured side by side."""
        return median(self.ratios)

    @property
    def met(self) -> bool:
        if self.limit is not None:
            return median(self.proxy) < self.limit
        if self.highest_ratio is not None:
            return self.ratio <= self.highest_ratio
        return self.lowest_ratio is None or self.ratio >= self.lowest_ratio

    def line(self) -> str:
        decimals = _DECIMALS[self.unit]
        bare = f"{median(self.bare):.{decimals}f} {self.unit}"
        proxy = f"{median(self.proxy):.{decimals}f} {self.unit}"
        spread = f"[{min(self.ratios):.2f}-{max(self.ratios):.2f}]"
        verdict = "ok" if self.met else "MISSED"
        return (
            f"{self.label:<16} {self.names[0]} {bare:>9}   {self.names[1]} {proxy:>9}   "
            f"ratio {self.ratio:4.2f} {spread:<11}  (target {self.target})  {verdict}"
        )


def table(rows: list[Row], notes: list[str]) -> str:
    return "\n".join(
        [
            "medians; ratio = proxy / bare, the median over pairs measured in turn [min-max]",
            *(row.line() for row in rows),
            *notes,
        ]
    )
