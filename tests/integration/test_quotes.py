"""Replies keep their context across the two chats, through the real servers: what the
customer quotes, the agent sees quoted (their own message, in their chat), and the other
way round; reactions land on the other side's copy. (The Graph API fake refuses a quote of
a message from another chat: tests/unit/test_graph_fake.py.)"""

from harness.phones import shown, taken


def test_quotes_and_reactions_cross_between_the_two_chats(stack, cases, customer, ana):
    case = taken(cases, customer, ana)

    asked = customer.text("¿tienen el armazón rojo en talle chico?")
    [copy] = ana.wait()  # Ana's copy of the question
    assert shown(copy) == "Lucía: ¿tienen el armazón rojo en talle chico?" and "context" not in copy
    copy_id = stack.graph.attempts(ana.number)[-1].wamid

    # Ana swipes to reply on her copy: the customer sees their own question quoted.
    ana_reply = ana.text("Sí, lo tenemos. ¿Te lo reservo?", reply_to=copy_id)
    [answer] = customer.wait()
    assert shown(answer) == "Sí, lo tenemos. ¿Te lo reservo?"
    assert answer["context"] == {"message_id": asked["id"]}
    answer_id = stack.graph.attempts(customer.number)[-1].wamid

    # The customer replies to that answer: Ana sees her own message quoted.
    customer.text("dale, reservámelo", reply_to=answer_id)
    [relayed] = ana.wait()
    assert shown(relayed) == "Lucía: dale, reservámelo" and relayed["context"] == {"message_id": ana_reply["id"]}

    # Reactions land on the other side's copy.
    customer.post(customer.message("reaction", {"message_id": answer_id, "emoji": "🙏"}))
    [reacted] = ana.wait()
    assert reacted["type"] == "reaction" and reacted["reaction"] == {"message_id": ana_reply["id"], "emoji": "🙏"}
    ana.post(ana.message("reaction", {"message_id": copy_id, "emoji": "👍"}))
    [back] = customer.wait()
    assert back["type"] == "reaction" and back["reaction"] == {"message_id": asked["id"], "emoji": "👍"}

    # The panel shows the quotes too.
    thread = stack.panel_session("Ana", "ana-demo").get(f"{stack.panel_url}/api/cases/{case.id}").json()["thread"]
    quoted = {line["text"]: line["quote"] for line in thread if line["quote"]}
    assert quoted == {
        "Sí, lo tenemos. ¿Te lo reservo?": "¿tienen el armazón rojo en talle chico?",
        "dale, reservámelo": "Sí, lo tenemos. ¿Te lo reservo?",
    }
