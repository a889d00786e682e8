"""Machinery of :class:`~jwkverify.JWTVerifier`: the verified-token cache."""
