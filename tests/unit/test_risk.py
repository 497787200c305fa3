"""The handoff decision by risk (posta.risk), on hand-made evidence."""

from posta import risk
from posta.risk import Evidence, Thresholds, judge

SENSITIVE = {"complaint", "return_request", "health_question"}
SMALL_TALK = {"greet", "goodbye"}
THRESHOLDS = Thresholds(sensitive=0.25, familiar=0.5, small_talk=0.6, fallback=0.3)


def test_sensitive_mass_hands_off_even_when_an_faq_ranks_first():
    seen = Evidence(ranking={"ask_catalogue": 0.55, "complaint": 0.2, "return_request": 0.1, "greet": 0.15})
    verdict = judge(seen, THRESHOLDS, SENSITIVE, SMALL_TALK)
    assert (verdict.intent, verdict.reason) == ("complaint", "sensitive")
    assert abs(verdict.confidence - 0.3) < 1e-9


def test_the_riskiest_sentence_counts():
    whole = {"ask_hours": 0.9, "health_question": 0.05, "greet": 0.05}
    second = {"health_question": 0.7, "ask_hours": 0.3}
    seen = Evidence(ranking=whole, sentence_rankings=[{"ask_hours": 1.0}, second])
    assert judge(seen, THRESHOLDS, SENSITIVE, SMALL_TALK).intent == "health_question"
    assert judge(Evidence(ranking=whole), THRESHOLDS, SENSITIVE, SMALL_TALK).intent == "ask_hours"


def test_unfamiliar_wordless_and_fake_small_talk_are_unsure():
    confident = {"goodbye": 0.9, "ask_hours": 0.1}
    assert judge(Evidence(confident, nearest=0.4), THRESHOLDS, SENSITIVE, SMALL_TALK).reason == "unfamiliar"
    assert judge(Evidence(confident, words=0), THRESHOLDS, SENSITIVE, SMALL_TALK).reason == "no_words"
    fake = judge(Evidence(confident, nearest=0.9, nearest_small_talk=0.5), THRESHOLDS, SENSITIVE, SMALL_TALK)
    assert (fake.intent, fake.reason) == (risk.FALLBACK, "not_small_talk")
    real = judge(Evidence(confident, nearest=0.9, nearest_small_talk=0.95), THRESHOLDS, SENSITIVE, SMALL_TALK)
    assert (real.intent, real.reason) == ("goodbye", "top")
    assert (
        judge(Evidence({"ask_hours": 0.29, "greet": 0.28}), THRESHOLDS, SENSITIVE, SMALL_TALK).reason
        == "low_confidence"
    )


def test_the_handoff_score_rises_with_each_signal():
    answerable = Evidence({"ask_hours": 0.95, "complaint": 0.05}, nearest=0.9)
    handoff = {"complaint", "return_request", "health_question", "out_of_scope"}
    base = risk.handoff_score(answerable, THRESHOLDS, SENSITIVE, handoff)
    assert base < 1
    sensitive = Evidence({"ask_hours": 0.6, "complaint": 0.4}, nearest=0.9)
    assert risk.handoff_score(sensitive, THRESHOLDS, SENSITIVE, handoff) >= 1 > base
    far = Evidence({"ask_hours": 0.95, "complaint": 0.05}, nearest=0.3)
    assert risk.handoff_score(far, THRESHOLDS, SENSITIVE, handoff) > 1


def test_sentences_split_a_second_thought_and_keep_short_messages_whole():
    assert risk.sentences("hola! queria saber los horarios. ah y los lentes me dan dolor de cabeza") == [
        "queria saber los horarios",
        "ah y los lentes me dan dolor de cabeza",
    ]
    assert risk.sentences("what time do you open, but my eye is red and swollen") == [
        "what time do you open",
        "but my eye is red and swollen",
    ]
    assert risk.sentences("a que hora abren?") == []
    assert risk.sentences("hola. gracias") == []  # parts of fewer than three words are not scored


def test_words_are_runs_of_letters():
    assert risk.words("mañana 10hs, anteojos!!") == 3
    assert risk.words("👍 123 ?!") == 0


def test_closer_to_what_the_bot_cannot_answer_than_to_the_answer_is_unsure_or_sensitive():
    thresholds = Thresholds(sensitive=0.25, closer_sensitive=0.02, closer_out_of_scope=0.0, fallback=0.3)
    hours = {"ask_hours": 0.8, "out_of_scope": 0.2}
    bakery = Evidence(hours, nearest=0.8, nearest_top=0.7, nearest_out_of_scope=0.8)
    assert judge(bakery, thresholds, SENSITIVE, SMALL_TALK).reason == "near_out_of_scope"
    ours = Evidence(hours, nearest=0.9, nearest_top=0.9, nearest_out_of_scope=0.6)
    assert judge(ours, thresholds, SENSITIVE, SMALL_TALK).intent == "ask_hours"
    cheap = Evidence(
        {"ask_catalogue": 0.9, "complaint": 0.1},
        nearest=0.85,
        nearest_top=0.7,
        nearest_sensitive=0.85,
        nearest_sensitive_intent="complaint",
    )
    verdict = judge(cheap, thresholds, SENSITIVE, SMALL_TALK)
    assert (verdict.intent, verdict.reason) == ("complaint", "near_sensitive")
    off = Thresholds(sensitive=0.25, fallback=0.3)  # both margins off by default
    assert judge(cheap, off, SENSITIVE, SMALL_TALK).intent == "ask_catalogue"
    assert judge(bakery, off, SENSITIVE, SMALL_TALK).intent == "ask_hours"


def test_the_lexicon_still_catches_what_the_classifier_answers():
    from components.handoff_risk import decide

    answered = Evidence({"ask_catalogue": 0.95, "complaint": 0.05}, nearest=0.9, nearest_top=0.9)
    verdict = decide(answered, "cuanto salen? ah y ayer me caí de la bici", THRESHOLDS, SMALL_TALK)
    assert (verdict.intent, verdict.reason) == ("injury_report", "lexicon:injury")
    assert decide(answered, "cuanto salen los cascos?", THRESHOLDS, SMALL_TALK).intent == "ask_catalogue"


def test_a_top_intent_that_already_hands_off_stands():
    thresholds = Thresholds(sensitive=0.25, closer_out_of_scope=0.0, fallback=0.3)
    unsure_request = Evidence(
        {"request_human": 0.28, "ask_hours": 0.27, "greet": 0.17}, nearest_top=0.8, nearest_out_of_scope=0.9
    )
    handoff = {"request_human", "out_of_scope"}
    assert judge(unsure_request, thresholds, SENSITIVE, SMALL_TALK, handoff).intent == "request_human"
    far_out = Evidence({"out_of_scope": 0.9, "ask_hours": 0.1}, nearest=0.9, nearest_top=0.9, nearest_out_of_scope=0.9)
    assert judge(far_out, thresholds, SENSITIVE, SMALL_TALK, handoff).intent == "out_of_scope"
