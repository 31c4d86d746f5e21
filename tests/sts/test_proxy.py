"""The exchange through a real forwarding proxy (tinyproxy), with botocore's proxy rules.

Batch and HPC nodes often reach the outside only through HTTPS_PROXY / HTTP_PROXY,
with NO_PROXY exceptions; botocore's S3 calls honour them, so the exchange before them
must too.
"""

from __future__ import annotations

import socket

import pytest
from support import secret_registry
from support.fake_sts import FakeSts
from support.tinyproxy import Tinyproxy

from infnminio_boto.errors import StsError, TransportError
from infnminio_boto.keys.fetch import read_settings_token
from infnminio_boto.settings import Settings
from infnminio_boto.sts import exchange


@pytest.fixture
def proxy(tmp_path):
    with Tinyproxy(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    pytest.importorskip("cryptography")  # the sandbox extra (absent in the range runs)
    from infnminio_boto.sandbox.tls import make_certificates

    return make_certificates(tmp_path_factory.mktemp("tls"))


def run(server, settings_for, **extra):
    settings = Settings.resolve(**settings_for(server, **extra))
    return exchange(settings, read_settings_token(settings), sleep=lambda _s: None)


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
@pytest.mark.parametrize("written", ["url", "host:port"])
def test_plain_http_goes_through_the_proxy(
    proxy, rgw_sts, settings_for, monkeypatch, variable, written
):
    value = proxy.url if written == "url" else proxy.url.split("//", 1)[1]
    monkeypatch.setenv(variable, value)
    creds = run(rgw_sts, settings_for)
    assert creds.access_key in rgw_sts.issued
    assert f"POST {rgw_sts.url}/ HTTP/1.1" in proxy.requests()


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy"])
def test_https_is_tunnelled_through_the_proxy(
    proxy, tls_files, settings_for, monkeypatch, variable
):
    monkeypatch.setenv(variable, proxy.url)
    with FakeSts("rgw", tls=tls_files) as server:
        creds = run(server, settings_for, ca_bundle=str(tls_files.ca))
        assert creds.access_key in server.issued
        tunnels = [line for line in proxy.requests() if line.startswith("CONNECT ")]
        assert tunnels and tunnels[0].startswith(f"CONNECT 127.0.0.1:{server.port} ")


@pytest.mark.parametrize("variable", ["NO_PROXY", "no_proxy"])
def test_no_proxy_bypasses_the_proxy(
    proxy, rgw_sts, tls_files, settings_for, monkeypatch, variable
):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv(variable, "localhost,127.0.0.1")
    creds = run(rgw_sts, settings_for)
    assert creds.access_key in rgw_sts.issued
    with FakeSts("rgw", tls=tls_files) as server:
        run(server, settings_for, ca_bundle=str(tls_files.ca))
    assert proxy.requests() == []


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_credentials_in_the_proxy_url_are_sent_to_it(
    tmp_path, tls_files, settings_for, monkeypatch, scheme
):
    password = "pr0xy-" + "Zq8wLm3Nv7Xc2Rt5"
    secret_registry.register(password)
    with (
        Tinyproxy(tmp_path, basic_auth=("alice", password)) as proxy,
        FakeSts("rgw", tls=tls_files if scheme == "https" else None) as server,
    ):
        extra = {"ca_bundle": str(tls_files.ca)} if scheme == "https" else {}
        variable = "HTTPS_PROXY" if scheme == "https" else "HTTP_PROXY"
        monkeypatch.setenv(variable, proxy.url.replace("//", f"//alice:{password}@"))
        assert run(server, settings_for, **extra).access_key in server.issued
        # Without them the proxy refuses: the error names it, credentials masked.
        monkeypatch.setenv(variable, proxy.url.replace("//", "//alice:wrong-password@"))
        with pytest.raises((TransportError, StsError)) as info:
            run(server, settings_for, max_attempts=1, **extra)
        assert "wrong-password" not in str(info.value)
        assert server.exchanges == 1
    if scheme == "https":
        text = str(info.value)
        assert f"the proxy http://***:***@127.0.0.1:{proxy.port} failed: it refused" in text
        assert "check the user name and password in the proxy URL" in text
    elif isinstance(info.value, StsError):  # the forwarding proxy's own 401/407 answer
        assert info.value.status in (401, 407)
    else:  # or it closed the connection on the refused request (tinyproxy does)
        assert f"through the proxy http://***:***@127.0.0.1:{proxy.port}" in str(info.value)


def test_an_unreachable_proxy_is_named_without_its_credentials(rgw_sts, settings_for, monkeypatch):
    port = _dead_port()
    monkeypatch.setenv("HTTP_PROXY", f"http://alice:s3cr3t-proxy-pw@127.0.0.1:{port}")
    with pytest.raises(TransportError) as info:
        run(rgw_sts, settings_for, max_attempts=2)
    text = str(info.value)
    assert f"the proxy http://***:***@127.0.0.1:{port} failed: connection refused" in text
    assert "s3cr3t" not in text and "alice" not in text
    assert "HTTP_PROXY" in text and "NO_PROXY" in text
    assert rgw_sts.exchanges == 0


def test_a_proxy_of_an_unusable_scheme_is_a_clear_error(rgw_sts, settings_for, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(TransportError) as info:
        run(rgw_sts, settings_for)
    assert "socks5://127.0.0.1:1080" in str(info.value)
    assert "http:// or https://" in str(info.value)


def test_plain_http_to_this_machine_through_a_remote_proxy_is_refused(
    rgw_sts, settings_for, monkeypatch
):
    """The "plain http only to this machine" rule looked at the endpoint, not the first
    hop: the token went in clear to a proxy elsewhere."""
    import infnminio_boto
    from infnminio_boto.errors import ConfigurationError

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.org:3128")
    with pytest.raises(ConfigurationError, match="through the proxy on proxy.example.org"):
        infnminio_boto.credentials(**settings_for(rgw_sts))
    assert rgw_sts.exchanges == 0
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the first hop is this machine again
    assert infnminio_boto.credentials(**settings_for(rgw_sts)).access_key in rgw_sts.issued
