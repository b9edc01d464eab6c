"""The first entries of a list too long to show whole, and whether more lie beyond them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Shown:
    """The entries a page shows (``rows``) and whether the list goes on (``more``); it
    iterates, counts and tests true as its rows do, so templates use it as the list."""

    rows: list
    more: bool

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)
