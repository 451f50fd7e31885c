"""The control API: a scheduler served over a Unix socket, and a client of it."""
