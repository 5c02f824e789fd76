"""Helpers for the S3 tests: clients for the test server, and what a bucket holds."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config


def make_client(endpoint: str, **config: Any) -> Any:
    """A boto3 S3 client for ``endpoint`` with the tests' credentials."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4", **config),
    )


def keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    """Every key in a bucket under a prefix, sorted."""
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))


def open_uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    """The bucket's multipart uploads that are neither completed nor aborted."""
    return client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
