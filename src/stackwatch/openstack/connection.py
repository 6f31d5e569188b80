"""Adapter: an openstacksdk Connection from clouds.yaml or the OS_* environment.

`connect(cloud=None)` returns an `openstack.connection.Connection`: with `cloud` set it reads that entry of
clouds.yaml (openstacksdk's usual search path, or OS_CLIENT_CONFIG_FILE); without it, the OS_* variables
(`. openrc`). Application credentials are recommended (`auth_type: v3applicationcredential`). Secrets never
pass through stackwatch's config file: they stay in clouds.yaml/secure.yaml or the environment.

Errors: `ConnectionProblem` carries one line saying what is wrong (no cloud configured, bad credentials,
keystone unreachable), for checks to report as UNKNOWN.
"""

from __future__ import annotations

import os


class ConnectionProblem(Exception):
    """The cloud cannot be reached or authenticated against; str() is one line for a status line."""


def connect(cloud: str | None = None, *, region: str | None = None, timeout: float = 30.0,
            authenticate: bool = False):
    """An openstacksdk Connection. `authenticate=True` fetches a token now (so bad credentials fail here)."""
    import openstack
    import openstack.exceptions
    import keystoneauth1.exceptions

    if cloud is None and not os.environ.get("OS_AUTH_URL") and not os.environ.get("OS_CLOUD"):
        raise ConnectionProblem("no cloud configured: set openstack.cloud in config.yaml (a clouds.yaml entry) "
                                "or the OS_* environment (source an openrc)")
    try:
        conn = openstack.connect(cloud=cloud, region_name=region, api_timeout=timeout,
                                 load_envvars=cloud is None)
        if authenticate:
            conn.authorize()
        return conn
    except (openstack.exceptions.SDKException, keystoneauth1.exceptions.ClientException) as exc:
        raise ConnectionProblem(f"{type(exc).__name__}: {one_line(str(exc))}") from None


def one_line(text: str, limit: int = 300) -> str:
    """An error message fit for a status line: first line, trimmed."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
