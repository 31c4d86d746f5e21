"""Setting the sandbox's radosgw up like INFN's: an administrator, the OIDC provider, a role.

The issuer is registered as OIDC provider with audience ``object``; the role
``IAMaccess`` trusts it for ``sts:AssumeRoleWithWebIdentity`` and may do anything on
S3. radosgw 16 does not decode ``+`` in IAM form bodies, so policy documents are
written without spaces.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Dict, Tuple

from .ceph import CephCluster

__all__ = ["ROLE_NAME", "ROLE_ARN", "AUDIENCE", "create_administrator", "register_issuer"]

ROLE_NAME = "IAMaccess"
ROLE_ARN = f"arn:aws:iam:::role/{ROLE_NAME}"
AUDIENCE = "object"


def _compact(document: Dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def create_administrator(cluster: CephCluster) -> Tuple[str, str]:
    """A radosgw user allowed to manage OIDC providers and roles; its static keys."""
    access_key = "SANDBOXADMIN" + secrets.token_hex(4).upper()
    secret_key = secrets.token_urlsafe(30)
    cluster.radosgw_admin(
        "user",
        "create",
        "--uid=sandbox-admin",
        "--display-name=sandbox administrator",
        f"--access-key={access_key}",
        f"--secret={secret_key}",
    )
    cluster.radosgw_admin(
        "caps",
        "add",
        "--uid=sandbox-admin",
        "--caps=oidc-provider=*;roles=*;user-policy=*;users=*",
    )
    return access_key, secret_key


def register_issuer(iam: Any, issuer_url: str) -> None:
    """Register ``issuer_url`` and create the role that trusts it (``iam``: a boto3 client)."""
    iam.create_open_id_connect_provider(
        Url=issuer_url, ClientIDList=[AUDIENCE], ThumbprintList=["0" * 40]
    )
    provider = issuer_url.split("://", 1)[1]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": [f"arn:aws:iam:::oidc-provider/{provider}"]},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
            }
        ],
    }
    iam.create_role(RoleName=ROLE_NAME, Path="/", AssumeRolePolicyDocument=_compact(trust))
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}],
    }
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="s3-all", PolicyDocument=_compact(policy))
