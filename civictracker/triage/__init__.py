"""Reading a post: service request or not, which service, urgent or not, language, reply intent, and why.

Pure: text in, decision out (no Flask, no database). The entries are `triage_text` and `triage_texts`
(many posts, the models reading them in batches: the same answers); classify.py holds the model and the
decision, rules.py the keywords and hazards, lang.py the language, reply.py a reply's
intent, store.py the fitted model's file, fit.py and dataset.py the only fitting (`make triage-model`).
"""

from civictracker.triage.classify import TriageResult, default_services, get_model, triage_text, triage_texts
from civictracker.triage.lang import detect_language, is_opt_out
from civictracker.triage.reply import classify_reply

__all__ = [
    "TriageResult",
    "classify_reply",
    "default_services",
    "detect_language",
    "get_model",
    "is_opt_out",
    "triage_text",
    "triage_texts",
]
