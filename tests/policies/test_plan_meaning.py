"""The plan gate's meaning rules on the spellings they must see through, without a plan: the address
space a CIDR set covers and which ARNs name every resource (test_plan_rules.py judges real plans)."""

from __future__ import annotations

import re

import pytest

from policies.plan_meaning import admits_internet, every_resource
from tests.policies.conftest import FEATURES_DIR

# The every-resource scenario selects statements with this regex; POL_PLAN_004 asks every_resource().
FEATURE_TEXT = (FEATURES_DIR / "iam_least_privilege.feature").read_text(encoding="utf-8")
EVERY_RESOURCE = re.compile(re.findall(r'When its Resource is "([^"]+)" regex', FEATURE_TEXT)[0])


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/0"],
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
        ["11.0.0.0/9", "11.128.0.0/9"],  # two halves of a public /8
        ["8.0.0.0/7"],
        ["::/0"],
        ["2000::/3"],
        ["0.0.0.0/1", "0.0.0.0/1"],
    ],
)
def test_cidr_sets_that_cover_the_internet(cidrs):
    assert admits_internet(cidrs)


@pytest.mark.parametrize(
    "cidrs",
    [
        [],
        ["203.0.113.0/24"],
        [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
        ],  # private space is not the internet
        ["11.0.0.0/9"],  # half a /8
        ["224.0.0.0/3"],  # multicast and reserved
        ["fc00::/7", "fe80::/10"],
        ["2001:db8::/32"],
    ],
)
def test_cidr_sets_that_name_networks(cidrs):
    assert not admits_internet(cidrs)


@pytest.mark.parametrize(
    "arn",
    [
        "*",
        "arn:aws:s3:::*",
        "arn:aws:s3:::fix*/*",
        "arn:aws:iam::*:role/fixture",
        "arn:*:s3:::fixture",
        "arn:aws:sqs:*:123456789012:fixture",
        "arn:aws:ec2:eu-west-1:123456789012:*",
        "arn:aws:s?:::fixture",
    ],
)
def test_arns_that_name_every_resource(arn):
    assert every_resource(arn)
    assert EVERY_RESOURCE.match(arn), "the feature and the plan gate mean the same by every resource"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::fixture/*",
        "arn:aws:ec2:eu-west-1:123456789012:instance/*",
        "arn:aws:ec2:eu-west-1::image/*",
        "arn:aws:iam::123456789012:role/fixture",
        "arn:aws:logs:eu-west-1:123456789012:log-group:fixture:*",
    ],
)
def test_arns_that_name_resources(arn):
    assert not every_resource(arn)
    assert not EVERY_RESOURCE.match(arn)
