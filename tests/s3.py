"""An S3-compatible server on loopback for the document store: moto's standalone server
(``moto[server]``) on an ephemeral port, with one bucket made for the test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key-only-for-the-loopback-server"


@contextmanager
def s3_server() -> Iterator[dict[str, str]]:
    """Start the server, make a bucket; yields the ``ACCELERATOR_`` settings that use it."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket = f"documents-{uuid.uuid4().hex[:8]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)
    try:
        yield {
            "ACCELERATOR_STORAGE_BACKEND": "s3",
            "ACCELERATOR_S3_ENDPOINT_URL": endpoint,
            "ACCELERATOR_S3_BUCKET": bucket,
            "ACCELERATOR_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "ACCELERATOR_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "ACCELERATOR_S3_ALLOW_HTTP": "true",
        }
    finally:
        server.stop()


def settings_fields(environment: dict[str, str]) -> dict[str, object]:
    """The same settings as ``Settings(...)`` keyword arguments."""
    return {
        key.removeprefix("ACCELERATOR_").lower(): (
            value == "true" if value in ("true", "false") else value
        )
        for key, value in environment.items()
    }
