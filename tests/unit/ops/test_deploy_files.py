"""Structural checks of deploy/: the Dockerfile, the compose stack and the Bicep template.

What can be validated here, and what cannot: the image is built and checked from the inside by
`scripts/build_image.sh --check` (buildah, on a Debian base made with debootstrap where the public
image registry is out of reach), which downloads every package again and so is not part of
`make test`; there is no Bicep CLI in the registries this box reaches, so the template is not
compiled. hadolint (from PyPI) lints the Dockerfile in the lint stage of `make test`, against the
reviewed exceptions in deploy/hadolint.yaml. These tests parse the files and check the invariants
that matter — a non-root, health-checked runtime stage without build tools, pinned base images (also
through a global ARG's default), no secrets baked in or copied in, a compose stack whose files
exist, and a Bicep template whose parameters, parameter file, symbols and outputs agree. They catch
the mistakes a reviewer would, on every run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from sayzhong.settings import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|PRIVATE|API_KEY|_KEY\b)", re.I)
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "npm", "nodejs", "git")


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(dockerfile: str) -> list[list[tuple[str, str]]]:
    """The build stages, each from its FROM; the global ARGs before the first FROM are left out."""
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions(dockerfile):
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def global_args(dockerfile: str) -> dict[str, str]:
    """The ARGs declared before the first FROM, with their defaults (what a FROM line may name)."""
    found: dict[str, str] = {}
    for word, args in instructions(dockerfile):
        if word == "FROM":
            break
        if word == "ARG":
            name, _, default = args.partition("=")
            found[name.strip()] = default.strip()
    return found


def base_image(from_args: str, defaults: dict[str, str]) -> str:
    """A FROM line's image with `${NAME}` / `$NAME` replaced by the global ARG's default."""
    image = from_args.split()[0]
    return re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), ""), image)


def problems(dockerfile: str) -> list[str]:
    found = []
    all_stages = stages(dockerfile)
    defaults = global_args(dockerfile)
    if len(all_stages) < 2:
        found.append("not a multi-stage build")
    for stage in all_stages:
        image = base_image(stage[0][1], defaults)
        if "@sha256:" not in image:
            tag = image.rpartition(":")[2] if ":" in image else ""
            if not tag or tag == "latest" or not re.search(r"\d", tag):
                found.append(f"base image {image} is not pinned to a version")
    runtime = all_stages[-1]
    users = [args for word, args in runtime if word == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        found.append("the runtime stage runs as root")
    if not any(word == "HEALTHCHECK" and "NONE" not in args.upper() for word, args in runtime):
        found.append("the runtime stage has no HEALTHCHECK")
    for word, args in runtime:
        if word == "RUN":
            for tool in BUILD_TOOLS:
                if re.search(rf"(?<![\w-]){re.escape(tool)}(?![\w-])", args):
                    found.append(f"the runtime stage installs {tool}")
    for stage in all_stages:
        for word, args in stage:
            if word in {"ENV", "ARG"}:
                for name, _, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)(=|\s)(\S*)", args):
                    if SECRET_NAME.search(name) and value:
                        found.append(f"{word} {name} bakes a secret into the image")
            if word in {"COPY", "ADD"} and re.search(r"(^|\s)\.env(\s|$)|id_rsa|\.pem\b", args):
                found.append(f"{word} copies a secret file: {args}")
    cmd = [args for word, args in runtime if word == "CMD"]
    if not cmd or not cmd[-1].startswith("["):
        found.append("CMD is not in exec form (signals would not reach the server)")
    return found


def test_the_dockerfile_keeps_its_invariants() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert problems(text) == []
    runtime = stages(text)[-1]
    command = json.loads(next(args for word, args in runtime if word == "CMD"))
    assert (REPO_ROOT / command[0]).is_file(), command
    exposed = next(args for word, args in runtime if word == "EXPOSE")
    health = next(args for word, args in runtime if word == "HEALTHCHECK")
    assert f":{exposed}/healthz" in health


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (lambda t: t.replace("USER 10001", "USER root"), "runs as root"),
        (lambda t: re.sub(r"HEALTHCHECK[^\n]*\\\n[^\n]*\n", "", t), "no HEALTHCHECK"),
        (
            lambda t: t.replace("FROM ${PYTHON_IMAGE} AS runtime", "FROM python:latest AS runtime"),
            "not pinned",
        ),
        (
            lambda t: t.replace("ARG PYTHON_IMAGE=python:3.11-slim-bookworm", "ARG PYTHON_IMAGE=python"),
            "not pinned",
        ),
        (
            lambda t: t.replace(
                "--no-install-recommends ffmpeg", "--no-install-recommends build-essential ffmpeg"
            ),
            "installs build-essential",
        ),
        (
            lambda t: t.replace(
                "ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1",
                "ENV SECRET_KEY=abc PATH=/opt/venv/bin:$PATH",
            ),
            "bakes a secret",
        ),
        (lambda t: t.replace("COPY . .", "COPY .env ."), "copies a secret file"),
        (lambda t: t.replace('CMD ["scripts/serve.sh"]', "CMD scripts/serve.sh"), "exec form"),
    ],
)
def test_the_dockerfile_check_catches_each_mistake(broken, problem: str) -> None:  # type: ignore[no-untyped-def]
    text = broken((DEPLOY / "Dockerfile").read_text())
    assert any(problem in p for p in problems(text)), problems(text)


def test_the_build_context_leaves_out_local_data_and_secrets() -> None:
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", ".env.*", ".venv", ".git", "var", "uploaded_files", "*.db", "node_modules"} <= ignored
    assert "deploy/metrics_token" in ignored


def test_the_compose_stack_is_complete_and_its_files_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"migrate", "web", "jobs", "postgres", "redis", "prometheus", "alertmanager", "grafana"} <= set(
        services
    )
    for name, service in services.items():
        image = service.get("image")
        if image:
            assert re.search(r":[\w.-]*\d", image) and not image.endswith(":latest"), (
                f"{name}: {image} not pinned"
            )
        else:
            build = service["build"]
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("./") and not source.endswith(
                "metrics_token"
            ):  # the token is the operator's
                assert (DEPLOY / source).exists(), f"{name}: {source} missing"
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and not key.startswith("POSTGRES_"):  # the local database's own login
                assert str(value).startswith("${"), f"{name}: {key} must come from the operator's environment"
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


BICEP = DEPLOY / "azure/main.bicep"


def _bicep() -> tuple[str, dict[str, bool], set[str], list[str]]:
    text = BICEP.read_text()
    code = re.sub(r"//[^\n]*", "", text)
    params = {m[0]: bool(m[1]) for m in re.findall(r"^param (\w+) [\w.]+( = .+)?$", code, re.M)}
    symbols = set(re.findall(r"^(?:resource|var) (\w+) ", code, re.M)) | set(params)
    outputs = re.findall(r"^output (\w+) \w+ = (.+)$", code, re.M)
    return code, params, symbols, [expr for _, expr in outputs]


def test_the_bicep_parameters_file_and_template_agree() -> None:
    code, params, symbols, outputs = _bicep()
    supplied = set(json.loads((DEPLOY / "azure/main.parameters.json").read_text())["parameters"])
    assert supplied <= set(params), f"parameters.json sets unknown parameters: {supplied - set(params)}"
    required = {name for name, has_default in params.items() if not has_default}
    assert required <= supplied, f"required parameters missing from parameters.json: {required - supplied}"
    for name in params:  # every parameter is used somewhere after its declaration
        assert len(re.findall(rf"\b{name}\b", code)) > 1, f"parameter {name} is never used"
    for expr in outputs:  # outputs read declared resources
        for symbol in re.findall(r"\b([a-z]\w*)\.(?:properties|name|id)\b", expr):
            assert symbol in symbols, f"output reads undeclared {symbol}"
    for symbol in re.findall(r"\b(\w+)\.(?:properties|id)\b", code):
        assert symbol in symbols, f"{symbol} is referenced but never declared"


def _parse_bicep(text: str) -> dict:  # type: ignore[type-arg]
    from pycep import BicepParser

    return BicepParser(cache=False).parse(text=text)


def test_the_bicep_template_parses_with_a_full_bicep_grammar() -> None:
    """pycep-parser reads the whole template with Bicep's grammar: a syntax error fails here, and the
    parsed template agrees with what the checks above read from its text."""
    code, params, _symbols, _outputs = _bicep()
    tree = _parse_bicep(BICEP.read_text())
    assert set(tree["parameters"]) == set(params)
    assert set(tree["outputs"]) == set(re.findall(r"^output (\w+) ", code, re.M))
    resources = tree["resources"]
    expected = {"logs", "vault", "postgres", "redis", "storage", "lifecycle", "environment", "migrate", "web"}
    assert expected | {"jobs"} <= set(resources)
    for name, resource in resources.items():
        assert re.fullmatch(r"Microsoft\.\w+(/\w+)+", resource["type"]), (name, resource["type"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", resource["api_version"]), name
    assert {"type": "secure"} in tree["parameters"]["postgresAdminPassword"]["decorators"]


@pytest.mark.parametrize(
    "broken",
    [
        lambda t: t.replace("resource web ", "resource web = ", 1),
        lambda t: t.replace("param appUrl string", "param appUrl", 1),
        lambda t: t.replace("output webUrl string", "output webUrl", 1),
    ],
)
def test_a_bicep_syntax_error_fails_the_parse(broken) -> None:  # type: ignore[no-untyped-def]
    from lark.exceptions import UnexpectedInput

    text = BICEP.read_text()
    assert broken(text) != text
    with pytest.raises(UnexpectedInput):
        _parse_bicep(broken(text))


def test_the_bicep_template_has_what_the_issue_asks() -> None:
    code = _bicep()[0]
    # A canary keeps the rest of the traffic on a revision that exists (named by a parameter).
    assert "revisionName: '${prefix}-web--${stableRevisionSuffix}'" in code
    assert "activeRevisionsMode: 'Multiple'" in code
    assert re.search(r"scale: \{ minReplicas: 1, maxReplicas: 1 \}", code)  # one jobs replica
    assert "command: [ 'alembic', 'upgrade', 'head' ]" in code  # the migration job
    assert "dependsOn: [ migrate" in code  # before the web revision
    assert re.search(r"@secure\(\)\nparam postgresAdminPassword", code)
    assert "tierToCool: { daysAfterModificationGreaterThan: 30 }" in code  # takes to cool storage
    for secret in ("SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN"):
        assert re.search(rf"name: '{secret}', secretRef:", code), secret


def test_azure_redis_sends_the_keyspace_notifications_reflex_locks_wait_for() -> None:
    """Azure Cache for Redis refuses CONFIG SET: without these settings every worker would fail to
    start (or wait out whole lock timeouts), so the template must set exactly what Reflex needs."""
    from reflex.istate.manager.redis import NOTIFY_KEYSPACE_EVENTS

    code = _bicep()[0]
    configured = re.search(r"'notify-keyspace-events': '([^']*)'", code)
    assert configured is not None, "redisConfiguration must set notify-keyspace-events"
    assert set(NOTIFY_KEYSPACE_EVENTS) <= set(configured[1]), (NOTIFY_KEYSPACE_EVENTS, configured[1])
    assert "{ name: 'REFLEX_IGNORE_REDIS_CONFIG_ERROR', value: 'true' }" in code


def test_every_deploy_file_named_by_the_runbooks_exists() -> None:
    for runbook in sorted((REPO_ROOT / "docs/runbooks").glob("*.md")):
        for path in re.findall(r"\bdeploy/[\w./-]+\w", runbook.read_text()):
            assert (REPO_ROOT / path).exists() or Path(path).name == "metrics_token", (
                f"{runbook.name}: {path}"
            )
