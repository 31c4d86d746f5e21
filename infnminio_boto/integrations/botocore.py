"""boto3/botocore integration: the credential provider, ``install()`` and ``session()``.

botocore reads keys through the public ``Credentials`` interface
(``get_frozen_credentials()`` when signing, ``access_key``/``secret_key``/``token``
elsewhere); :class:`StsWireCredentials` answers it from one
:class:`~infnminio_boto.keys.refresh.RefreshingCredentials`, so the refresh logic is ours and
botocore's private refresh attributes are never touched.
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

from ..settings import Settings
from ..settings.upload_checksums import (
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


# The two private attributes this library touches, both here. Read in boto3 1.28 to
# 1.44 and botocore 1.31 to 1.44 (the supported range is tested by `make test`).
# - boto3.Session keeps its botocore session in `_session`, with no public accessor.
# - botocore.Session caches the first credentials it resolved in `_credentials`, with
#   no public way to forget them; a provider installed later would otherwise not count.


def _botocore_session(
    session: Union[boto3.Session, botocore.session.Session],
) -> botocore.session.Session:
    if isinstance(session, boto3.Session):
        return session._session
    if isinstance(session, botocore.session.Session):
        return session
    raise TypeError(
        f"install() takes a boto3.Session or botocore.session.Session, not {type(session).__name__}"
    )


def _forget_resolved_credentials(core: botocore.session.Session) -> None:
    core._credentials = None


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
    resolver = core.get_component("credential_provider")
    resolver.providers[:] = [
        p for p in resolver.providers if getattr(p, "METHOD", None) != StsWireProvider.METHOD
    ]
    resolver.providers.insert(0, provider)
    _forget_resolved_credentials(core)
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
    core = botocore.session.Session()
    provider = StsWireProvider(resolved)

    def credential_chain() -> Any:
        # Built when a client first needs credentials, as botocore builds its own.
        chain = create_credential_resolver(core)
        chain.providers.insert(0, provider)
        return chain

    core.lazy_register_component("credential_provider", credential_chain)
    core.set_config_variable("region", resolved.region)
    if resolved.ca_bundle:
        core.set_config_variable("ca_bundle", resolved.ca_bundle)
    _set_defaults(core, resolved)
    policy_denied.register(core, resolved)
    expired_keys.register(core, provider.owners)
    return InfnMinioSession(botocore_session=core, s3_endpoint_url=resolved.endpoint.url)
