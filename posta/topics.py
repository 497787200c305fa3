"""What each intent of the NLU data is about, and which topics are sensitive or urgent.

The single place where the core meets the conversation designer's intent names
(`data/nlu/*.yml`). Topics route cases to teams (`business.yml`) and label summaries.
"""

INTENT_TOPICS = {
    "ask_hours": "hours",
    "ask_location": "location",
    "ask_payment": "payment",
    "ask_shipping": "shipping",
    "ask_catalogue": "catalogue",
    "ask_eye_exam": "eye_exam",
    "ask_warranty": "warranty",
    "ask_return_policy": "return_policy",
    "order_status": "order",
    "complaint": "complaint",
    "return_request": "return",
    "health_question": "health",
    "legal_threat": "legal",
    "billing_dispute": "billing",
    "media": "media",
}

# Topics a person must handle, whatever the bot knows.
SENSITIVE_TOPICS = frozenset({"complaint", "return", "health", "legal", "billing"})
# Topics flagged urgent in the agent's summary.
URGENT_TOPICS = frozenset({"complaint", "health", "legal"})

# Answered by the bot only when the message looks like small talk (components.handoff_risk).
SMALL_TALK_INTENTS = frozenset({"greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge"})
REQUEST_INTENTS = frozenset({"request_human"})
SENSITIVE_INTENTS = frozenset(i for i, t in INTENT_TOPICS.items() if t in SENSITIVE_TOPICS)
# Intents the bot hands off because it cannot answer them alone.
# `media` is sent by the WhatsApp channel for what it cannot read (voice notes, images...).
UNSURE_INTENTS = frozenset({"out_of_scope", "nlu_fallback", "order_status", "media"})
# Every intent whose rule ends in a handoff.
HANDOFF_INTENTS = REQUEST_INTENTS | SENSITIVE_INTENTS | UNSURE_INTENTS
