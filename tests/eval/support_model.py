"""The project's fake support model: a deterministic responder for the fake Anthropic API that behaves like
a reasonable support model over the demo store, by general rules over the request (never per question):

* a prompt-injection attempt is refused, with no tool;
* asked for a person, it hands over (``escalate_to_human``);
* an order id in the question (or, for a follow-up about "it", earlier in the thread) is looked up;
  "my orders" without an id lists them; anything else is searched in the knowledge base, with the
  question's words (those of another language through a small glossary, as a model would translate);
* once the tools answered, it answers from their results: the order's details, "not found", or the best
  article if it shares most of the question's key words (otherwise it says it does not know and offers a
  person), in the language the question was asked in (English, German, French or Spanish);
* a system prompt with the line ``Never use tools.`` gets answers without tools (how ``--compare`` is
  tested: one prompt changes the model's behaviour);
* a grading request (``supportbot eval --judge``) passes an answer unless it is a refusal or empty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from fakes.anthropic import RecordedRequest, Reply

from bot.eval.judge import JUDGE_SYSTEM
from bot.eval.language import detect_language

NO_TOOLS = "Never use tools."
_ORDER_ID = re.compile(r"(?<![\w-])(?:ORD[-\s#]*|#)(\d{3,12})\b", re.IGNORECASE)
_HUMAN = re.compile(
    r"\b(human|real person|a person|someone real|manager|supervisor|Mensch|Mitarbeiter|humain|conseiller|"
    r"humano|persona real)\b",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"ignore (all |any |your )?(previous|prior|above|earlier) (instructions|rules)|system prompt|"
    r"your instructions|developer mode|all (the )?orders|every order|other customers|jailbreak|"
    r"pretend (you|to be)|ignoriere|vergiss alle",
    re.IGNORECASE,
)
_MY_ORDERS = re.compile(
    r"\bmy (recent |last )?orders\b|\bmeine bestellungen\b|\bmes commandes\b", re.IGNORECASE
)
_FOLLOW_UP = re.compile(
    r"\b(it|that order|this order|the order|the package|arrive|delivery|tracking)\b", re.I
)
_WORD = re.compile(r"[^\W\d_]{4,}")
_GLOSSARY = {
    "rücksendung": "return",
    "zurückschicken": "return",
    "rückgabe": "return",
    "versand": "shipping",
    "lieferung": "delivery",
    "erstattung": "refund",
    "rückerstattung": "refund",
    "garantie": "warranty",
    "passwort": "password",
    "geschenkkarte": "gift card",
    "umtausch": "exchange",
    "retour": "return",
    "retourner": "return",
    "remboursement": "refund",
    "livraison": "shipping",
    "mot de passe": "password",
    "devolución": "return",
    "devolver": "return",
    "reembolso": "refund",
    "envío": "shipping",
    "garantía": "warranty",
    "contraseña": "password",
}
_IGNORED = frozenset(
    str.split(
        "what when where which how long does have with your about there this that would could should please "
        "into from they them then than much many need want know tell help thanks thank hello long something "
        "anything"
    )
)

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "order": "Here is what I found for order {id}:\n\n{details}",
        "orders": "Here are your recent orders:\n\n{details}",
        "not_found": "I couldn't find an order {id} for you. Please check the order id.",
        "article": "Here is what our help centre says ({title}):\n\n{snippet}",
        "unknown": "I don't know the answer to that, and no help article covers it. I can hand you to a "
        "person if you like.",
        "escalated": "I've handed this to a support lead; they will reply in this thread.",
        "refuse": "I can't help with that. I can help with your own orders, shipping, returns, refunds and "
        "account questions.",
        "no_tools": "I'm sorry, I can't look that up for you.",
    },
    "de": {
        "order": "Das habe ich zu Ihrer Bestellung {id} gefunden:\n\n{details}",
        "orders": "Das sind Ihre letzten Bestellungen:\n\n{details}",
        "not_found": "Ich konnte keine Bestellung {id} für Sie finden. Bitte prüfen Sie die Bestellnummer.",
        "article": "Dazu gibt es in unserem Hilfe-Center den Artikel „{title}“. Dort finden Sie alle "
        "Details; ich helfe Ihnen gerne weiter, wenn noch etwas unklar ist.",
        "unknown": "Das weiß ich leider nicht, und kein Artikel im Hilfe-Center beschreibt es. Ich kann Sie "
        "gerne an einen Mitarbeiter weitergeben.",
        "escalated": "Ich habe Ihre Anfrage an unser Support-Team weitergegeben; es meldet sich hier im "
        "Thread.",
        "refuse": "Dabei kann ich nicht helfen. Ich helfe Ihnen gerne mit Ihren eigenen Bestellungen.",
        "no_tools": "Das kann ich leider nicht für Sie nachsehen.",
    },
    "fr": {
        "order": "Voici ce que j'ai trouvé pour votre commande {id} :\n\n{details}",
        "orders": "Voici vos dernières commandes :\n\n{details}",
        "not_found": "Je n'ai pas trouvé de commande {id} pour vous. Merci de vérifier le numéro.",
        "article": "Notre centre d'aide a un article sur ce sujet : « {title} ». Vous y trouverez tous les "
        "détails, et je suis là si vous avez une autre question.",
        "unknown": "Je ne sais pas répondre à cette question, et aucun article ne la traite. Je peux vous "
        "mettre en contact avec un conseiller.",
        "escalated": "J'ai transmis votre demande à un responsable du support ; il vous répondra dans ce "
        "fil.",
        "refuse": "Je ne peux pas vous aider avec cela. Je peux vous aider avec vos propres commandes.",
        "no_tools": "Je ne peux pas vérifier cela pour vous.",
    },
    "es": {
        "order": "Esto es lo que he encontrado para su pedido {id}:\n\n{details}",
        "orders": "Estos son sus últimos pedidos:\n\n{details}",
        "not_found": "No he encontrado ningún pedido {id} para usted. Por favor, compruebe el número.",
        "article": "Nuestro centro de ayuda tiene un artículo sobre esto: «{title}». Allí encontrará todos "
        "los detalles, y estoy aquí si tiene otra pregunta.",
        "unknown": "No sé la respuesta a eso, y no hay ningún artículo que lo explique. Puedo pasarle con "
        "una persona del equipo.",
        "escalated": "He pasado su consulta a un responsable de soporte; le responderá en este hilo.",
        "refuse": "No puedo ayudarle con eso. Puedo ayudarle con sus propios pedidos.",
        "no_tools": "Lo siento, no puedo consultar eso para usted.",
    },
}


@dataclass
class _Exchange:
    """What one request says: the system prompt, the question, earlier questions, and this turn's tools."""

    system: str
    question: str
    earlier: list[str]
    calls: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)


