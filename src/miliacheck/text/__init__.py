"""Reading a person's own words: the narrative reader and the merge into a case."""

from miliacheck.text.merge import with_narrative
from miliacheck.text.reader import Understood, read

__all__ = ["Understood", "read", "with_narrative"]
