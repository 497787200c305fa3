"""Words the core writes itself, in Spanish and English: dates, hours, summary labels.

What the bot says to customers lives in `domain.yml` (the conversation designer's file);
the core only formats the values those responses interpolate, and the case summaries it
writes for agents.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from posta import topics

WEEKDAY_NAMES = {
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTH_NAMES = {
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

LABELS: Dict[str, Dict[str, str]] = {
    "es": {
        "case": "Caso",
        "urgent": "URGENTE",
        "customer": "Cliente",
        "language": "Idioma",
        "reason": "Motivo",
        "topic": "Tema",
        "since": "Desde",
        "facts": "Datos",
        "messages": "Lo que escribió",
        "bot_answered": "El bot ya respondió",
        "nothing": "nada",
        "after_hours": "fuera de horario",
        "media": "adjunto",
        "lang_es": "español",
        "lang_en": "inglés",
        "reason_unsure": "el bot no supo responder",
        "reason_low_rating": "calificó mal al bot",
        "reason_requested": "pidió una persona",
        "reason_sensitive": "tema sensible",
        "reason_agent_takeover": "tomado por el equipo",
        "fact_order_number": "pedido",
        "fact_date": "fecha",
        "fact_amount": "monto",
        "closed": "cerrado",
        "and": "y",
        "today": "hoy",
        "tomorrow": "mañana",
    },
    "en": {
        "case": "Case",
        "urgent": "URGENT",
        "customer": "Customer",
        "language": "Language",
        "reason": "Reason",
        "topic": "Topic",
        "since": "Since",
        "facts": "Facts",
        "messages": "What they wrote",
        "bot_answered": "The bot already answered",
        "nothing": "nothing",
        "after_hours": "after hours",
        "media": "attachment",
        "lang_es": "Spanish",
        "lang_en": "English",
        "reason_unsure": "the bot could not answer",
        "reason_low_rating": "rated the bot low",
        "reason_requested": "asked for a person",
        "reason_sensitive": "sensitive",
        "reason_agent_takeover": "taken over by the team",
        "fact_order_number": "order",
        "fact_date": "date",
        "fact_amount": "amount",
        "closed": "closed",
        "and": "and",
        "today": "today",
        "tomorrow": "tomorrow",
    },
}


def label(key: str, lang: str) -> str:
    return LABELS.get(lang, LABELS["en"])[key]


def media_placeholder(media: Optional[Dict[str, Any]], lang: str, with_id: bool = False) -> str:
    """`[attachment: image] caption (id ...)` for a message that carried media, '' otherwise."""
    if not media:
        return ""
    caption = f" {media['caption']}" if media.get("caption") else ""
    ident = f" (id {media['id']})" if with_id and media.get("id") else ""
    return f"[{label('media', lang)}: {media.get('type', '?')}]{caption}{ident}"


KIND_NAMES = {
    "es": {
        "image": "imagen",
        "video": "video",
        "audio": "audio",
        "voice": "nota de voz",
        "document": "documento",
        "sticker": "sticker",
        "location": "ubicación",
        "contacts": "contacto",
    },
    "en": {
        "image": "image",
        "video": "video",
        "audio": "audio",
        "voice": "voice note",
        "document": "document",
        "sticker": "sticker",
        "location": "location",
        "contacts": "contact",
    },
}


def queue_line(place: int, minutes: Optional[int], lang: str) -> str:
    """'Tu caso es el número 2 de la fila (unos 10 minutos de espera).'"""
    if lang == "es":
        wait = f" (unos {minutes} minutos de espera)" if minutes else ""
        return f"Tu caso es el número {place} de la fila{wait}."
    wait = f" (about {minutes} minutes' wait)" if minutes else ""
    return f"Your case is number {place} in line{wait}."


def kind_name(kind: str, lang: str) -> str:
    """'nota de voz' for a voice note: a media kind as a person calls it."""
    return KIND_NAMES.get(lang, KIND_NAMES["en"]).get(kind, kind)


def topic_name(topic: str, lang: str) -> str:
    """The business's label for a topic (topics.yml)."""
    return topics.current().label(topic, lang)


