"""The ceph.conf of the sandbox's throwaway single-node cluster.

One monitor without authentication (``crc`` client mode, or radosgw hangs at start),
one OSD on memstore (RAM only), pools of size 1 with 8 placement groups, no manager,
and radosgw with STS, IAM and the beast frontend. Every path is under ``root``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["render_config"]


def render_config(
    *, root: Path, fsid: str, mon_port: int, frontend: str, sts_key: str, rgw_name: str
) -> str:
    """The configuration text; ``frontend`` is radosgw's beast line (http or https)."""
    return f"""[global]
fsid = {fsid}
mon host = v1:127.0.0.1:{mon_port}
mon initial members = a
ms bind msgr2 = false
ms mon client mode = crc
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
client mount timeout = 30
rados mon op timeout = 30
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
# The OSD's own crush update at start sends a zero fsid to a monitor without auth and
# fails; the OSD is placed in the crush map by hand instead.
osd crush update on start = false
osd class update on start = false
osd objectstore = memstore
memstore device bytes = 2147483648
run dir = {root}/run
admin socket = {root}/run/$name.asok
pid file = {root}/run/$name.pid
log file = {root}/log/$name.log
log to stderr = false
err to stderr = false
mon data = {root}/mon/$id
osd data = {root}/osd/$id
keyring = {root}/keyring
crash dir = {root}/crash

[{rgw_name}]
rgw frontends = {frontend}
rgw data = {root}/rgw
rgw sts key = {sts_key}
rgw s3 auth use sts = true
rgw enable apis = s3, s3website, admin, sts, iam
rgw thread pool size = 64
"""
