"""Mail: an outbox written in the transaction of the change that causes a message, delivered
after the commit (by the worker `flask outbox deliver --watch`, or on the embedded default by
a thread of the serving process), with
retries and back-off while the mail server is down. Nothing is lost and no request waits on
SMTP; several deliverers never send one message twice."""