def fact_name(kind: str, lang: str) -> str:
    """'pedido' for order_number; the business's label for its own kinds (topics.yml)."""
    return topics.current().fact_label(kind, lang) or LABELS.get(lang, LABELS["en"]).get(f"fact_{kind}", kind)


def when(moment: datetime, now: datetime, lang: str) -> str:
    """A customer-friendly moment: 'hoy a las 14:00', 'el lunes 30 de noviembre a las 10:00'."""
    clock = moment.strftime("%H:%M")
    days_ahead = (moment.date() - now.date()).days
    if lang == "es":
        if days_ahead == 0:
            return f"hoy a las {clock}"
        if days_ahead == 1:
            return f"mañana a las {clock}"
        return f"el {_long_date(moment.date(), lang)} a las {clock}"
    if days_ahead == 0:
        return f"today at {clock}"
    if days_ahead == 1:
        return f"tomorrow at {clock}"
    return f"on {_long_date(moment.date(), lang)} at {clock}"


def _long_date(day: date, lang: str) -> str:
    weekday = WEEKDAY_NAMES[lang][day.weekday()]
    month = MONTH_NAMES[lang][day.month - 1]
    if lang == "es":
        return f"{weekday} {day.day} de {month}"
    return f"{weekday} {day.day} {month}"


