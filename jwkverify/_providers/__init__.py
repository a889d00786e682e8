"""Provider presets: one module per provider, behind :mod:`jwkverify.providers`."""
