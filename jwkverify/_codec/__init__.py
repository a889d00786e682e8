"""Strict codecs: base64url (RFC 7515 §2) and JSON (RFC 8259, RFC 7519 §4).

Both refuse what the RFCs leave open (padding, duplicate names, lone surrogates).
"""
