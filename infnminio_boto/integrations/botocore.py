"""boto3/botocore: the credential provider, ``install()`` and ``session()``. Keys reach
botocore through its public ``Credentials`` interface, refreshed by us; the private
attributes used are in :mod:`..compat.botocore` (docs/clients.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Union

import boto3
import botocore.session
from botocore.configprovider import ConstantProvider
from botocore.credentials import (
    CredentialProvider,
    Credentials,
    ReadOnlyCredentials,
    create_credential_resolver,
)
from botocore.exceptions import ProfileNotFound

from .._log import warn_once
from ..compat import botocore as botocore_private
from ..settings import Settings, aws_variables
from . import expired_keys, policy_denied

if TYPE_CHECKING:  # imported when credentials are first needed, not by session()
    from ..keys.refresh import RefreshingCredentials
    from ..sts.temporary_credentials import TemporaryCredentials

__all__ = [
    "StsWireProvider", "StsWireCredentials", "RefresherKeys", "InfnMinioSession", "install",
    "session", "s3_client_kwargs", "frozen",
]

# ReadOnlyCredentials gained ``account_id`` in botocore 1.35; older ones have three fields.
_FROZEN_FIELDS = len(ReadOnlyCredentials._fields)


def frozen(keys: TemporaryCredentials) -> ReadOnlyCredentials:
    """botocore's immutable snapshot of ``keys``."""
    values = (keys.access_key, keys.secret_key, keys.token, None)
    return ReadOnlyCredentials(*values[:_FROZEN_FIELDS])


class RefresherKeys:
    """botocore ``Credentials``' key attributes, read from ``refresher`` (a
    :class:`~infnminio_boto.keys.refresh.RefreshingCredentials`); also aiobotocore's."""

    def __init__(self, refresher: RefreshingCredentials, method: str = "sts-wire") -> None:
        # Not Credentials.__init__, which would fetch the keys at once.
        self.refresher = refresher
        self.method = method

    access_key = property(lambda self: self.refresher.get().access_key)
    secret_key = property(lambda self: self.refresher.get().secret_key)
    token = property(lambda self: self.refresher.get().token)
    account_id = property(lambda self: None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.refresher!r})"


class StsWireCredentials(RefresherKeys, Credentials):
    """botocore ``Credentials`` whose keys come from refreshing credentials."""

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return frozen(self.refresher.get())


class StsWireProvider(CredentialProvider):
    """A botocore ``CredentialProvider`` that exchanges the token, once a client needs
    keys; the settings are resolved at once (a configuration error raises here)."""

    METHOD = "sts-wire"
    CANONICAL_NAME = "custom-sts-wire"

    def __init__(self, settings: Optional[Settings] = None, **overrides: Any) -> None:
        super().__init__()
        if settings is not None and overrides:
            raise TypeError("pass either a Settings value or keyword settings, not both")
        self.settings = settings if settings is not None else Settings.resolve(**overrides)
        self.owners = expired_keys.KeyOwners()  # the refreshers load() made

    def load(self) -> StsWireCredentials:
        from ..keys.refresh import refreshing_credentials  # when credentials are first needed

        refresher = refreshing_credentials(self.settings)
        self.owners.add(refresher)
        return StsWireCredentials(refresher, method=self.METHOD)

    def __repr__(self) -> str:
        return f"StsWireProvider({self.settings.describe()})"


def _botocore_session(
    session: Union[boto3.Session, botocore.session.Session],
) -> botocore.session.Session:
    if isinstance(session, boto3.Session):
        return botocore_private.core_session(session)
    if isinstance(session, botocore.session.Session):
        return session
    raise TypeError("install() takes a boto3.Session or botocore.session.Session, not "
                    f"{type(session).__name__}")


def core_session(cls: Any) -> Any:
    """A new ``cls`` (botocore ``Session`` or aiobotocore ``AioSession``) for our clients:
    when ``AWS_PROFILE`` names a profile no config file holds, with the default profile's
    settings instead, and a warning once."""
    core = cls()
    missing = missing_profile(core)
    if missing is None:
        return core
    warn_once(("missing profile", missing), __name__, "%s", missing)
    return cls(session_vars={"profile": (None, None, None, None)})  # read from no variable


def missing_profile(core: Any) -> Optional[str]:
    """Why the profile a botocore session would use does not exist, or None."""
    name = core.profile
    if name in (None, "default") or name in core.available_profiles:
        return None
    return (
        f"AWS_PROFILE={name} (or AWS_DEFAULT_PROFILE) names a profile that no AWS config "
        f"file holds ({core.get_config_variable('config_file')}, "
        f"{core.get_config_variable('credentials_file')}): infnminio-boto's clients do not "
        "use it, but the AWS CLI and SDKs fail on it. Unset it, or write it with "
        f"`infnminio-boto configure --profile {name}`."
    )


