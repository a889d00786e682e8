"""Machinery of :class:`~jwkverify.JWK`: reading members, building per-key-type material, export."""