def support_model(request: RecordedRequest) -> Reply:
    """The reply of the fake support model to one Messages API request."""
    exchange = _read(request)
    if exchange.system.startswith(JUDGE_SYSTEM[:40]):
        return _grade(exchange.question)
    language = _language(exchange.question)
    texts = TEXTS[language]
    if exchange.calls:
        return Reply.text(_answer(exchange, texts), chunk=200, ping=False)
    if NO_TOOLS in exchange.system:
        return Reply.text(texts["no_tools"], ping=False)
    question = exchange.question
    if _INJECTION.search(question):
        return Reply.text(texts["refuse"], ping=False)
    if _HUMAN.search(question):
        return _call("escalate_to_human", {"summary": question[:300]})
    order_ids = _order_ids(question)
    if not order_ids and _FOLLOW_UP.search(question):
        order_ids = [oid for text in reversed(exchange.earlier) for oid in _order_ids(text)][:1]
    if order_ids:
        return Reply.tool_use(*(("lookup_order", {"order_id": oid}) for oid in order_ids[:3]), ping=False)
    if _MY_ORDERS.search(question):
        return _call("list_my_orders", {})
    return _call("search_kb", {"query": _search_query(question)})


def _call(name: str, arguments: dict[str, Any]) -> Reply:
    return Reply.tool_use((name, arguments), ping=False, json_chunk=64)


