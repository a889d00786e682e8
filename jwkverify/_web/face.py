"""What every middleware face shows of its configuration: the RFC 9728 document and its URL."""

from __future__ import annotations

from typing import Any

from .options import BearerOptions

__all__ = ["MetadataFace"]


class MetadataFace:
    """A mixin for the faces that serve the metadata document (built once in ``_options``)."""

    __slots__ = ()

    _options: BearerOptions

    @property
    def metadata(self) -> dict[str, Any]:
        """The RFC 9728 metadata document this middleware serves."""
        return self._options.document

    @property
    def metadata_url(self) -> str:
        """Where the metadata is (RFC 9728 §3.1): the ``resource_metadata`` of challenges."""
        url = self._options.metadata_url
        assert url is not None  # the middlewares always have a resource
        return url
