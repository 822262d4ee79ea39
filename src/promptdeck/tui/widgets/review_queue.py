"""The Compare screen's review queue: ensemble answers flagged ``requires_review``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import DataTable

if TYPE_CHECKING:
    from promptdeck.store.feedback_repo import ReviewItem

__all__ = ["ReviewQueue", "review_row"]


def review_row(item: ReviewItem) -> tuple[str, str, str, str, str]:
    """One flagged answer: when, ensemble, prompt, agreement and the ensemble's decision."""
    agreement = "-" if item.agreement is None else f"{item.agreement:.2f}"
    return (
        item.started_at.strftime("%Y-%m-%d %H:%M"),
        item.ensemble,
        item.prompt_name or "-",
        agreement,
        item.decision,
    )


class ReviewQueue(DataTable[str]):
    """A table of the answers to review, newest first, keyed by trace."""

    def on_mount(self) -> None:
        self.add_columns("Needs review", "Ensemble", "Prompt", "Agreement", "Decision")
        self.border_title = "Review queue"

    def show(self, reviews: list[ReviewItem]) -> None:
        """Replace the rows with these answers."""
        self.clear()
        for item in reviews:
            self.add_row(*review_row(item), key=item.trace_uid)
