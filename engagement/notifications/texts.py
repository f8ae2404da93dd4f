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
        "reply_subject": "{site}: a new reply to your comment on “{title}”",
        "reply_intro": "A new reply to your comment on “{title}”:",
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
        "reply_subject": "{site} : nouvelle réponse à votre commentaire sur « {title} »",
        "reply_intro": "Nouvelle réponse à votre commentaire sur « {title} » :",
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
        "reply_subject": "{site}: neue Antwort auf Ihren Kommentar zu „{title}“",
        "reply_intro": "Neue Antwort auf Ihren Kommentar zu „{title}“:",
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
        "reply_subject": "{site}: nueva respuesta a tu comentario en «{title}»",
        "reply_intro": "Nueva respuesta a tu comentario en «{title}»:",
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
        "reply_subject": "{site}: رد جديد على تعليقك على «{title}»",
        "reply_intro": "رد جديد على تعليقك على «{title}»:",
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
        "reply_subject": "{site}: jawaab cusub oo ku saabsan faalladaada “{title}”",
        "reply_intro": "Jawaab cusub oo ku saabsan faalladaada “{title}”:",
        "replies_subject": "{site}: jawaabo cusub oo ku saabsan faalladaada “{title}”",
        "replies_intro": "Jawaabo cusub oo ku saabsan faalladaada “{title}”:",
        "reply_by": "{name} ayaa qoray:",
        "view": "Ka akhri bogga",
        "unsubscribe": "Jooji fariimaha wadahadalkan",
        "stop_all": "Jooji dhammaan fariimaha jawaabaha ee {site}",
    },
}
# The pages the emails' links open (notifications/pages.py), in the emails' language: kind ->
# (title, sentence, button or None).
PAGE_TEXTS: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "en": {
        "confirm": ("Confirm reply emails",
                    "Press the button to get an email when someone replies to your comments.",
                    "Confirm"),
        "confirmed": ("Reply emails confirmed",
                      "Thank you: you will get an email when someone replies.", None),
        "unsubscribe": ("Stop emails about this conversation",
                        "Press the button to stop emails about replies in this conversation.",
                        "Stop these emails"),
        "unsubscribe_all": ("Stop all reply emails",
                            "Press the button to stop every reply email to this address.",
                            "Stop all reply emails"),
        "unsubscribed": ("Emails stopped",
                         "You will not get emails about this conversation any more.", None),
        "unsubscribed_all": ("All reply emails stopped",
                             "You will not get reply emails any more. To get them again, tick "
                             "the box with your next comment and confirm.", None),
        "unknown": ("This link does not work",
                    "The link is not valid, or it was used already.", None),
        "expired": ("This link has expired",
                    "Ask for reply emails again with your next comment to get a new link.",
                    None),
        "unsubscribe_expired": ("This link has expired",
                                "This unsubscribe link is too old: use the link in a more "
                                "recent reply email.", None),
    },
    "fr": {
        "confirm": ("Confirmez les notifications de réponse",
                    "Appuyez sur le bouton pour recevoir un message quand on répond à vos "
                    "commentaires.", "Confirmer"),
        "confirmed": ("Notifications de réponse confirmées",
                      "Merci : vous recevrez un message quand on vous répondra.", None),
        "unsubscribe": ("Ne plus recevoir de messages sur cette conversation",
                        "Appuyez sur le bouton pour ne plus recevoir de messages sur les "
                        "réponses de cette conversation.", "Arrêter ces messages"),
        "unsubscribe_all": ("Arrêter toutes les notifications de réponse",
                            "Appuyez sur le bouton pour que cette adresse ne reçoive plus "
                            "aucune notification de réponse.",
                            "Arrêter toutes les notifications"),
        "unsubscribed": ("Messages arrêtés",
                         "Vous ne recevrez plus de messages sur cette conversation.", None),
        "unsubscribed_all": ("Toutes les notifications de réponse sont arrêtées",
                             "Vous ne recevrez plus de notifications de réponse. Pour les "
                             "recevoir à nouveau, cochez la case avec votre prochain "
                             "commentaire et confirmez.", None),
        "unknown": ("Ce lien ne fonctionne pas",
                    "Le lien n’est pas valide, ou il a déjà été utilisé.", None),
        "expired": ("Ce lien a expiré",
                    "Demandez à nouveau les notifications de réponse avec votre prochain "
                    "commentaire pour recevoir un nouveau lien.", None),
        "unsubscribe_expired": ("Ce lien a expiré",
                                "Ce lien de désabonnement est trop ancien : utilisez celui "
                                "d’une notification de réponse plus récente.", None),
    },
    "de": {
        "confirm": ("Antwort-Benachrichtigungen bestätigen",
                    "Drücken Sie den Knopf, um eine E-Mail zu erhalten, wenn jemand auf Ihre "
                    "Kommentare antwortet.", "Bestätigen"),
        "confirmed": ("Antwort-Benachrichtigungen bestätigt",
                      "Vielen Dank: Sie erhalten eine E-Mail, wenn jemand antwortet.", None),
        "unsubscribe": ("Keine E-Mails mehr zu diesem Gespräch",
                        "Drücken Sie den Knopf, um keine E-Mails mehr über Antworten in diesem "
                        "Gespräch zu erhalten.", "Diese E-Mails abbestellen"),
        "unsubscribe_all": ("Alle Antwort-E-Mails abbestellen",
                            "Drücken Sie den Knopf, damit diese Adresse keine Antwort-E-Mails "
                            "mehr erhält.", "Alle Antwort-E-Mails abbestellen"),
        "unsubscribed": ("E-Mails abbestellt",
                         "Sie erhalten keine E-Mails mehr zu diesem Gespräch.", None),
        "unsubscribed_all": ("Alle Antwort-E-Mails abbestellt",
                             "Sie erhalten keine Antwort-E-Mails mehr. Um sie wieder zu "
                             "erhalten, setzen Sie bei Ihrem nächsten Kommentar das Häkchen "
                             "und bestätigen Sie.", None),
        "unknown": ("Dieser Link funktioniert nicht",
                    "Der Link ist ungültig oder wurde bereits verwendet.", None),
        "expired": ("Dieser Link ist abgelaufen",
                    "Bitten Sie mit Ihrem nächsten Kommentar erneut um Antwort-E-Mails, um "
                    "einen neuen Link zu erhalten.", None),
        "unsubscribe_expired": ("Dieser Link ist abgelaufen",
                                "Dieser Abmeldelink ist zu alt: Verwenden Sie den Link in "
                                "einer neueren Antwort-E-Mail.", None),
    },
    "es": {
        "confirm": ("Confirma los avisos de respuestas",
                    "Pulsa el botón para recibir un correo cuando alguien responda a tus "
                    "comentarios.", "Confirmar"),
        "confirmed": ("Avisos de respuestas confirmados",
                      "Gracias: recibirás un correo cuando alguien responda.", None),
        "unsubscribe": ("No recibir más correos de esta conversación",
                        "Pulsa el botón para dejar de recibir correos sobre las respuestas de "
                        "esta conversación.", "Dejar de recibir estos correos"),
        "unsubscribe_all": ("No recibir ningún aviso de respuestas",
                            "Pulsa el botón para que esta dirección deje de recibir avisos de "
                            "respuestas.", "Dejar de recibir todos los avisos"),
        "unsubscribed": ("Correos detenidos", "Ya no recibirás correos sobre esta conversación.",
                         None),
        "unsubscribed_all": ("Avisos de respuestas detenidos",
                             "Ya no recibirás avisos de respuestas. Para volver a recibirlos, "
                             "marca la casilla con tu próximo comentario y confirma.", None),
        "unknown": ("Este enlace no funciona", "El enlace no es válido o ya se ha usado.",
                    None),
        "expired": ("Este enlace ha caducado",
                    "Vuelve a pedir los avisos de respuestas con tu próximo comentario para "
                    "recibir un enlace nuevo.", None),
        "unsubscribe_expired": ("Este enlace ha caducado",
                                "Este enlace para darte de baja es demasiado antiguo: usa el "
                                "de un aviso de respuestas más reciente.", None),
    },
    "ar": {
        "confirm": ("تأكيد إشعارات الردود", "اضغط الزر لتصلك رسالة عندما يرد أحد على تعليقاتك.",
                    "تأكيد"),
        "confirmed": ("تم تأكيد إشعارات الردود", "شكرًا لك: ستصلك رسالة عندما يرد أحد.", None),
        "unsubscribe": ("إيقاف الرسائل عن هذه المحادثة",
                        "اضغط الزر لإيقاف الرسائل عن الردود في هذه المحادثة.",
                        "إيقاف هذه الرسائل"),
        "unsubscribe_all": ("إيقاف كل رسائل الردود",
                            "اضغط الزر لإيقاف كل رسائل الردود إلى هذا العنوان.",
                            "إيقاف كل رسائل الردود"),
        "unsubscribed": ("تم إيقاف الرسائل", "لن تصلك رسائل عن هذه المحادثة بعد الآن.", None),
        "unsubscribed_all": ("تم إيقاف كل رسائل الردود",
                             "لن تصلك رسائل الردود بعد الآن. لتصلك مجددًا، حدّد المربع مع "
                             "تعليقك القادم ثم أكّد.", None),
        "unknown": ("هذا الرابط لا يعمل", "الرابط غير صالح، أو سبق استخدامه.", None),
        "expired": ("انتهت صلاحية هذا الرابط",
                    "اطلب رسائل الردود مجددًا مع تعليقك القادم لتحصل على رابط جديد.", None),
        "unsubscribe_expired": ("انتهت صلاحية هذا الرابط",
                                "رابط الإيقاف هذا قديم جدًا: استخدم الرابط الموجود في رسالة "
                                "ردود أحدث.", None),
    },
    "so": {
        "confirm": ("Xaqiiji ogeysiisyada jawaabaha",
                    "Riix badhanka si laguugu soo diro iimayl marka qof ka jawaabo "
                    "faallooyinkaaga.", "Xaqiiji"),
        "confirmed": ("Ogeysiisyada jawaabaha waa la xaqiijiyay",
                      "Mahadsanid: waxaad heli doontaa iimayl marka qof jawaabo.", None),
        "unsubscribe": ("Jooji fariimaha wadahadalkan",
                        "Riix badhanka si aad u joojiso fariimaha ku saabsan jawaabaha "
                        "wadahadalkan.", "Jooji fariimahan"),
        "unsubscribe_all": ("Jooji dhammaan fariimaha jawaabaha",
                            "Riix badhanka si aad u joojiso dhammaan fariimaha jawaabaha ee "
                            "cinwaankan.", "Jooji dhammaan fariimaha jawaabaha"),
        "unsubscribed": ("Fariimaha waa la joojiyay",
                         "Mar dambe ma heli doontid fariimo ku saabsan wadahadalkan.", None),
        "unsubscribed_all": ("Dhammaan fariimaha jawaabaha waa la joojiyay",
                             "Mar dambe ma heli doontid fariimaha jawaabaha. Si aad mar kale "
                             "u hesho, calaamadee sanduuqa marka aad dirto faalladaada xigta, "
                             "kadibna xaqiiji.", None),
        "unknown": ("Xiriirkan ma shaqeynayo",
                    "Xiriirku sax ma aha, ama horey ayaa loo isticmaalay.", None),
        "expired": ("Xiriirkan wakhtigiisii waa dhacay",
                    "Mar kale codso fariimaha jawaabaha marka aad dirto faalladaada xigta, si "
                    "aad u hesho xiriir cusub.", None),
        "unsubscribe_expired": ("Xiriirkan wakhtigiisii waa dhacay",
                                "Xiriirkan joojinta aad buu u duug yahay: isticmaal xiriirka "
                                "ku jira fariin jawaabeed ka cusub.", None),
    },
}
LANGUAGES = tuple(TEXTS)


def language(tag: str | None) -> str:
    """The shipped language a tag asks for ("fr-CA" is fr); English when none fits."""
    primary = (tag or "").strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in TEXTS else "en"


def texts(lang: str) -> dict[str, str]:
    return TEXTS[language(lang)]


def direction(lang: str | None) -> str:
    """The writing direction of the shipped language `lang` asks for: "rtl" or "ltr"."""
    return texts(lang)["dir"]


def html_document(body: str, lang: str | None) -> str:
    """An email's HTML part around `body`, in the language and direction of `lang`."""
    return (f'<!doctype html>\n<html lang="{language(lang)}" dir="{direction(lang)}">\n'
            f'<head><meta charset="utf-8"></head>\n<body>\n{body}\n</body>\n</html>\n')
