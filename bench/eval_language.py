"""How well `supportbot eval` tells an answer's language (`bot/eval/language.py`, a stopword scorer).

    python bench/eval_language.py

Scores the detector on labelled support answers, written as the bot writes them (order ids, tracking
numbers, product names and URLs among the words), in the seven languages it knows: the share detected
right overall and per language, the share left undecided, and the time per answer. Prints figures only.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import Figure, emit  # noqa: E402
from bot.eval.language import detect_language  # noqa: E402

TARGET_ACCURACY = 95.0

LABELLED: dict[str, tuple[str, ...]] = {
    "en": (
        "Your order ORD-10001 has shipped with UPS; the tracking number is 1Z999AA10123456784.",
        "You can return most items within 30 days of delivery for a refund to your original payment method.",
        "I couldn't find an order ORD-99999 for you. Please check the order id.",
        "Refunds usually reach your card 3-5 business days after the warehouse receives the parcel.",
        "I've handed this to a support lead; they will reply in this thread.",
        "The Ridgeline 2-Person Backpacking Tent is covered by our 2-year warranty.",
        "To reset your password, go to northwind.example/account and select Forgot password.",
        "We ship to Canada, the UK, the EU, Norway, Switzerland, Australia, New Zealand and Japan.",
        "Sorry, I don't know the answer to that. Shall I ask a person to help?",
        "Gift cards can be combined with one other payment method at checkout.",
    ),
    "de": (
        "Ihre Bestellung ORD-10001 ist mit UPS unterwegs, die Sendungsnummer ist 1Z999AA10123456784.",
        "Sie können die meisten Artikel innerhalb von 30 Tagen nach der Lieferung zurückschicken.",
        "Ich konnte keine Bestellung ORD-99999 für Sie finden. Bitte prüfen Sie die Bestellnummer.",
        "Die Erstattung ist meist 3 bis 5 Werktage nach dem Eingang im Lager auf Ihrer Karte.",
        "Ich habe Ihre Anfrage an unser Support-Team weitergegeben; es meldet sich hier.",
        "Das Ridgeline 2-Person Backpacking Tent hat zwei Jahre Garantie.",
        "Um Ihr Passwort zurückzusetzen, öffnen Sie northwind.example/account.",
        "Wir liefern nach Kanada, Großbritannien, in die EU, die Schweiz und nach Japan.",
        "Das weiß ich leider nicht. Soll ich einen Mitarbeiter fragen?",
        "Geschenkkarten können mit einer anderen Zahlungsart kombiniert werden.",
    ),
    "fr": (
        "Votre commande ORD-10001 a été expédiée avec UPS ; le numéro de suivi est 1Z999AA10123456784.",
        "Vous pouvez retourner la plupart des articles dans les 30 jours suivant la livraison.",
        "Je n'ai pas trouvé de commande ORD-99999 pour vous. Merci de vérifier le numéro.",
        "Le remboursement arrive sur votre carte 3 à 5 jours ouvrés après la réception du colis.",
        "J'ai transmis votre demande à un responsable du support ; il vous répondra dans ce fil.",
        "La tente Ridgeline 2-Person est couverte par notre garantie de deux ans.",
        "Pour changer votre mot de passe, allez sur northwind.example/account.",
        "Nous livrons au Canada, au Royaume-Uni, dans l'UE, en Suisse et au Japon.",
        "Je ne sais pas répondre à cette question. Voulez-vous parler à un conseiller ?",
        "Les cartes cadeaux peuvent être combinées avec un autre moyen de paiement.",
    ),
    "es": (
        "Su pedido ORD-10001 ha sido enviado con UPS; el número de seguimiento es 1Z999AA10123456784.",
        "Puede devolver la mayoría de los artículos en los 30 días siguientes a la entrega.",
        "No he encontrado ningún pedido ORD-99999 para usted. Por favor, compruebe el número.",
        "El reembolso llega a su tarjeta entre 3 y 5 días hábiles después de recibir el paquete.",
        "He pasado su consulta a un responsable de soporte; le responderá en este hilo.",
        "La tienda Ridgeline 2-Person tiene una garantía de dos años.",
        "Para cambiar su contraseña, vaya a northwind.example/account.",
        "Enviamos a Canadá, el Reino Unido, la UE, Suiza y Japón.",
        "No sé la respuesta a eso. ¿Quiere que le pase con una persona del equipo?",
        "Las tarjetas regalo se pueden combinar con otro método de pago.",
    ),
    "it": (
        "Il tuo ordine ORD-10001 è stato spedito con UPS; il numero di tracciamento è 1Z999AA10123456784.",
        "Puoi restituire la maggior parte degli articoli entro 30 giorni dalla consegna.",
        "Non ho trovato nessun ordine ORD-99999 per te. Controlla il numero, per favore.",
        "Il rimborso arriva sulla tua carta dopo 3-5 giorni lavorativi dalla ricezione del pacco.",
        "Ho passato la tua richiesta a un responsabile del supporto; ti risponderà in questa discussione.",
    ),
    "nl": (
        "Uw bestelling ORD-10001 is verzonden met UPS; het trackingnummer is 1Z999AA10123456784.",
        "U kunt de meeste artikelen binnen 30 dagen na levering terugsturen.",
        "Ik kon geen bestelling ORD-99999 voor u vinden. Controleer het nummer.",
        "De terugbetaling staat 3 tot 5 werkdagen na ontvangst van het pakket op uw kaart.",
        "Ik heb uw vraag doorgegeven aan een teamleider; die antwoordt hier in de draad.",
    ),
    "pt": (
        "O seu pedido ORD-10001 foi enviado com a UPS; o número de rastreio é 1Z999AA10123456784.",
        "Pode devolver a maioria dos artigos no prazo de 30 dias após a entrega.",
        "Não encontrei nenhum pedido ORD-99999 para você. Verifique o número, por favor.",
        "O reembolso chega ao seu cartão de 3 a 5 dias úteis depois de recebermos o pacote.",
        "Passei o seu pedido para um responsável do suporte; ele vai responder nesta conversa.",
    ),
}


def main() -> None:
    right = undecided = total = 0
    per_language: dict[str, float] = {}
    times: list[float] = []
    for language, answers in LABELLED.items():
        hits = 0
        for answer in answers:
            started = time.perf_counter()
            found = detect_language(answer)
            times.append((time.perf_counter() - started) * 1e6)
            hits += found == language
            undecided += found is None
            if found != language:
                print(f"  {language}: detected {found}: {answer}")
        per_language[language] = 100 * hits / len(answers)
        right += hits
        total += len(answers)
    accuracy = 100 * right / total
    print(f"{total} answers: {accuracy:.1f} % right, {undecided} undecided")
    for language, share in per_language.items():
        print(f"  {language}: {share:.0f} %")
    emit(
        "eval_language",
        [
            Figure("answers detected right", round(accuracy, 1), "%", at_least=TARGET_ACCURACY),
            Figure("undecided", undecided, "answers"),
            Figure("weakest language", round(min(per_language.values()), 1), "%"),
            Figure("time per answer p50", round(statistics.median(times), 1), "µs"),
        ],
    )


if __name__ == "__main__":
    main()