def put_first(resolver: Any, provider: CredentialProvider) -> None:
    """Put ``provider`` first in a credential resolver, in place of an earlier one of ours."""
    while provider.METHOD in [each.METHOD for each in resolver.providers]:
        resolver.remove(provider.METHOD)
    resolver.providers.insert(0, provider)


def install(session: Union[boto3.Session, botocore.session.Session],
            settings: Optional[Settings] = None, **overrides: Any) -> StsWireProvider:
    """Put a :class:`StsWireProvider` first in ``session``'s credential chain (with or
    without a profile; installing twice replaces it) and return it. Its S3 clients retry
    a call once with new keys when the store refuses theirs as expired."""
    core = _botocore_session(session)
    provider = StsWireProvider(settings, **overrides)
    put_first(core.get_component("credential_provider"), provider)
    botocore_private.forget_resolved_credentials(core)
    policy_denied.register(core, provider.settings)
    expired_keys.register(core, provider.owners)
    return provider


class InfnMinioSession(boto3.Session):
    """A ``boto3.Session`` whose S3 clients and resources default to the object store
    (an explicit ``endpoint_url`` still wins)."""

    def __init__(self, *args: Any, s3_endpoint_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.s3_endpoint_url = s3_endpoint_url

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        # endpoint_url is the 5th positional parameter after service_name.
        if service_name == "s3" and len(args) < 5 and kwargs.get("endpoint_url") is None:
            kwargs["endpoint_url"] = self.s3_endpoint_url
        return super().client(service_name, *args, **kwargs)

    def __repr__(self) -> str:
        return (f"InfnMinioSession(region_name={self.region_name!r}, "
                f"s3_endpoint_url={self.s3_endpoint_url!r})")


def _s3_options(settings: Settings) -> Dict[str, Any]:
    """Path-style addressing; over https (TLS protects the body) unsigned bodies."""
    options: Dict[str, Any] = {"addressing_style": "path"}
    if settings.endpoint.secure:
        options["payload_signing_enabled"] = False
    return options


def _set_defaults(core: botocore.session.Session, settings: Settings) -> None:
    """Our defaults in place of botocore's only: the user's own choices still win."""
    store = core.get_component("config_store")
    s3_section = store.get_config_provider("s3")
    for key, value in _s3_options(settings).items():
        s3_section.set_default_provider(key, ConstantProvider(value))
    if aws_variables.botocore_supports_them():
        when_required = ConstantProvider(aws_variables.WHEN_REQUIRED)
        for key in aws_variables.CONFIG_KEYS:
            store.get_config_provider(key).set_default_provider(when_required)


def s3_client_kwargs(session: Optional[Union[boto3.Session, botocore.session.Session]] = None,
                     profile: Optional[str] = None, **settings: Any) -> Dict[str, Any]:
    """Keyword arguments for ``session.client("s3", ...)`` (pair it with :func:`install`):
    endpoint, region, CA bundle and :func:`session`'s upload settings, the checksum ones only
    where the profile of ``session`` or ``profile`` has none. ``TypeError`` if both given."""
    from botocore.config import Config

    if session is not None and profile is not None:
        raise TypeError("s3_client_kwargs() takes a session or a profile, not both")
    core = (_botocore_session(session) if session is not None
            else botocore.session.Session(profile=profile))
    resolved = Settings.resolve(**settings)
    try:
        profile_config = core.get_scoped_config()
    except ProfileNotFound:
        profile_config = {}
    config = Config(s3=_s3_options(resolved), **aws_variables.config_defaults(profile_config))
    kwargs = {"endpoint_url": resolved.endpoint.url, "region_name": resolved.region,
              "config": config}
    if resolved.ca_bundle:
        kwargs["verify"] = resolved.ca_bundle
    return kwargs


def session(**settings: Any) -> InfnMinioSession:
    """A boto3 session whose S3 clients reach the store with keys from the token that
    refresh themselves; uploads skip the streaming checksums Ceph RGW refuses unless you
    chose otherwise, and a call refused for expired keys is retried once with new ones."""
    resolved = Settings.resolve(**settings)
    core = core_session(botocore.session.Session)
    provider = StsWireProvider(resolved)

    def credential_chain() -> Any:  # built when a client first needs it, as botocore's
        chain = create_credential_resolver(core)
        put_first(chain, provider)
        return chain

    core.lazy_register_component("credential_provider", credential_chain)
    core.set_config_variable("region", resolved.region)
    if resolved.ca_bundle:
        core.set_config_variable("ca_bundle", resolved.ca_bundle)
    _set_defaults(core, resolved)
    policy_denied.register(core, resolved)
    expired_keys.register(core, provider.owners)
    return InfnMinioSession(botocore_session=core, s3_endpoint_url=resolved.endpoint.url)
