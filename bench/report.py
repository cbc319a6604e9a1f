"""The table ``make bench`` prints: bare app, proxy, their ratio, and the target."""

from __future__ import annotations

from dataclasses import dataclass

_DECIMALS = {"ms": 0, "/s": 0, "MB": 1}


@dataclass(frozen=True)
class Row:
    """One measurement: medians for both servers, and whether the proxy meets its target."""

    label: str
    unit: str
    bare: float
    proxy: float
    target: str
    met: bool

    @property
    def ratio(self) -> float:
        return self.proxy / self.bare

    def line(self) -> str:
        decimals = _DECIMALS[self.unit]
        bare = f"{self.bare:.{decimals}f} {self.unit}"
        proxy = f"{self.proxy:.{decimals}f} {self.unit}"
        verdict = "ok" if self.met else "MISSED"
        return (
            f"{self.label:<16} bare {bare:>9}   proxy {proxy:>9}   "
            f"ratio {self.ratio:4.2f}   (target {self.target})  {verdict}"
        )


def table(rows: list[Row], notes: list[str]) -> str:
    return "\n".join([*(row.line() for row in rows), *notes])
