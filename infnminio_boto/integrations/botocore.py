"""boto3/botocore: the credential provider, ``install()`` and ``session()``.

botocore reads keys through the public ``Credentials`` interface; :class:`StsWireCredentials`
answers it from one :class:`~infnminio_boto.keys.refresh.RefreshingCredentials`, so the
refresh logic is ours and botocore's private refresh attributes are never touched. The
two private attributes used are in :mod:`infnminio_boto.compat.botocore`.
"""

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
from ..settings import Settings
from ..settings.aws_variables import (
    CONFIG_KEYS,
    WHEN_REQUIRED,
    botocore_supports_them,
    config_defaults,
)
from . import expired_keys, policy_denied

if TYPE_CHECKING:  # imported when credentials are first needed, not by session()
    from ..keys.refresh import RefreshingCredentials
    from ..sts.temporary_credentials import TemporaryCredentials

__all__ = [
    "StsWireProvider",
    "StsWireCredentials",
    "RefresherKeys",
    "InfnMinioSession",
    "install",
    "session",
    "s3_client_kwargs",
    "frozen",
]

# ReadOnlyCredentials gained ``account_id`` in botocore 1.35; older ones have three fields.
_FROZEN_FIELDS = len(ReadOnlyCredentials._fields)


def frozen(keys: TemporaryCredentials) -> ReadOnlyCredentials:
    """botocore's immutable snapshot of ``keys``."""
    values = (keys.access_key, keys.secret_key, keys.token, None)
    return ReadOnlyCredentials(*values[:_FROZEN_FIELDS])


class RefresherKeys:
    """The key attributes of botocore's ``Credentials``, read from refreshing credentials.

    Shared by :class:`StsWireCredentials` and the aiobotocore variant of the s3fs
    adapter; ``refresher`` is the
    :class:`~infnminio_boto.keys.refresh.RefreshingCredentials` behind them.
    """

    def __init__(self, refresher: RefreshingCredentials, method: str = "sts-wire") -> None:
        # botocore's Credentials.__init__ would read (and so fetch) the keys at once;
        # these are fetched when a client first signs a request.
        self.refresher = refresher
        self.method = method

    @property
    def access_key(self) -> str:
        return self.refresher.get().access_key

    @property
    def secret_key(self) -> str:
        return self.refresher.get().secret_key

    @property
    def token(self) -> str:
        return self.refresher.get().token

    @property
    def account_id(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.refresher!r})"


class StsWireCredentials(RefresherKeys, Credentials):
    """botocore ``Credentials`` whose keys come from refreshing credentials."""

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        return frozen(self.refresher.get())


class StsWireProvider(CredentialProvider):
    """A botocore ``CredentialProvider`` that exchanges the sts-wire token file.

    ``load()`` returns refreshing credentials: no file is read and no request is sent
    until a client first needs the keys. Settings are resolved when the provider is
    built, so a configuration error shows at once.
    """

    METHOD = "sts-wire"
    CANONICAL_NAME = "custom-sts-wire"

    def __init__(self, settings: Optional[Settings] = None, **overrides: Any) -> None:
        super().__init__()
        if settings is not None and overrides:
            raise TypeError("pass either a Settings value or keyword settings, not both")
        self.settings = settings if settings is not None else Settings.resolve(**overrides)
        # The refreshers load() made: whose keys the session's clients sign with.
        self.owners = expired_keys.KeyOwners()

    def load(self) -> StsWireCredentials:
        from ..keys.refresh import (
            refreshing_credentials,  # when credentials are first needed
        )

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
    raise TypeError(
        f"install() takes a boto3.Session or botocore.session.Session, not {type(session).__name__}"
    )


def core_session(cls: Any) -> Any:
    """A new ``cls`` (a botocore ``Session``, or aiobotocore's ``AioSession``) for our own
    clients: with the profile ``AWS_PROFILE`` names, unless it names one no AWS config
    file holds (left over by other tooling), which our clients do not need: then the
    default profile's settings, and a warning once."""
    core = cls()
    missing = missing_profile(core)
    if missing is None:
        return core
    warn_once(("missing profile", missing), __name__, "%s", missing)
    # The profile variable's definition without its environment variables (a public
    # argument: botocore's SESSION_VARIABLES format).
    return cls(session_vars={"profile": (None, None, None, None)})


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
    """Put ``provider`` first in a credential resolver, in place of an earlier one of ours
    (its public ``remove`` and ``insert_before``; with a profile set botocore has no
    ``env`` provider, so the first provider, whichever it is, is the anchor)."""
    methods = [each.METHOD for each in resolver.providers]
    for _ in range(methods.count(provider.METHOD)):
        resolver.remove(provider.METHOD)
    first = [each.METHOD for each in resolver.providers][:1]
    if first:
        resolver.insert_before(first[0], provider)
    else:
        resolver.providers.append(provider)


