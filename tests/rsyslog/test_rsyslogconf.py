"""Generated rsyslog configuration: the files and their structure, validation of the values passed in,
and `rsyslogd -N1` (rsyslog's own config check) accepting every variant."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess

import pytest

from stackwatch.rsyslog.rsyslogconf import (FORWARD_FILE, SERVER_FILE, client_config, queue_file_size, server_config,
                                            service_files)

from .rsyslog_server import check_config

TLS_FILES = ("ca.pem", "cert.pem", "key.pem")


def action_params(conf: str, name: str) -> dict[str, str]:
    """The `key="value"` parameters of the action named `name`."""
    body = re.search(r'action\(\s*name="%s"(.*?)\n\s*\)' % re.escape(name), conf, re.S).group(1)
    return dict(re.findall(r'([\w.]+)="([^"]*)"', body))


def test_services_get_the_guides_facilities_in_their_own_files():
    files = client_config("compute-1", ["nova", "glance", "cinder", "keystone", "neutron", "swift", "placement"],
                          {"nova": "local0", "glance": "local1", "cinder": "local2", "keystone": "local3",
                           "neutron": "local4", "swift": "LOG_LOCAL5", "placement": "local0"},
                          "logs.example.org", 6514)
    expect = {"/etc/nova/nova.conf": "LOG_LOCAL0", "/etc/glance/glance-api.conf": "LOG_LOCAL1",
              "/etc/cinder/cinder.conf": "LOG_LOCAL2", "/etc/keystone/keystone.conf": "LOG_LOCAL3",
              "/etc/neutron/neutron.conf": "LOG_LOCAL4", "/etc/placement/placement.conf": "LOG_LOCAL0"}
    for path, facility in expect.items():
        ini = configparser.ConfigParser()
        ini.read_string(files[path])
        assert ini["DEFAULT"]["use_syslog"] == "True" and ini["DEFAULT"]["syslog_log_facility"] == facility
        assert files[path].startswith(f"# stackwatch: merge into {path}")
    for server in ("proxy", "account", "container", "object"):
        ini = configparser.ConfigParser()
        ini.read_string(files[f"/etc/swift/{server}-server.conf"])
        assert dict(ini["DEFAULT"]) == {"log_facility": "LOG_LOCAL5"}
    assert FORWARD_FILE in files and len(files) == len(expect) + 4 + 1


def test_forwarding_over_tcp_has_a_disk_assisted_queue():
    conf = client_config("compute-1", ["nova"], None, "10.0.0.9", 6514, queue_dir="/var/spool/rsyslog",
                         queue_max_disk="2g")[FORWARD_FILE]
    p = action_params(conf, "stackwatch-forward")
    assert p["type"] == "omfwd" and p["protocol"] == "tcp" and p["target"] == "10.0.0.9" and p["port"] == "6514"
    assert p["TCP_Framing"] == "octet-counted" and p["template"] == "RSYSLOG_SyslogProtocol23Format"
    assert p["queue.type"] == "LinkedList" and p["queue.filename"] and p["queue.saveOnShutdown"] == "on"
    assert p["queue.maxDiskSpace"] == "2g" and p["queue.spoolDirectory"] == "/var/spool/rsyslog"
    assert p["queue.maxFileSize"] == "64m"
    assert p["action.resumeRetryCount"] == "-1"
    assert "StreamDriver" not in p and "omrelp" not in conf
    assert not re.search(r"^\s*if ", conf, re.M), "every message is forwarded"


@pytest.mark.parametrize("max_disk, file_size", [("1g", "64m"), ("4g", "64m"), ("512m", "64m"),
                                                 ("100m", "12500000"), ("4m", "1000000")])
def test_spool_files_are_64m_at_most_an_eighth_of_the_disk_space(max_disk, file_size):
    assert queue_file_size(max_disk) == file_size
    conf = server_config([], queue_max_disk=max_disk)[SERVER_FILE]
    assert f'queue.maxFileSize="{file_size}"' in conf


def test_forwarding_over_relp_with_tls():
    tls = {"ca_file": "/etc/ssl/ca.pem", "cert_file": "/etc/ssl/h.pem", "key_file": "/etc/ssl/h.key"}
    conf = client_config("compute-1", [], None, "logs.example.org", 2514, protocol="relp", tls=tls)[FORWARD_FILE]
    assert 'module(load="omrelp")' in conf
    p = action_params(conf, "stackwatch-forward")
    assert p["type"] == "omrelp" and p["tls"] == "on" and p["tls.caCert"] == "/etc/ssl/ca.pem"
    assert p["tls.myCert"] == "/etc/ssl/h.pem" and p["tls.authMode"] == "name"
    assert 'tls.permittedPeer=["logs.example.org"]' in conf
    assert p["queue.type"] == "LinkedList" and p["queue.saveOnShutdown"] == "on"


def test_forwarding_over_tcp_with_tls_uses_gtls():
    tls = {"ca_file": "/etc/ssl/ca.pem", "auth_mode": "x509/certvalid"}
    conf = client_config("compute-1", [], None, "logs.example.org", 6514, tls=tls)[FORWARD_FILE]
    assert 'DefaultNetstreamDriverCAFile="/etc/ssl/ca.pem"' in conf and "DefaultNetstreamDriverCertFile" not in conf
    p = action_params(conf, "stackwatch-forward")
    assert (p["StreamDriver"], p["StreamDriverMode"], p["StreamDriverAuthMode"]) == ("gtls", "1", "x509/certvalid")


def test_server_writes_per_host_and_all_hosts_files_and_forwards_into_stackwatch():
    conf = server_config(["10.0.0.0/24", "192.0.2.7", "fd00::/8"], listen_port=514,
                         forward_to_stackwatch=("127.0.0.1", 6514, "relp"))[SERVER_FILE]
    assert 'input(type="imtcp" port="514" ruleset="stackwatch-remote")' in conf
    assert 'input(type="imudp" port="514" ruleset="stackwatch-remote")' in conf
    assert "$AllowedSender TCP, 10.0.0.0/24" in conf and "$AllowedSender UDP, [fd00::]/8" in conf
    assert '/var/log/rsyslog/%HOSTNAME:::secpath-replace%/nova.log' in conf
    assert 'action(type="omfile" file="/var/log/rsyslog/nova.log")' in conf
    assert '/var/log/rsyslog/%HOSTNAME:::secpath-replace%/syslog.log' in conf
    assert conf.index("stackwatch-ingest") < conf.index('prifilt("local0.*")'), "stackwatch gets every message"
    p = action_params(conf, "stackwatch-ingest")
    assert p["type"] == "omrelp" and p["queue.type"] == "LinkedList" and p["queue.saveOnShutdown"] == "on"


@pytest.mark.parametrize("bad", [
    dict(services=["nova"], facilities={"glance": "local1"}),
    dict(services=["nova"], facilities={"nova": "local9"}),
    dict(target_host='x" y'),
    dict(target_port=0),
    dict(protocol="udp"),
    dict(queue_dir="spool"),
    dict(tls={"cert_file": "/c.pem"}),
])
def test_client_config_refuses_bad_values(bad):
    args = dict(host_name="h", services=["nova"], facilities=None, target_host="10.0.0.1", target_port=514)
    with pytest.raises(ValueError):
        client_config(**{**args, **bad})


def test_server_refuses_names_rsyslog_would_drop_from_its_acl():
    with pytest.raises(ValueError, match="address"):
        server_config(["compute-1"])
    with pytest.raises(ValueError):
        server_config([], per_host_dir="/var/log/%HOSTNAME%")
    assert service_files([]) == {}


# -- rsyslogd -N1 ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    openssl = shutil.which("openssl")
    if openssl:
        subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "key.pem"),
                        "-out", str(d / "cert.pem"), "-days", "2", "-subj", "/CN=localhost"],
                       check=True, capture_output=True)
        shutil.copy(d / "cert.pem", d / "ca.pem")
    else:
        for name in TLS_FILES:
            (d / name).write_text("")
    return {"ca_file": str(d / "ca.pem"), "cert_file": str(d / "cert.pem"), "key_file": str(d / "key.pem")}


def variants(tls: dict, spool: str, logs: str) -> dict[str, str]:
    common = dict(queue_dir=spool)
    return {
        "client-tcp": client_config("c1", ["nova", "swift"], None, "127.0.0.1", 6514, **common)[FORWARD_FILE],
        "client-relp": client_config("c1", ["nova"], None, "127.0.0.1", 2514, "relp", **common)[FORWARD_FILE],
        "client-tcp-tls": client_config("c1", [], None, "logs.example.org", 6514, tls=tls, **common)[FORWARD_FILE],
        "client-relp-tls": client_config("c1", [], None, "logs.example.org", 2514, "relp", tls=tls,
                                         **common)[FORWARD_FILE],
        "server-tcp-udp": server_config(["127.0.0.1", "10.0.0.0/8", "*.example.org", "::1"], 10514,
                                        per_host_dir=logs, **common)[SERVER_FILE],
        "server-relp-fwd-relp": server_config([], 10515, "relp", udp=False, forward_to_stackwatch=(
            "127.0.0.1", 6514, "relp"), per_host_dir=logs, **common)[SERVER_FILE],
        "server-tcp-tls": server_config(["10.0.0.1"], 10516, tls=tls, per_host_dir=logs, **common)[SERVER_FILE],
        "server-relp-tls": server_config([], 10517, "relp", tls={**tls, "permitted_peer": ["c1.example.org"]},
                                         address="127.0.0.1", per_host_dir=logs, **common)[SERVER_FILE],
    }


def test_rsyslogd_accepts_every_generated_file(tmp_path, tls_files):
    spool, logs = tmp_path / "spool", tmp_path / "logs"
    spool.mkdir()
    logs.mkdir()
    for name, conf in variants(tls_files, str(spool), str(logs)).items():
        path = tmp_path / f"{name}.conf"
        path.write_text(conf)
        result = check_config(path)
        assert result.returncode == 0, f"rsyslogd -N1 -f {name}.conf:\n{result.stderr}{result.stdout}\n{conf}"
        assert "error" not in (result.stderr + result.stdout).lower(), result.stderr


def test_rsyslogd_check_catches_a_broken_file(tmp_path):
    path = tmp_path / "broken.conf"
    path.write_text(client_config("c1", [], None, "127.0.0.1", 6514)[FORWARD_FILE].replace("queue.type", "queue.typo"))
    assert check_config(path).returncode != 0
