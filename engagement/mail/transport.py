"""Where mail goes, from `ENGAGEMENT_MAIL_URL`: `console://` writes each message to the log;
`smtp://user:pass@host:port` sends it over SMTP, upgraded with STARTTLS first when the URL
says `?starttls=1` (`smtps://` speaks TLS from the first byte). Python's smtplib does the
talking; this module turns its many exceptions into one: transient, or refused for good."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import logging
import smtplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qs, unquote, urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

log = logging.getLogger("engagement.mail")

SCHEMES = {"console": None, "smtp": 25, "smtps": 465}
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class MailServer:
    scheme: str
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0  # seconds for connecting and for each SMTP command (MAIL_TIMEOUT)

    @property
    def console(self) -> bool:
        return self.scheme == "console"

    def __repr__(self) -> str:  # never the password, not even in a traceback
        return f"MailServer({self.scheme}://{self.host or ''}:{self.port or ''})"


def parse_mail_url(url: str) -> MailServer:
    """The mail server a URL names; ValueError (naming no password) when it names none."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"the scheme must be console, smtp or smtps, not {parts.scheme!r}")
    if scheme == "console":
        return MailServer("console")
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"{scheme}:// needs a host")
    options = parse_qs(parts.query)
    starttls = options.get("starttls", ["0"])[-1].strip().lower() in TRUE_WORDS
    if starttls and scheme == "smtps":
        raise ValueError("smtps:// speaks TLS from the start: use it without ?starttls=1, or "
                         "smtp://...?starttls=1")
    return MailServer(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        starttls=starttls,
    )


class DeliveryError(Exception):
    """A message was not delivered. `permanent`: the server refused it for good (5xx), so
    trying again cannot help. `broken`: the connection is gone; later messages need another.
    `refuses_all`: the server refuses every message whoever it is for (a login it wants, a
    sender it does not relay for): a setting to fix, after which trying again delivers."""

    def __init__(self, message: str, *, permanent: bool = False, broken: bool = False,
                 refuses_all: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.broken = broken
        self.refuses_all = refuses_all


# Replies that refuse the session rather than a recipient or a message: authentication
# required (530), too weak (534), credentials refused (535), encryption needed (538).
SESSION_REFUSALS = frozenset({530, 534, 535, 538})


def _refuses_all(code: int, text: str) -> bool:
    status = text.split(maxsplit=1)[0] if text else ""
    return (code in SESSION_REFUSALS or status == "5.7.0"
            or (status.startswith("5.7.") and "auth" in text.lower()))


def _refusal(code: int, text: bytes | str) -> DeliveryError:
    """A 4xx or 5xx reply about one recipient or message: permanent when 5xx, unless it
    refuses the session (a login), which a setting fixes."""
    reply = _reply(code, text)
    if code >= 500 and _refuses_all(code, reply.partition(" ")[2]):
        return _refused_all(reply)
    return DeliveryError(reply, permanent=code >= 500)


def _refused_all(reply: str) -> DeliveryError:
    return DeliveryError(f"{reply} (the mail server refuses every message: check the user "
                         "and password of ENGAGEMENT_MAIL_URL and ENGAGEMENT_MAIL_FROM)",
                         refuses_all=True)


class ConsoleConnection:
    def send(self, sender: str, recipient: str, message: str) -> None:
        log.info("mail from %s to %s (console://, not sent):\n%s", sender, recipient, message)


class SmtpConnection:
    def __init__(self, smtp: smtplib.SMTP):
        self.smtp = smtp

    def send(self, sender: str, recipient: str, message: str) -> None:
        # An address or message beyond ASCII needs the server's SMTPUTF8 extension.
        international = not (recipient.isascii() and message.isascii())
        options = ["SMTPUTF8", "BODY=8BITMIME"] if international else []
        try:
            refused = self.smtp.sendmail(sender, [recipient], message.encode("utf-8"),
                                         mail_options=options)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise _refusal(code, text) from None
        except smtplib.SMTPSenderRefused as error:
            # MAIL FROM refused (relay denied, a login wanted): so is every message; the
            # sender is ours, so a 5xx here is a setting to fix, not a message to drop.
            if error.smtp_code >= 500:
                raise _refused_all(_reply(error.smtp_code, error.smtp_error)) from None
            raise DeliveryError(_reply(error.smtp_code, error.smtp_error)) from None
        except smtplib.SMTPResponseException as error:  # data refused, ...
            raise _refusal(error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryError(str(error), permanent=True) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"connection lost: {error}", broken=True) from None
        if refused:  # one recipient only: not reached, but kept for smtplib's contract
            code, text = next(iter(refused.values()))
            raise DeliveryError(_reply(code, text), permanent=code >= 500)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"[:400]


@contextlib.contextmanager
def connect(server: MailServer) -> Iterator[ConsoleConnection | SmtpConnection]:
    """A connection to send messages over, closed afterwards; DeliveryError when the server
    cannot be reached, refuses TLS or refuses the credentials."""
    if server.console:
        yield ConsoleConnection()
        return
    try:
        if server.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"cannot reach {server.host}:{server.port}: {error}") from None
    try:
        try:
            if server.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if server.username:
                smtp.login(server.username, server.password or "")
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"{server.host}:{server.port} refused the session: "
                                f"{error}") from None
        yield SmtpConnection(smtp)
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.quit()
        smtp.close()


def reachable(server: MailServer, timeout: float) -> bool:
    """Whether the mail server accepts a TCP connection within `timeout` seconds."""
    if server.console:
        return True
    try:
        socket.create_connection((server.host, server.port), timeout=timeout).close()
    except OSError:
        return False
    return True


WEBHOOK_TIMEOUT = 10  # seconds to connect and to answer
# Answers that say trying again later may work; any other 4xx refuses the POST for good.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


def webhook_signature(body: bytes, secret: str) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the body under the shared secret: what
    `X-Engagement-Signature` carries, so the receiver knows the POST is ours and whole."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _RedirectsRefused(HTTPRedirectHandler):
    """A webhook's redirect is not followed: urllib would follow a 301 or 302 with a GET, and
    the event would be lost while counting as delivered."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx then raises HTTPError


_WEBHOOK_OPENER = build_opener(_RedirectsRefused)


def post_webhook(url: str, body: bytes, secret: str) -> None:
    """POST a signed JSON body; DeliveryError unless the receiver answers 2xx (permanent for
    a 4xx that trying again cannot fix; a 3xx is retried, and names where it points, for the
    operator to set)."""
    request = Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "engagement-webhook",
        "X-Engagement-Signature": webhook_signature(body, secret),
    })
    try:
        with _WEBHOOK_OPENER.open(request, timeout=WEBHOOK_TIMEOUT) as response:
            response.read(65536)
    except HTTPError as error:
        if 300 <= error.code < 400:
            location = error.headers.get("Location") or ""
            raise DeliveryError(
                f"{url} answered {error.code} Location: {location}: webhooks are not "
                "redirected; set ENGAGEMENT_MODERATION_WEBHOOK_URL to "
                f"{urljoin(url, location)}") from None
        permanent = 400 <= error.code < 500 and error.code not in RETRYABLE_STATUSES
        raise DeliveryError(f"{url} answered {error.code}", permanent=permanent) from None
    except (URLError, OSError, ValueError, http.client.HTTPException) as error:
        # HTTPException: a receiver whose answer is no HTTP (urllib passes it on as it is).
        raise DeliveryError(f"cannot reach the webhook: {error}") from None
