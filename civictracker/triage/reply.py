"""Intent of a resident's reply in a thread we answered: the reply head's reading weighed with the rules'.

The model's reply head (fit.py; replies written in many hands, data/reply_posts.jsonl) reads wordings the
rules never saw ("the burrows are filled", "o sinal tá funcionando de novo"); the rules (reply_rules.py)
know short phrasings a few hundred examples teach poorly ("nope", "not yet"). A small logistic regression
fitted at build time on the head's scores from models that never saw the writer, and on the rules'
verdicts, weighs the two (fit.py). bench/eval_reply.py measures it.
"""

from __future__ import annotations

from civictracker.triage.classify import get_model
from civictracker.triage.reply_rules import NO_MATCH, REPLY_INTENTS, read_rules
from civictracker.triage.text import model_text

__all__ = ["REPLY_INTENTS", "classify_reply"]


def classify_reply(text: str) -> tuple[str, list[str]]:
    """Intent of a reply in one of our threads, and the reasons (the rules' phrases, the model's words)."""
    rules = read_rules(text)
    if rules.reasons == ["empty reply"]:
        return rules.intent, rules.reasons
    intent, p, words = get_model().read_reply(model_text(text), rules)
    agree = intent == rules.intent
    why = [r for r in rules.reasons if r != NO_MATCH] if agree else [f"the rules said {rules.intent}"]
    why.append(f"reply model: {intent} (p={p:.2f})" + (f", words: {', '.join(words)}" if words else ""))
    return intent, why
