"""Domain workflows as plain verb_noun functions; they flush, the caller (view, job, CLI) commits once."""