def weekly_hours(table: Mapping[str, Sequence[Tuple]], lang: str) -> str:
    """'lunes a viernes 10:00–19:00; sábado 10:00–14:00; domingo cerrado'."""
    days = list(table.values())
    names = WEEKDAY_NAMES[lang]
    groups = []
    start = 0
    for i in range(1, len(days) + 1):
        if i == len(days) or days[i] != days[start]:
            groups.append((start, i - 1, days[start]))
            start = i
    parts = []
    for first, last, ranges in groups:
        span = names[first] if first == last else (f"{names[first]} {'a' if lang == 'es' else 'to'} {names[last]}")
        hours = ", ".join(f"{a.strftime('%H:%M')}–{b.strftime('%H:%M')}" for a, b in ranges)
        parts.append(f"{span} {hours or label('closed', lang)}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def next_opening(moment, now: datetime, lang: str) -> str:
    """When the team is back, or a plain promise if no opening is scheduled soon."""
    if moment is None:
        return "lo antes posible" if lang == "es" else "as soon as we can"
    return when(moment, now, lang)


# What the help desk tells agents on WhatsApp, in the agent's language.
DESK = {
    "es": {
        "offer": "¿Tomás el caso #{case}?",
        "offer_queue": "Caso #{case} en la fila de {team}. ¿Lo tomás?",
        "take": "Tomar #{case}",
        "pass": "Pasar",
        "taken": "Tomaste el caso #{case} ({customer}). Lo que escribas acá le llega a {customer} desde el número del negocio. Cuando termines: *listo*.",
        "taken_by_other": "El caso #{case} ya lo tiene {agent}.",
        "closed": "El caso #{case} ya está cerrado.",
        "no_case": "No encuentro el caso {case}.",
        "no_active": "No tenés un caso activo. Escribí *casos* para ver los tuyos y la fila, o *ayuda*.",
        "relay": "{customer}: {text}",
        "relay_case": "[#{case}] {customer}: {text}",
        "reaction": "{customer} reaccionó {text}",
        "revision_revoke": "{customer} borró un mensaje",
        "revision_edit": "{customer} editó un mensaje: {text}",
        "waiting_messages": "Mientras esperaba, {customer} escribió:",
        "handed_back": "Caso #{case} devuelto al bot. ¡Gracias!",
        "passed": "Pasaste el caso #{case}.",
        "transferred": "Caso #{case} transferido a {target}.",
        "unknown_target": 'No conozco a "{target}". Podés transferir a: {options}.',
        "switched": "Ahora estás con el caso #{case} ({customer}).",
        "noted": "Nota guardada en el caso #{case}.",
        "mine": "Tus casos:",
        "queue": "En la fila:",
        "none": "ninguno",
        "active_mark": " ← activo",
        "not_yours": "El caso #{case} no es tuyo; escribí *tomar {case}* para tomarlo.",
        "not_yours_to_take": "El caso #{case} no es para vos: es de {owner}. Pedíselo a esa persona o a un admin.",
        "not_your_team": "Ese chat es de {team}, no de tus equipos: pedíselo a alguien de {team} o a un admin.",
        "cannot_reach": "Este cliente escribe por {channel}: desde acá no le llegan mensajes.",
        "media_size": "No se lo pasé a {customer}: tu {kind} pesa {size_mb} MB y WhatsApp acepta hasta {most_mb} MB. Mandá uno más liviano o un enlace.",
        "media_type": "No se lo pasé a {customer}: WhatsApp no acepta {mime_type} como {kind} (acepta {allowed}).",
        "media_kind": "No se lo pasé a {customer}: WhatsApp no reenvía ese tipo de mensaje ({kind}).",
        "media_missing": "No pude bajar tu {kind} de WhatsApp, así que {customer} no lo recibió: probá mandarlo de nuevo.",
        "media_in_panel": " (muy grande para reenviarlo por WhatsApp: está en el panel)",
        "window_closed": "No pude enviarle tu mensaje a {customer}: pasaron más de 24 h desde su último mensaje. Le mandé la plantilla para retomar la charla.",
        "send_failed": "No pude enviar un mensaje a {customer} (caso #{case}): {error}",
        "report": "Hoy: {opened} casos ({reasons}); {closed} devueltos al bot; {waiting} esperando. Primera respuesta humana: mediana {median}.",
        "digest": "Buen día. {count} casos esperan en la fila de {team}:",
        "digest_take": "Escribí *tomar N* para tomar uno.",
        "erased": "Listo: borré todo lo de {customer} ({rows} registros).",
        "admins_only": "Solo un admin puede hacer eso.",
        "judge_question": "Caso #{case}: ¿hacía falta una persona?",
        "judge_needed": "Sí",
        "judge_bot": "No, el bot podía",
        "judge_other": "Era otra cosa",
        "judge_topic": "Caso #{case}: ¿con cuál de sus respuestas?",
        "judged": "Gracias: anotado en el caso #{case}.",
        "report_judged": "Juzgados {judged}: hacía falta una persona en {precision}; posibles omisiones del bot: {misses}.",
        "low_rating": "El cliente {customer} calificó mal la atención del caso #{case} ({agent}).",
        "help": (
            "Comandos:\n*tomar 12* tomar un caso (o *tomar <teléfono>* para un chat de tus equipos)\n*pasar* pasar el caso\n"
            "*listo* devolver el chat al bot\n*casos* tus casos y la fila\n*cambiar 12* cambiar de caso activo\n"
            "*nota ...* nota privada\n*transferir a Bruno* o *a soporte*\n*reporte* números de hoy\n"
            "Lo demás que escribas le llega al cliente de tu caso activo. Responder a una notificación elige ese caso."
        ),
    },
    "en": {
        "offer": "Will you take case #{case}?",
        "offer_queue": "Case #{case} is waiting in the {team} queue. Will you take it?",
        "take": "Take #{case}",
        "pass": "Pass",
        "taken": "You took case #{case} ({customer}). What you write here reaches {customer} from the business number. When you are done: *done*.",
        "taken_by_other": "{agent} already has case #{case}.",
        "closed": "Case #{case} is already closed.",
        "no_case": "I can't find case {case}.",
        "no_active": "You have no active case. Write *cases* to see yours and the queue, or *help*.",
        "relay": "{customer}: {text}",
        "relay_case": "[#{case}] {customer}: {text}",
        "reaction": "{customer} reacted {text}",
        "revision_revoke": "{customer} deleted a message",
        "revision_edit": "{customer} edited a message: {text}",
        "waiting_messages": "While waiting, {customer} wrote:",
        "handed_back": "Case #{case} handed back to the bot. Thanks!",
        "passed": "You passed case #{case}.",
        "transferred": "Case #{case} transferred to {target}.",
        "unknown_target": 'I don\'t know "{target}". You can transfer to: {options}.',
        "switched": "You are now on case #{case} ({customer}).",
        "noted": "Note saved on case #{case}.",
        "mine": "Your cases:",
        "queue": "Waiting:",
        "none": "none",
        "active_mark": " ← active",
        "not_yours": "Case #{case} is not yours; write *take {case}* to take it.",
        "not_yours_to_take": "Case #{case} is not for you: it belongs to {owner}. Ask them or an admin.",
        "not_your_team": "That chat belongs to {team}, not to your teams: ask someone on {team} or an admin.",
        "cannot_reach": "This customer writes through {channel}: messages from here cannot reach them.",
        "media_size": "Not passed on to {customer}: your {kind} is {size_mb} MB and WhatsApp takes up to {most_mb} MB. Send a smaller one or a link.",
        "media_type": "Not passed on to {customer}: WhatsApp does not take {mime_type} as {kind} (it takes {allowed}).",
        "media_kind": "Not passed on to {customer}: WhatsApp does not forward that kind of message ({kind}).",
        "media_missing": "I could not download your {kind} from WhatsApp, so {customer} did not get it: try sending it again.",
        "media_in_panel": " (too large to forward on WhatsApp: it is in the panel)",
        "window_closed": "Your message could not reach {customer}: more than 24 h since their last message. I sent them the template to resume the chat.",
        "send_failed": "A message to {customer} (case #{case}) could not be sent: {error}",
        "report": "Today: {opened} cases ({reasons}); {closed} handed back; {waiting} waiting. First human reply: median {median}.",
        "digest": "Good morning. {count} cases are waiting in the {team} queue:",
        "digest_take": "Write *take N* to take one.",
        "erased": "Done: everything about {customer} is erased ({rows} rows).",
        "admins_only": "Only an admin can do that.",
        "judge_question": "Case #{case}: was a person needed?",
        "judge_needed": "Yes",
        "judge_bot": "No, the bot could",
        "judge_other": "Something else",
        "judge_topic": "Case #{case}: with which of its answers?",
        "judged": "Thanks: noted on case #{case}.",
        "report_judged": "Judged {judged}: a person was needed in {precision}; possible bot misses: {misses}.",
        "low_rating": "Customer {customer} rated case #{case} badly ({agent}).",
        "help": (
            "Commands:\n*take 12* take a case (or *take <phone>* for a chat of your teams)\n*pass* pass the case\n"
            "*done* hand the chat back to the bot\n*cases* your cases and the queue\n*switch 12* change the active case\n"
            "*note ...* private note\n*transfer to Bruno* or *to support*\n*report* today's numbers\n"
            "Anything else you write goes to the customer of your active case. Replying to a notification picks that case."
        ),
    },
}


def desk(key: str, lang: str, **values) -> str:
    return DESK.get(lang, DESK["en"])[key].format(**values)


# What the system itself tells customers (the bot's own words are in domain.yml).
CUSTOMER = {
    "es": {
        "taken": "Una persona del equipo ya está con tu consulta y te escribe por acá.",
        "still_looking": "Seguimos buscando a la persona indicada para tu consulta; te escribimos por acá en cuanto esté.",
        "queue_moved": "Avanzamos: {queue} Seguimos acá.",
        "media_too_big": "Recibimos tu archivo y lo guardamos con tu consulta, pero es más grande de lo que WhatsApp deja reenviar (hasta {most_mb} MB). Si podés, mandá uno más liviano.",
        "rate_question": "Una pregunta rápida: ¿cómo te atendimos?",
        "rate_bot_question": "Una pregunta rápida: ¿te sirvieron mis respuestas?",
        "rate_good": "😀 Bien",
        "rate_okay": "😐 Regular",
        "rate_bad": "😞 Mal",
        "rated": "¡Gracias por contarnos!",
    },
    "en": {
        "taken": "A person on our team is on your request now and will write to you here.",
        "still_looking": "We are still finding the right person for your request; they will write to you here soon.",
        "queue_moved": "Moving along: {queue} We're still here.",
        "media_too_big": "We got your file and kept it with your request, but it is larger than WhatsApp lets us pass on (up to {most_mb} MB). If you can, send a smaller one.",
        "rate_question": "A quick question: how did we do?",
        "rate_bot_question": "A quick question: did my answers help?",
        "rate_good": "😀 Good",
        "rate_okay": "😐 Okay",
        "rate_bad": "😞 Bad",
        "rated": "Thanks for telling us!",
    },
}


def customer(key: str, lang: str, **values) -> str:
    return CUSTOMER.get(lang, CUSTOMER["es"])[key].format(**values)
