"""Mail: an outbox written in the transaction of the change that causes a message, delivered
after the commit (by a thread of the serving process or by `flask outbox deliver`), with
retries and back-off while the mail server is down. Nothing is lost and no request waits on
SMTP; several deliverers never send one message twice."""
