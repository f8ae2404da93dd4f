"""What an import did, counted as it goes, and told at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

PROBLEMS_SHOWN = 10


@dataclass
class Summary:
    source_articles: int = 0
    source_comments: int = 0
    articles_created: int = 0
    articles_updated: int = 0
    imported: Counter = field(default_factory=Counter)  # by status
    skipped: Counter = field(default_factory=Counter)  # by reason
    attached_to_article: int = 0  # replies whose parent is not in the file
    local_times: int = 0  # dates read in --timezone, for want of a GMT one
    problems: list[tuple[int, str]] = field(default_factory=list)
    problem_count: int = 0
    wxr_version: str | None = None  # a WordPress export's, once read

    def problem(self, line: int, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < PROBLEMS_SHOWN:
            self.problems.append((line, text))

    def skip(self, reason: str, line: int | None = None, text: str | None = None) -> None:
        self.skipped[reason] += 1
        if line is not None:
            self.problem(line, f"{text}: skipped")

    def lines(self, *, dry_run: bool) -> list[str]:
        def tally(counts: Counter) -> str:
            return ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "none"

        told = [
            f"Read {self.source_articles} articles and {self.source_comments} comments.",
            f"Articles: {self.articles_created} created, {self.articles_updated} updated.",
            f"Comments imported: {sum(self.imported.values())} ({tally(self.imported)}).",
            f"Skipped: {sum(self.skipped.values())} ({tally(self.skipped)}).",
        ]
        if self.attached_to_article:
            told.append(f"Replies attached to their article, their parent not being in the "
                        f"file: {self.attached_to_article}.")
        if self.local_times:
            told.append(f"Dates without a GMT time, read in --timezone: {self.local_times}.")
        if self.problems:
            told.append(f"Problems (the first {len(self.problems)} of {self.problem_count}):")
            told.extend(f"  line {line}: {text}" for line, text in self.problems)
        if dry_run:
            told.append("Dry run: nothing was written.")
        return told
