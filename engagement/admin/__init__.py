"""Admin access: bearer tokens with roles, made on the command line, and the audit log of every
change made with them."""
