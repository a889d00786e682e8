"""Signatures: the backend seam, the ``cryptography`` backend and the pure-Python primitives."""
