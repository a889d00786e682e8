"""DPoP (RFC 9449) at the resource server: proof checks, replay caches, nonces."""
