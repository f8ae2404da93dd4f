"""Idempotent writes: a client that sends `Idempotency-Key` with a write and retries it (its
connection broke, the answer never came) gets the first answer again, and nothing is written
twice. A route opts in with `@idempotent` (views.py)."""
