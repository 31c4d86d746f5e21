"""boto3's and botocore's private parts (read in boto3 1.28 to 1.44, botocore 1.31 to 1.44)."""

from __future__ import annotations

from typing import Any, Dict, Optional


def core_session(session: Any) -> Any:
    """The botocore session of a ``boto3.Session`` (its ``_session``: no public accessor)."""
    return session._session


def forget_resolved_credentials(core: Any) -> None:
    """Make a botocore session resolve its credentials again (it caches ``_credentials``)."""
    core._credentials = None


def register_after_signer(events: Any, event: str, handler: Any, unique_id: str) -> None:
    """Register ``handler`` after all of ``event``'s, the signer's too (``register_last``)."""
    events.get_component("event_emitter").register_last(event, handler, unique_id=unique_id)


def knows_config(*keys: str) -> bool:
    """Whether ``botocore.config.Config`` takes these keys (``Config.OPTION_DEFAULTS``)."""
    from botocore.config import Config

    return all(key in Config.OPTION_DEFAULTS for key in keys)


def default_ca_bundle() -> str:
    """The CA bundle botocore trusts by default (``botocore.httpsession.get_cert_path``)."""
    from botocore.httpsession import get_cert_path

    return str(get_cert_path(True))


def environment_proxies(url: str) -> Dict[str, str]:
    """The proxies botocore takes from the environment for ``url`` (``get_environ_proxies``)."""
    from botocore.utils import get_environ_proxies

    return dict(get_environ_proxies(url))


def proxy_url_for(proxies: Dict[str, str], url: str) -> Optional[str]:
    """The proxy URL botocore would use for ``url`` (``ProxyConfiguration.proxy_url_for``)."""
    from botocore.httpsession import ProxyConfiguration

    return ProxyConfiguration(proxies=proxies).proxy_url_for(url)  # type: ignore[no-any-return]


def proxy_headers_for(proxy: str) -> Dict[str, str]:
    """``Proxy-Authorization`` from the credentials in a proxy URL, as botocore makes it."""
    from botocore.httpsession import ProxyConfiguration

    return dict(ProxyConfiguration().proxy_headers_for(proxy))


def mask_proxy_url(proxy: str) -> str:
    """A proxy URL with its password masked (``botocore.httpsession.mask_proxy_url``)."""
    from botocore.httpsession import mask_proxy_url as mask

    return str(mask(proxy))
