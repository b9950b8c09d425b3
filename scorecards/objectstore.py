"""History on object storage: check the store answers before anything is written.

deltalake takes the store's settings from the environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL, AWS_ALLOW_HTTP for an S3-compatible
server; the Azure and Google equivalents for `az://` and `gs://`). A store that does not answer,
missing credentials or a missing bucket are the user's to fix: one sentence naming the URI,
exit 2, and no output folder touched.
"""

from __future__ import annotations

import os

from deltalake import DeltaTable

from scorecards.errors import UserError
from scorecards.lock import is_object_store

# fail within seconds, not after object_store's default ten retries over three minutes
PROBE_OPTIONS = {
    "max_retries": "1",
    "retry_timeout": "5s",
    "connect_timeout": "5s",
    "timeout": "15s",
}


AWS_CREDENTIAL_SOURCES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def _aws_credentials_set() -> bool:
    return any(os.environ.get(name) for name in AWS_CREDENTIAL_SOURCES)


def _sentence(uri: str, error: str) -> str:
    text = error.lower()
    bucket = uri.split("://", 1)[1].split("/", 1)[0]
    missing = "missing" in text and any(w in text for w in ("accesskey", "credential", "secret"))
    # without keys an S3 request goes unsigned (or to instance metadata) and is refused
    refused = "403" in text or "accessdenied" in text or "forbidden" in text
    if missing or (refused and uri.startswith("s3") and not _aws_credentials_set()):
        return (
            f"--history {uri}: no credentials for the object store; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or the store's equivalent) before running"
        )
    if "404" in text or "nosuchbucket" in text or "not found" in text:
        return f"--history {uri}: the bucket '{bucket}' does not exist on the object store; create it or fix the URI"
    if refused:
        return f"--history {uri}: the object store refuses these credentials (access denied to '{bucket}')"
    if "error sending request" in text or "connect" in text or "retries" in text or "dns" in text:
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or "the store's default endpoint"
        return (
            f"--history {uri}: the object store at {endpoint} does not answer; check "
            "AWS_ENDPOINT_URL and the network"
        )
    first = error.strip().splitlines()[0] if error.strip() else type(error).__name__
    return f"--history {uri} cannot be read: {first}"


def check_history_reachable(history: str) -> None:
    """Raise a UserError when an object-store history cannot be read (a folder is always fine)."""
    if not is_object_store(history):
        return
    uri = history.rstrip("/")
    try:
        DeltaTable.is_deltatable(f"{uri}/claims_ledger", storage_options=PROBE_OPTIONS)
    except Exception as exc:  # deltalake raises OSError or its own errors; each is one sentence
        raise UserError(_sentence(uri, str(exc))) from None
