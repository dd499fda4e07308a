"""Image references: tag or digest required, never latest."""

from __future__ import annotations

import pytest

from manifests_py.image import ImageReference, ImageReferenceError, parse_image_reference

DIGEST = "sha256:" + "a" * 64
ECR = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/predictor"


@pytest.mark.parametrize(
    ("text", "repository", "tag", "digest"),
    [
        (f"{ECR}:0.1.0", ECR, "0.1.0", None),
        (f"{ECR}@{DIGEST}", ECR, None, DIGEST),
        (f"{ECR}:0.1.0@{DIGEST}", ECR, "0.1.0", DIGEST),
        (f"localhost:5000/team/predictor:{'x' * 128}", "localhost:5000/team/predictor", "x" * 128, None),
        ("predictor:abc123", "predictor", "abc123", None),
    ],
)
def test_valid_references(text, repository, tag, digest):
    reference = parse_image_reference(text, field="IMAGE")
    assert (reference.repository, reference.tag, reference.digest) == (repository, tag, digest)
    assert str(reference) == text
    assert reference.pinned_by_digest is (digest is not None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"{ECR}:latest", "IMAGE: the tag 'latest' is mutable"),
        (f"{ECR}:Latest", "IMAGE: the tag 'Latest' is mutable"),
        (ECR, "has neither a tag nor a digest"),
        ("localhost:5000/predictor", "has neither a tag nor a digest"),
        (f"{ECR}@sha256:abc", "is not a sha256 digest"),
        (f"{ECR}:-bad", "is not a valid image tag"),
        (f"Predictor:{'1'}", "is not an image repository"),
        (":1.0", "is not an image repository"),
    ],
)
def test_invalid_references_name_the_field(text, message):
    with pytest.raises(ImageReferenceError) as raised:
        parse_image_reference(text, field="IMAGE")
    assert str(raised.value).startswith("IMAGE: ")
    assert message in str(raised.value)


def test_a_reference_must_be_pinned():
    with pytest.raises(ValueError, match="neither a tag nor a digest"):
        ImageReference(repository=ECR)
    with pytest.raises(ValueError, match="mutable"):
        ImageReference(repository=ECR, tag="latest")