def install(
    session: Union[boto3.Session, botocore.session.Session],
    settings: Optional[Settings] = None,
    **overrides: Any,
) -> StsWireProvider:
    """Put a :class:`StsWireProvider` first in ``session``'s credential chain.

    Works with or without an explicit profile (botocore drops the ``env`` provider when
    a profile is set, so the provider goes to the front of the list instead of before
    ``env``). Installing twice replaces the earlier provider. S3 clients made afterwards
    retry a call once with new keys when the store refuses theirs as expired
    (:mod:`.expired_keys`). Returns the provider.
    """
    core = _botocore_session(session)
    provider = StsWireProvider(settings, **overrides)
    put_first(core.get_component("credential_provider"), provider)
    botocore_private.forget_resolved_credentials(core)
    policy_denied.register(core, provider.settings)
    expired_keys.register(core, provider.owners)
    return provider


class InfnMinioSession(boto3.Session):
    """A ``boto3.Session`` whose S3 clients and resources default to the object store.

    Everything else behaves as in boto3; an explicit ``endpoint_url`` still wins.
    """

    def __init__(self, *args: Any, s3_endpoint_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.s3_endpoint_url = s3_endpoint_url

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        # endpoint_url is the 5th positional parameter after service_name.
        if service_name == "s3" and len(args) < 5 and kwargs.get("endpoint_url") is None:
            kwargs["endpoint_url"] = self.s3_endpoint_url
        return super().client(service_name, *args, **kwargs)

    def __repr__(self) -> str:
        return (
            f"InfnMinioSession(region_name={self.region_name!r}, "
            f"s3_endpoint_url={self.s3_endpoint_url!r})"
        )


def _s3_options(settings: Settings) -> Dict[str, Any]:
    """Path-style addressing, and over https unsigned bodies."""
    options: Dict[str, Any] = {"addressing_style": "path"}
    if settings.endpoint.secure:
        # As botocore does for any upload that carries a checksum: TLS protects the
        # body, so it is not hashed into the signature (which would read every upload
        # twice and refuse streams that cannot seek).
        options["payload_signing_enabled"] = False
    return options


def _set_defaults(core: botocore.session.Session, settings: Settings) -> None:
    """Our defaults in place of botocore's, below the user's own choices.

    The config store's providers already chain instance variables, ``AWS_*`` variables
    and the profile before a default: only the default is replaced, and nothing is read
    before a client needs it (no config file is parsed here).
    """
    store = core.get_component("config_store")
    s3_section = store.get_config_provider("s3")
    for key, value in _s3_options(settings).items():
        s3_section.set_default_provider(key, ConstantProvider(value))
    if botocore_supports_them():
        for key in CONFIG_KEYS:
            store.get_config_provider(key).set_default_provider(ConstantProvider(WHEN_REQUIRED))


def _profile_config(core: botocore.session.Session) -> Dict[str, Any]:
    try:
        return core.get_scoped_config()
    except ProfileNotFound:
        return {}


def s3_client_kwargs(
    session: Optional[Union[boto3.Session, botocore.session.Session]] = None,
    profile: Optional[str] = None,
    **settings: Any,
) -> Dict[str, Any]:
    """Keyword arguments for ``session.client("s3", ...)`` of a session of yours.

    ``endpoint_url``, ``region_name``, ``verify`` (the CA bundle, when set) and a
    ``config`` with path-style addressing and the upload settings :func:`session` uses.
    Pair it with :func:`install` for the credentials. The checksum settings are added
    only where the AWS profile of ``session`` (a ``boto3.Session`` or botocore session)
    or the one named ``profile`` has none: a ``Config`` passed to ``client()`` beats the
    profile, so the profile's choice must be read here. Without either, the profile
    ``AWS_PROFILE`` names (or ``default``) is read. Raises ``TypeError`` when both are
    given.
    """
    from botocore.config import Config

    if session is not None and profile is not None:
        raise TypeError("s3_client_kwargs() takes a session or a profile, not both")
    core = (
        _botocore_session(session)
        if session is not None
        else botocore.session.Session(profile=profile)
    )
    resolved = Settings.resolve(**settings)
    kwargs: Dict[str, Any] = {
        "endpoint_url": resolved.endpoint.url,
        "region_name": resolved.region,
        "config": Config(s3=_s3_options(resolved), **config_defaults(_profile_config(core))),
    }
    if resolved.ca_bundle:
        kwargs["verify"] = resolved.ca_bundle
    return kwargs


def session(**settings: Any) -> InfnMinioSession:
    """A boto3 session whose credentials come from the token file and refresh themselves.

    ``session().client("s3")`` and ``session().resource("s3")`` reach the configured
    endpoint with path-style addressing and trust ``ca_bundle``; no ``endpoint_url`` is
    needed. Uploads skip the streaming checksums Ceph RGW refuses (411), unless you
    chose otherwise (an ``AWS_*_CHECKSUM_*`` variable, a profile key, or a client
    ``Config`` of your own), and over https their bodies are not hashed into the
    signature (so a stream that cannot seek uploads with its ``ContentLength``). A call
    the store refuses because its keys expired (``ExpiredToken``; Ceph RGW 16's bare
    ``AccessDenied`` near their expiry) is retried once with new keys
    (:mod:`.expired_keys`).
    """
    resolved = Settings.resolve(**settings)
    core = core_session(botocore.session.Session)
    provider = StsWireProvider(resolved)

    def credential_chain() -> Any:
        # Built when a client first needs credentials, as botocore builds its own.
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
