"""Machinery of :class:`~jwkverify.JWTVerifier`: claim options and checks, the verified-token cache."""
