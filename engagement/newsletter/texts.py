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


# The pages the email's links open (newsletter/pages.py), in the email's language: kind ->
# (title, sentence, button or None).
PAGE_TEXTS: dict[str, dict[str, tuple[str, str, str | None]]] = {
    "en": {
        "confirm": ("Confirm your subscription",
                    "Press the button to start receiving our newsletter.", "Confirm"),
        "confirmed": ("You are subscribed", "Thank you: your subscription is confirmed.", None),
        "unsubscribe": ("Unsubscribe", "Press the button to stop receiving our newsletter.",
                        "Unsubscribe"),
        "unsubscribed": ("You are unsubscribed",
                         "You will not receive our newsletter any more.", None),
        "unknown": ("This link does not work",
                    "The link is not valid, or it was used already.", None),
        "expired": ("This link has expired",
                    "Sign up again, and we will send you a new confirmation link.", None),
        "unsubscribe_expired": ("This link has expired",
                                "This unsubscribe link is too old: use the link in a more "
                                "recent email from us.", None),
    },
    "fr": {
        "confirm": ("Confirmez votre abonnement",
                    "Appuyez sur le bouton pour commencer à recevoir notre lettre "
                    "d’information.", "Confirmer"),
        "confirmed": ("Vous êtes abonné", "Merci : votre abonnement est confirmé.", None),
        "unsubscribe": ("Se désabonner",
                        "Appuyez sur le bouton pour ne plus recevoir notre lettre "
                        "d’information.", "Me désabonner"),
        "unsubscribed": ("Vous êtes désabonné",
                         "Vous ne recevrez plus notre lettre d’information.", None),
        "unknown": ("Ce lien ne fonctionne pas",
                    "Le lien n’est pas valide, ou il a déjà été utilisé.", None),
        "expired": ("Ce lien a expiré",
                    "Inscrivez-vous à nouveau : nous vous enverrons un nouveau lien de "
                    "confirmation.", None),
        "unsubscribe_expired": ("Ce lien a expiré",
                                "Ce lien de désabonnement est trop ancien : utilisez celui "
                                "d’un message plus récent de notre part.", None),
    },
    "de": {
        "confirm": ("Bestätigen Sie Ihr Abonnement",
                    "Drücken Sie den Knopf, um unseren Newsletter zu erhalten.", "Bestätigen"),
        "confirmed": ("Sie sind angemeldet", "Vielen Dank: Ihr Abonnement ist bestätigt.",
                      None),
        "unsubscribe": ("Abmelden",
                        "Drücken Sie den Knopf, um unseren Newsletter nicht mehr zu erhalten.",
                        "Abmelden"),
        "unsubscribed": ("Sie sind abgemeldet", "Sie erhalten unseren Newsletter nicht mehr.",
                         None),
        "unknown": ("Dieser Link funktioniert nicht",
                    "Der Link ist ungültig oder wurde bereits verwendet.", None),
        "expired": ("Dieser Link ist abgelaufen",
                    "Melden Sie sich erneut an, dann senden wir Ihnen einen neuen "
                    "Bestätigungslink.", None),
        "unsubscribe_expired": ("Dieser Link ist abgelaufen",
                                "Dieser Abmeldelink ist zu alt: Verwenden Sie den Link in "
                                "einer neueren E-Mail von uns.", None),
    },
    "es": {
        "confirm": ("Confirma tu suscripción",
                    "Pulsa el botón para empezar a recibir nuestro boletín.", "Confirmar"),
        "confirmed": ("Ya estás suscrito", "Gracias: tu suscripción está confirmada.", None),
        "unsubscribe": ("Darse de baja", "Pulsa el botón para dejar de recibir nuestro boletín.",
                        "Darme de baja"),
        "unsubscribed": ("Te has dado de baja", "Ya no recibirás nuestro boletín.", None),
        "unknown": ("Este enlace no funciona", "El enlace no es válido o ya se ha usado.",
                    None),
        "expired": ("Este enlace ha caducado",
                    "Vuelve a suscribirte y te enviaremos un nuevo enlace de confirmación.",
                    None),
        "unsubscribe_expired": ("Este enlace ha caducado",
                                "Este enlace para darte de baja es demasiado antiguo: usa el "
                                "de un correo nuestro más reciente.", None),
    },
    "ar": {
        "confirm": ("أكّد اشتراكك", "اضغط الزر لتبدأ في تلقي نشرتنا الإخبارية.", "تأكيد"),
        "confirmed": ("تم اشتراكك", "شكرًا لك: تم تأكيد اشتراكك.", None),
        "unsubscribe": ("إلغاء الاشتراك", "اضغط الزر لإيقاف تلقي نشرتنا الإخبارية.",
                        "إلغاء الاشتراك"),
        "unsubscribed": ("تم إلغاء اشتراكك", "لن تصلك نشرتنا الإخبارية بعد الآن.", None),
        "unknown": ("هذا الرابط لا يعمل", "الرابط غير صالح، أو سبق استخدامه.", None),
        "expired": ("انتهت صلاحية هذا الرابط", "اشترك مرة أخرى وسنرسل إليك رابط تأكيد جديدًا.",
                    None),
        "unsubscribe_expired": ("انتهت صلاحية هذا الرابط",
                                "رابط إلغاء الاشتراك هذا قديم جدًا: استخدم الرابط الموجود في "
                                "رسالة أحدث منا.", None),
    },
    "so": {
        "confirm": ("Xaqiiji isdiiwaangelintaada",
                    "Riix badhanka si aad u bilowdo inaad hesho wargeyskayaga.", "Xaqiiji"),
        "confirmed": ("Waad isdiiwaangelisay",
                      "Mahadsanid: isdiiwaangelintaada waa la xaqiijiyay.", None),
        "unsubscribe": ("Ka bax", "Riix badhanka si aad u joojiso helitaanka wargeyskayaga.",
                        "Ka bax"),
        "unsubscribed": ("Waad ka baxday", "Wargeyskayaga mar dambe ma heli doontid.", None),
        "unknown": ("Xiriirkan ma shaqeynayo",
                    "Xiriirku sax ma aha, ama horey ayaa loo isticmaalay.", None),
        "expired": ("Xiriirkan wakhtigiisii waa dhacay",
                    "Mar kale isdiiwaangeli, waxaan kuu soo diri doonnaa xiriir xaqiijin oo "
                    "cusub.", None),
        "unsubscribe_expired": ("Xiriirkan wakhtigiisii waa dhacay",
                                "Xiriirkan ka bixitaanka aad buu u duug yahay: isticmaal "
                                "xiriirka ku jira fariin naga timid oo ka cusub.", None),
    },
}
