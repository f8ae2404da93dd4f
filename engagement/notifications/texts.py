"""The words of reply emails in each language the widget may pass (`lang` on a comment post);
any other language, or none, gets English. Every language has the same keys. The HTML part of
every email to a reader (these, and the newsletter's confirmation) is `html_document`."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "dir": "ltr",
        "labelled": "{label}: {link}",  # a label and its link, in plain text
        "confirm_subject": "{site}: confirm reply notifications",
        "confirm_intro": "Someone, hopefully you, asked {site} to email this address when "
                         "someone replies to a comment. To confirm, open this link and press "
                         "the button on the page:",
        "confirm_note": "The link works for {hours} hours. If you did not ask for this, ignore "
                        "this email: nothing will be sent to you.",
        "replies_subject": "{site}: new replies to your comment on “{title}”",
        "replies_intro": "New replies to your comment on “{title}”:",
        "reply_by": "{name} wrote:",
        "view": "Read it on the site",
        "unsubscribe": "Stop emails about this conversation",
        "stop_all": "Stop all reply emails from {site}",
    },
    "fr": {
        "dir": "ltr",
        "labelled": "{label} : {link}",
        "confirm_subject": "{site} : confirmez les notifications de réponse",
        "confirm_intro": "Quelqu’un, vous sans doute, a demandé à {site} d’écrire à cette "
                         "adresse quand on répond à un commentaire. Pour confirmer, ouvrez ce "
                         "lien et appuyez sur le bouton de la page :",
        "confirm_note": "Le lien est valable {hours} heures. Si vous n’avez rien demandé, "
                        "ignorez ce message : vous ne recevrez rien.",
        "replies_subject": "{site} : nouvelles réponses à votre commentaire sur « {title} »",
        "replies_intro": "Nouvelles réponses à votre commentaire sur « {title} » :",
        "reply_by": "{name} a écrit :",
        "view": "Lire sur le site",
        "unsubscribe": "Ne plus recevoir de messages sur cette conversation",
        "stop_all": "Ne plus recevoir aucune notification de réponse de {site}",
    },
    "de": {
        "dir": "ltr",
        "labelled": "{label}: {link}",
        "confirm_subject": "{site}: Antwort-Benachrichtigungen bestätigen",
        "confirm_intro": "Jemand, hoffentlich Sie, hat {site} gebeten, diese Adresse zu "
                         "benachrichtigen, wenn jemand auf einen Kommentar antwortet. Zum "
                         "Bestätigen öffnen Sie diesen Link und drücken Sie den Knopf:",
        "confirm_note": "Der Link gilt {hours} Stunden. Wenn Sie das nicht waren, ignorieren "
                        "Sie diese E-Mail: Sie erhalten nichts.",
        "replies_subject": "{site}: neue Antworten auf Ihren Kommentar zu „{title}“",
        "replies_intro": "Neue Antworten auf Ihren Kommentar zu „{title}“:",
        "reply_by": "{name} schrieb:",
        "view": "Auf der Website lesen",
        "unsubscribe": "Keine E-Mails mehr zu diesem Gespräch",
        "stop_all": "Keine Antwort-E-Mails mehr von {site}",
    },
    "es": {
        "dir": "ltr",
        "labelled": "{label}: {link}",
        "confirm_subject": "{site}: confirma los avisos de respuestas",
        "confirm_intro": "Alguien, seguramente tú, pidió a {site} que escriba a esta dirección "
                         "cuando alguien responda a un comentario. Para confirmarlo, abre este "
                         "enlace y pulsa el botón de la página:",
        "confirm_note": "El enlace funciona durante {hours} horas. Si no lo pediste, ignora "
                        "este correo: no recibirás nada.",
        "replies_subject": "{site}: nuevas respuestas a tu comentario en «{title}»",
        "replies_intro": "Nuevas respuestas a tu comentario en «{title}»:",
        "reply_by": "{name} escribió:",
        "view": "Leer en el sitio",
        "unsubscribe": "No recibir más correos de esta conversación",
        "stop_all": "No recibir ningún aviso de respuestas de {site}",
    },
    "ar": {
        "dir": "rtl",
        "labelled": "{label}: {link}",
        "confirm_subject": "{site}: تأكيد إشعارات الردود",
        "confirm_intro": "طلب أحدهم، ونرجو أن تكون أنت، من {site} مراسلة هذا العنوان عندما يرد "
                         "أحد على تعليق. للتأكيد افتح هذا الرابط واضغط الزر في الصفحة:",
        "confirm_note": "يعمل الرابط لمدة {hours} ساعة. إذا لم تطلب ذلك فتجاهل هذه الرسالة: "
                        "لن يُرسل إليك شيء.",
        "replies_subject": "{site}: ردود جديدة على تعليقك على «{title}»",
        "replies_intro": "ردود جديدة على تعليقك على «{title}»:",
        "reply_by": "كتب {name}:",
        "view": "اقرأه على الموقع",
        "unsubscribe": "إيقاف الرسائل عن هذه المحادثة",
        "stop_all": "إيقاف كل رسائل الردود من {site}",
    },
    "so": {
        "dir": "ltr",
        "labelled": "{label}: {link}",
        "confirm_subject": "{site}: xaqiiji ogeysiisyada jawaabaha",
        "confirm_intro": "Qof, waxaan rajeyneynaa inaad adigu tahay, ayaa ka codsaday {site} "
                         "inuu cinwaankan u qoro marka qof ka jawaabo faallo. Si aad u "
                         "xaqiijiso, fur xiriirkan oo riix badhanka bogga:",
        "confirm_note": "Xiriirku wuxuu shaqeynayaa {hours} saacadood. Haddii aadan codsan, "
                        "iska dhaaf fariintan: waxba laguuma soo diri doono.",
        "replies_subject": "{site}: jawaabo cusub oo ku saabsan faalladaada “{title}”",
        "replies_intro": "Jawaabo cusub oo ku saabsan faalladaada “{title}”:",
        "reply_by": "{name} ayaa qoray:",
        "view": "Ka akhri bogga",
        "unsubscribe": "Jooji fariimaha wadahadalkan",
        "stop_all": "Jooji dhammaan fariimaha jawaabaha ee {site}",
    },
}
LANGUAGES = tuple(TEXTS)


def language(tag: str | None) -> str:
    """The shipped language a tag asks for ("fr-CA" is fr); English when none fits."""
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in TEXTS else "en"


def texts(lang: str) -> dict[str, str]:
    return TEXTS[language(lang)]


def html_document(body: str, lang: str | None) -> str:
    """An email's HTML part around `body`, in the language and direction of `lang`."""
    return (f'<!doctype html>\n<html lang="{language(lang)}" dir="{texts(lang)["dir"]}">\n'
            f'<head><meta charset="utf-8"></head>\n<body>\n{body}\n</body>\n</html>\n')
