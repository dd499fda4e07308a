"""Container image references: a repository plus a tag or a digest, never ``latest``, never neither.

A tag says which release; a digest says which bytes. The committed ``dist/`` carries the project version as
the tag (the digest does not exist until CI pushes the image); CI re-synthesizes with the pushed digest.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, ValidationError, model_validator

from manifests_py._model import Props, describe_errors, shaped

__all__ = ["Digest", "ImageReference", "ImageReferenceError", "Repository", "Tag", "parse_image_reference"]

# The grammar of github.com/distribution/reference, restricted to what a registry accepts.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
)
Repository = Annotated[
    str,
    shaped(
        rf"(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*",
        "an image repository (registry/name in lower case, no tag)",
    ),
]


def _immutable(tag: str) -> str:
    if tag.lower() == "latest":
        msg = f"the tag {tag!r} is mutable; pin a release tag or a digest"
        raise ValueError(msg)
    return tag


Tag = Annotated[
    str, shaped(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "a valid image tag"), AfterValidator(_immutable)
]
Digest = Annotated[
    str, shaped(r"sha256:[a-f0-9]{64}", "a sha256 digest (sha256: followed by 64 lower-case hex digits)")
]


class ImageReferenceError(ValueError):
    """An image reference is malformed or unpinned; the message starts with the field it came from."""


class ImageReference(Props):
    repository: Repository
    tag: Tag | None = None
    digest: Digest | None = None

    @model_validator(mode="after")
    def _pinned(self) -> Self:
        if self.tag is None and self.digest is None:
            msg = (
                f"{self.repository!r} has neither a tag nor a digest; "
                "pin one (never rely on an implicit latest)"
            )
            raise ValueError(msg)
        return self

    @property
    def pinned_by_digest(self) -> bool:
        return self.digest is not None

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.repository}{tag}{digest}"


def parse_image_reference(text: str, *, field: str) -> ImageReference:
    """Parse ``repository[:tag][@sha256:...]``; ImageReferenceError naming ``field`` and every problem."""
    remainder, _, digest = text.partition("@")
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    repository, tag = (remainder[:colon], remainder[colon + 1 :]) if colon > slash else (remainder, "")
    try:
        return ImageReference(repository=repository, tag=tag or None, digest=digest or None)
    except ValidationError as error:
        reasons = [line.split(": ", 1)[-1] for line in describe_errors(error)]
        msg = f"{field}: {'; '.join(reasons)}"
        raise ImageReferenceError(msg) from error
