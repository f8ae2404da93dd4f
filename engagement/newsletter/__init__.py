"""Newsletter ("Stay in touch"): double opt-in signups with a consent record, confirmation and
unsubscription by emailed token, and the admins' list, export and erasure of subscribers."""
