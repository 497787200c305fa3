"""A safety net under the intent classifier: phrases that always mean "a person must see this".

A classifier trained on a few hundred examples will sometimes call "me arde el ojo con
las lentillas" a catalogue question. These patterns catch the cases the business cannot
afford to miss: a customer asking for a person, or a sensitive case (complaint, return,
health, legal threat, billing dispute). They are deliberately narrow — specific phrases,
not single topic words — because policy questions ("what's your return policy?") must
stay with the bot. They run on lower-cased text without accents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

from posta.language import fold


@dataclass(frozen=True)
class Hit:
    category: str  # requested, complaint, return, health, legal, billing
    phrase: str  # the words that matched, for the case summary and the logs


PATTERNS: Dict[str, List[str]] = {
    "health": [
        r"\b(me duele|me duelen|dolor de (cabeza|ojos?)|me arde|me arden|ardor|me pica|me pican|picazon"
        r"|ojos? rojos?|irritad[oa]s?|vision borrosa|veo borroso|veo (doble|manchas|puntos|moscas|luces)"
        r"|moscas volantes|conjuntivitis|glaucoma|catarata|cataratas|desprendimiento de retina|orzuelo"
        r"|infeccion|lagrimeo|ojo seco|ojos secos|colirio|medicamento|medicacion|mareo|mareos|migrana"
        r"|dioptrias|perdi vision|no veo bien|se me nubla|me lagrimea|me lagrimean)\b",
        r"\b(eyes? (hurt|hurts|itch|itches|itchy|burn|burns|burning|is red|are red|sore|pain|watery|dry)"
        r"|eye pain|blurry|blurred|headache|headaches|seeing (double|spots|floaters|flashes)|floaters"
        r"|conjunctivitis|pink eye|glaucoma|cataract|cataracts|eye infection|stye|eye drops"
        r"|medication|dizzy|dizziness|migraine|diopter|diopters|lost vision|can'?t see well)\b",
    ],
    "legal": [
        r"\b(abogad[oa]|demanda|demandar|demandarlos|demando|denuncia|denunciar|denunciarlos|denuncio|los denuncio|defensa del consumidor"
        r"|carta documento|juicio|accion legal|acciones legales|tribunales)\b",
        r"\b(lawyer|attorney|sue you|sue them|suing|lawsuit|legal action|consumer protection"
        r"|small claims|take you to court)\b",
    ],
    "billing": [
        r"\b(me cobraron (dos veces|doble|de mas|mal|algo)|cobro (doble|duplicado|indebido)|doble cobro"
        r"|no reconozco (el|un|este|ese) (cobro|cargo|debito)|factura (mal|equivocada|incorrecta)"
        r"|me debitaron|cargo indebido|cargo duplicado|me cobraron intereses)\b",
        r"\b(charged (me )?(twice|double|two times|wrong|extra|more)|double charge|double charged"
        r"|overcharg\w*|unauthori[sz]ed charge|don'?t recognize (this|the|a|that) charge"
        r"|wrong (amount|invoice|bill)|billing (issue|problem|error)|chargeback)\b",
    ],
    "return": [
        r"\b(quiero|quisiera|necesito|vengo a|voy a) (devolver|cambiar|un reembolso|que me devuelvan)\b",
        r"\b(devolverlos|devolverlas|devolverlo|devolverla|me devuelvan (la plata|el dinero|mi plata|mi dinero))\b",
        r"\b(lo|la|los|las) quiero (devolver|cambiar)\b",
        r"\bse (me |le )?(rompio|rompieron|partio|partieron|quebro|quebraron|despego|desoldo|salio|salieron|solto)"
        r" (el |la |los |las |un |una )?(armazon|marco|montura|patilla|patillas|lente|lentes|cristal|cristales"
        r"|anteojos|gafas|tornillo|bisagra|vidrio)\b",
        r"\b(i want|i'd like|id like|i would like|i need) (to )?(return|exchange|a refund|refund|my money back)\b",
        r"\b(my money back|refund me|return them|return it|exchange them|exchange it)\b",
        r"\b(frame|frames|glasses|lens|lenses|hinge|arm|temple)s? (broke|snapped|cracked|came apart|fell apart)\b",
    ],
    "complaint": [
        r"\b(queja|quejarme|me quiero quejar|reclamo formal|pesimo|pesima|pesimos|malisimo|malisima"
        r"|una verguenza|que verguenza|una estafa|estafadores|chantas|indignad[oa]|inaceptable"
        r"|mala atencion|atencion horrible|atencion pesima|me mintieron|me maltrat|nadie me responde"
        r"|me (atendio|atendieron|trato|trataron) (re |muy |super |tan )?mal"
        r"|nadie responde|estoy harto|estoy harta)\b",
        r"\b(complaint|complain|unacceptable|worst service|terrible service|awful service|rude"
        r"|ripped off|fed up|disgusting|very disappointed|so disappointed|lied to me|nobody answers"
        r"|no one answers)\b",
    ],
    "requested": [
        r"(hablar|comunicarme|contactarme|chatear|atenderme) con (una persona|alguien|un humano|una humana"
        r"|un asesor|una asesora|un vendedor|una vendedora|un agente|un operador|una operadora"
        r"|el encargado|la encargada|el dueno|la duena|atencion al cliente|alguien del local)",
        r"\b(pasame|pasame|me pasas|me pasan|me podes pasar|me puedes pasar|me pueden pasar"
        r"|derivame|me derivas|comunicame|me comunicas|me comunican) con\b",
        r"\b(quiero|necesito|prefiero|busco) (a )?(una persona|un humano|alguien real|un asesor"
        r"|una asesora|un vendedor|una vendedora|un operador|un agente)\b",
        r"\bque me (llame|llamen|atienda|atiendan|escriba|escriban) (alguien|una persona|un humano)",
        r"\b(llamenme|llamame|me pueden llamar|me podes llamar|me puedes llamar)\b",
        r"^\s*(humano|asesor|asesora|operador|operadora|persona|agente|vendedor|vendedora)\s*[!?.]*\s*$",
        r"\b(talk|speak|chat) (to|with) (a |an |some |your )?(real )?(human|person|someone|somebody"
        r"|agent|representative|rep|advisor|manager|staff|salesperson|sales person|people)\b",
        r"\b(connect|transfer|put|pass) me (to|through|with)\b",
        r"\b(i want|i need|i'd like|id like|get me) (a |an )?(human|real person|person|agent|representative)\b",
        r"\b(call me|give me a call)\b",
        r"^\s*(human|agent|representative|operator|person)( please| pls| plz)?\s*[!?.]*\s*$",
    ],
}

_COMPILED: List[Tuple[str, "re.Pattern[str]"]] = [
    (category, re.compile(pattern)) for category, patterns in PATTERNS.items() for pattern in patterns
]

# The intent each category stands for, in the NLU data of `data/nlu/`.
INTENT_FOR_CATEGORY = {
    "requested": "request_human",
    "complaint": "complaint",
    "return": "return_request",
    "health": "health_question",
    "legal": "legal_threat",
    "billing": "billing_dispute",
}


@lru_cache(maxsize=4096)
def match(text: str) -> Optional[Hit]:
    """The first category whose phrases appear in `text`, most specific first: a health
    worry or a legal threat outranks a complaint, and any sensitive case outranks a plain
    request for a person."""
    folded = fold(text or "")
    for category, pattern in _COMPILED:
        found = pattern.search(folded)
        if found:
            return Hit(category=category, phrase=found.group(0).strip())
    return None
