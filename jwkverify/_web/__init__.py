"""The sans-I/O rules every web adapter shares: credentials, challenges, scopes, roles and metadata."""
