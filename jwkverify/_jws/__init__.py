"""Machinery of :mod:`jwkverify.jws`: the protected header's checks and the choice of verifying key."""
