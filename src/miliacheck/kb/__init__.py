"""The knowledge base: schema, loading and checks."""

from miliacheck.kb.load import NOT_LISTED, KnowledgeBase, Model, load_kb, read_kb

__all__ = ["NOT_LISTED", "KnowledgeBase", "Model", "load_kb", "read_kb"]
