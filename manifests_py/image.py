"""Container image references: a repository plus a tag or a digest, never ``latest``, never neither.

A tag says which release; a digest says which bytes. The committed ``dist/`` carries the project version as
the tag (the digest does not exist until CI pushes the image); CI re-synthesizes with the pushed digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ImageReference",
    "ImageReferenceError",
    "parse_image_reference",
    "validate_digest",
    "validate_repository",
    "validate_tag",
]

# The grammar of github.com/distribution/reference, restricted to what a registry accepts.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
)
_REPOSITORY = re.compile(rf"^(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_MUTABLE_TAGS = frozenset({"latest"})


class ImageReferenceError(ValueError):
    """An image reference is malformed or unpinned; the message starts with the field it came from."""


def validate_repository(repository: str, *, field: str) -> str:
    if not _REPOSITORY.fullmatch(repository):
        msg = f"{field}: {repository!r} is not an image repository (registry/name in lower case, no tag)"
        raise ImageReferenceError(msg)
    return repository


def validate_tag(tag: str, *, field: str) -> str:
    if not _TAG.fullmatch(tag):
        msg = f"{field}: {tag!r} is not a valid image tag"
        raise ImageReferenceError(msg)
    if tag.lower() in _MUTABLE_TAGS:
        msg = f"{field}: the tag {tag!r} is mutable; pin a release tag or a digest"
        raise ImageReferenceError(msg)
    return tag


def validate_digest(digest: str, *, field: str) -> str:
    if not _DIGEST.fullmatch(digest):
        msg = f"{field}: {digest!r} is not a sha256 digest (sha256: followed by 64 lower-case hex digits)"
        raise ImageReferenceError(msg)
    return digest


@dataclass(frozen=True, kw_only=True)
class ImageReference:
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        validate_repository(self.repository, field="image.repository")
        if self.tag is None and self.digest is None:
            msg = f"image: {self.repository!r} has neither a tag nor a digest"
            raise ImageReferenceError(msg)
        if self.tag is not None:
            validate_tag(self.tag, field="image.tag")
        if self.digest is not None:
            validate_digest(self.digest, field="image.digest")

    @property
    def pinned_by_digest(self) -> bool:
        return self.digest is not None

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.repository}{tag}{digest}"


def parse_image_reference(text: str, *, field: str) -> ImageReference:
    """Parse ``repository[:tag][@sha256:...]``; errors start with ``field``."""
    remainder, _, digest = text.partition("@")
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    repository, tag = (remainder[:colon], remainder[colon + 1 :]) if colon > slash else (remainder, "")
    if not tag and not digest:
        msg = f"{field}: {text!r} has neither a tag nor a digest; pin one (never rely on an implicit latest)"
        raise ImageReferenceError(msg)
    validate_repository(repository, field=field)
    if tag:
        validate_tag(tag, field=field)
    if digest:
        validate_digest(digest, field=field)
    return ImageReference(repository=repository, tag=tag or None, digest=digest or None)
