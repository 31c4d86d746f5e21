"""boto3's activation: ``boto3.DEFAULT_SESSION`` (what ``boto3.setup_default_session``
sets) becomes :func:`infnminio_boto.session`, so ``boto3.client("s3")`` reaches the store."""

from __future__ import annotations

from typing import Optional

from .activate import Activation, Activator, Context


def _apply(activation: Activation, context: Context) -> Optional[str]:
    import boto3

    from ..integrations.botocore import InfnMinioSession, session

    previous = boto3.DEFAULT_SESSION
    if previous is not None and not isinstance(previous, InfnMinioSession):
        if previous.profile_name not in (None, "default"):
            return f"boto3's default session uses the profile {previous.profile_name!r}"
    boto3.DEFAULT_SESSION = session(**context.keywords)
    activation.changed("boto3", "boto3.DEFAULT_SESSION = infnminio_boto.session()",
                       lambda: setattr(boto3, "DEFAULT_SESSION", previous))
    return None


ACTIVATOR = Activator(needs="boto3", apply=_apply)
