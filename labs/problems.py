"""One error type for input that is checked as a whole: every problem is listed at once."""

from __future__ import annotations


class ProblemsError(ValueError):
    """Invalid input; `problems` lists each problem, naming where it is."""

    heading = "invalid input"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{self.heading}:\n  - " + "\n  - ".join(problems))
