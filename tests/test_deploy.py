"""The deployment files agree with each other: compose.yaml, deploy/Caddyfile, the Dockerfile.

No Docker engine is needed: these read the files. They catch a replica added to compose.yaml
but not to the proxy, a STRETCHBOT_REPLICAS that does not match, a drain shorter than the
proxy's health check, or a port published where it should not be.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return data


def bots(services: dict[str, Any]) -> dict[str, Any]:
    return {name: spec for name, spec in services.items() if spec.get("command") == ["serve"]}


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    assert match, duration
    return float(match[1]) * {"ms": 0.001, "s": 1, "m": 60}[match[2]]


def caddy_directive(name: str) -> list[str]:
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    return next(line.split()[1:] for line in text.splitlines() if line.split()[:1] == [name])


def test_every_replica_is_behind_the_proxy_and_knows_how_many_there_are() -> None:
    services = compose()["services"]
    replicas = bots(services)
    assert len(replicas) >= 2
    upstreams = caddy_directive("reverse_proxy")
    assert upstreams[-1] == "{"
    assert sorted(upstreams[:-1]) == sorted(f"{name}:8080" for name in replicas)
    for spec in replicas.values():
        env = spec["environment"]
        assert env["STRETCHBOT_REPLICAS"] == str(len(replicas))
        assert env["STRETCHBOT_LISTEN"] == "0.0.0.0:8080"
        assert env["STRETCHBOT_DATABASE"].startswith("postgresql://")


def test_a_draining_replica_is_seen_by_the_proxy_and_is_not_killed_mid_request() -> None:
    interval = seconds(caddy_directive("health_interval")[0])
    timeout = seconds(caddy_directive("health_timeout")[0])
    assert caddy_directive("health_uri") == ["/readyz"]
    for spec in bots(compose()["services"]).values():
        drain = float(spec["environment"]["STRETCHBOT_DRAIN_SECONDS"])
        assert drain > interval + timeout
        # Then the requests in flight: at least 20 s more before SIGKILL.
        assert seconds(spec["stop_grace_period"]) >= drain + 20


def test_replicas_start_after_the_migration_and_only_the_proxy_is_published() -> None:
    services = compose()["services"]
    for name, spec in services.items():
        if name != "caddy":
            assert "ports" not in spec, name
    for spec in bots(services).values():
        assert spec["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["migrate"]
    assert services["set-webhook"]["command"] == ["set-webhook"]
    assert compose()["networks"]["db"] == {"internal": True}
    assert services["postgres"]["networks"] == ["db"]


def test_the_proxy_passes_only_the_webhook_path() -> None:
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    assert text.count("reverse_proxy ") == 1
    assert "path {$STRETCHBOT_WEBHOOK_PATH}" in text
    assert "method POST" in text
    assert "respond 404" in text


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    user = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user and all(u.split(":")[0].isdigit() and u.split(":")[0] != "0" for u in user)
    assert 'ENTRYPOINT ["stretchbot"]' in lines
    assert 'CMD ["serve"]' in lines
    assert "EXPOSE 8080" in lines
