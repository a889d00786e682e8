"""The remote key set's machinery.

HTTP client and transport, single flight, cache policy, discovery and the snapshot.
"""
