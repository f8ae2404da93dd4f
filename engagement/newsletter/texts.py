"""The words of the newsletter's confirmation email in each language that reply emails speak
(notifications/texts.py: the same languages, the same choice of one for a tag, the same HTML
part). The email names the publication (`ENGAGEMENT_SITE_NAME`) and repeats nothing the signup
form took: whoever types someone else's address must not put words into the mail they get."""

from __future__ import annotations

from engagement.notifications.texts import language

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "{site}: please confirm your subscription",
        "hello": "Hello,",
        "intro": "Someone, hopefully you, asked to receive the newsletter of {site} at this "
                 "address. To confirm, open this link and press the button on the page:",
        "note": "The link works for {hours} hours. If you did not ask for this, ignore this "
                "email: without confirmation you will not be subscribed, and you will not "
                "hear from us again.",
        "unsubscribe": "To unsubscribe at any time:",
    },
    "fr": {
        "subject": "{site} : confirmez votre abonnement",
        "hello": "Bonjour,",
        "intro": "Quelqu’un, vous sans doute, a demandé à recevoir la lettre d’information de "
                 "{site} à cette adresse. Pour confirmer, ouvrez ce lien et appuyez sur le "
                 "bouton de la page :",
        "note": "Le lien est valable {hours} heures. Si vous n’avez rien demandé, ignorez ce "
                "message : sans confirmation, vous ne serez pas abonné et nous ne vous "
                "écrirons plus.",
        "unsubscribe": "Pour vous désabonner à tout moment :",
    },
    "de": {
        "subject": "{site}: Bitte bestätigen Sie Ihr Abonnement",
        "hello": "Guten Tag,",
        "intro": "Jemand, hoffentlich Sie, möchte den Newsletter von {site} an diese Adresse "
                 "erhalten. Zum Bestätigen öffnen Sie diesen Link und drücken Sie den Knopf "
                 "auf der Seite:",
        "note": "Der Link gilt {hours} Stunden. Wenn Sie das nicht waren, ignorieren Sie diese "
                "E-Mail: Ohne Bestätigung werden Sie nicht angemeldet und hören nichts mehr "
                "von uns.",
        "unsubscribe": "Abmelden können Sie sich jederzeit hier:",
    },
    "es": {
        "subject": "{site}: confirma tu suscripción",
        "hello": "Hola:",
        "intro": "Alguien, seguramente tú, pidió recibir el boletín de {site} en esta "
                 "dirección. Para confirmarlo, abre este enlace y pulsa el botón de la página:",
        "note": "El enlace funciona durante {hours} horas. Si no lo pediste, ignora este "
                "correo: sin confirmación no quedarás suscrito y no volverás a saber de "
                "nosotros.",
        "unsubscribe": "Para darte de baja en cualquier momento:",
    },
    "ar": {
        "subject": "{site}: يرجى تأكيد اشتراكك",
        "hello": "مرحبًا،",
        "intro": "طلب أحدهم، ونرجو أن تكون أنت، تلقي النشرة الإخبارية من {site} على هذا "
                 "العنوان. للتأكيد افتح هذا الرابط واضغط الزر في الصفحة:",
        "note": "يعمل الرابط لمدة {hours} ساعة. إذا لم تطلب ذلك فتجاهل هذه الرسالة: لن يتم "
                "اشتراكك دون تأكيد، ولن نراسلك مرة أخرى.",
        "unsubscribe": "لإلغاء الاشتراك في أي وقت:",
    },
    "so": {
        "subject": "{site}: fadlan xaqiiji isdiiwaangelintaada",
        "hello": "Salaan,",
        "intro": "Qof, waxaan rajeyneynaa inaad adigu tahay, ayaa codsaday in cinwaankan loo "
                 "soo diro wargeyska {site}. Si aad u xaqiijiso, fur xiriirkan oo riix "
                 "badhanka bogga:",
        "note": "Xiriirku wuxuu shaqeynayaa {hours} saacadood. Haddii aadan codsan, iska "
                "dhaaf fariintan: xaqiijin la'aan laguma diiwaangelin doono, mar dambena "
                "nagama maqli doontid.",
        "unsubscribe": "Si aad uga baxdo wakhti kasta:",
    },
}


def texts(lang: str | None) -> dict[str, str]:
    return TEXTS[language(lang)]