def _answer(exchange: _Exchange, texts: dict[str, str]) -> str:
    """The answer from this turn's tool results."""
    parts: list[str] = []
    for call, result in zip(exchange.calls, exchange.results, strict=False):
        body = _result_text(result)
        name = call["name"]
        if name == "escalate_to_human":
            parts.append(texts["escalated"])
        elif name == "lookup_order":
            order_id = str(call["input"].get("order_id", ""))
            found = body.startswith("Order ")
            parts.append(
                texts["order"].format(id=order_id, details=body)
                if found
                else texts["not_found"].format(id=order_id)
            )
        elif name == "list_my_orders":
            parts.append(texts["orders"].format(details=body) if body.startswith("Recent orders") else body)
        else:
            article = _relevant_article(result, exchange.question)
            parts.append(texts["article"].format(**article) if article else texts["unknown"])
    return "\n\n".join(parts)


def _relevant_article(result: dict[str, Any], question: str) -> dict[str, str] | None:
    """The first search result if it shares more than half of the question's key words, else None."""
    for block in result.get("content") or ():
        if block.get("type") != "search_result":
            continue
        snippet = " ".join(inner.get("text", "") for inner in block.get("content", ()))
        haystack = f"{block['title']} {snippet}".casefold()
        keys = set(_key_words(_search_query(question)))
        if keys and sum(any(k[:5] in word for word in _WORD.findall(haystack)) for k in keys) * 2 > len(keys):
            return {"title": block["title"], "snippet": snippet}
        return None
    return None


def _key_words(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text) if word.casefold() not in _IGNORED]


def _search_query(question: str) -> str:
    """The question's words; a question in another language as the English words the glossary knows."""
    lowered = question.casefold()
    translated = [english for word, english in _GLOSSARY.items() if word.strip() in lowered]
    return " ".join(dict.fromkeys(translated)) if translated else question


def _grade(prompt: str) -> Reply:
    answers = re.findall(r"<answer>(.*?)</answer>", prompt, re.DOTALL)
    last = answers[-1].strip() if answers else ""
    if not last or last.startswith(("I can't", "I'm sorry")):
        return Reply.text("FAIL the answer does not help.", ping=False)
    return Reply.text("PASS the answer addresses the question.", ping=False)


def _language(question: str) -> str:
    found = detect_language(question)
    return found if found in TEXTS else "en"


def _order_ids(text: str) -> list[str]:
    return list(dict.fromkeys(f"ORD-{digits}" for digits in _ORDER_ID.findall(text)))


def _read(request: RecordedRequest) -> _Exchange:
    system = request.system
    system_text = system if isinstance(system, str) else " ".join(b.get("text", "") for b in system or ())
    messages = request.messages
    start = 0
    for index in range(len(messages) - 1, -1, -1):
        content = messages[index]["content"]
        if messages[index]["role"] == "user" and (
            isinstance(content, str) or any(b.get("type") == "text" for b in content)
        ):
            start = index
            break
    earlier = [_user_text(m) for m in messages[:start] if m["role"] == "user"]
    exchange = _Exchange(system_text, _user_text(messages[start]), earlier)
    for message in messages[start + 1 :]:
        for block in message["content"] if isinstance(message["content"], list) else ():
            if block.get("type") == "tool_use":
                exchange.calls.append(block)
            elif block.get("type") == "tool_result":
                exchange.results.append(block)
    return exchange


def _user_text(message: dict[str, Any]) -> str:
    """A person's words: their text blocks, without the ``Name: `` the bot puts before them."""
    content = message["content"]
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    text = "\n".join(b["text"] for b in blocks if b.get("type") == "text")
    lines = [line.split(": ", 1)[1] if ": " in line[:80] else line for line in text.splitlines()[:1]]
    return "\n".join(lines + text.splitlines()[1:])


def _result_text(result: dict[str, Any]) -> str:
    content = result.get("content")
    if isinstance(content, str):
        return content
    return json.dumps(content) if content and content[0].get("type") != "text" else content[0]["text"]
