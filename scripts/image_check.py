"""Check a built SayZhong image from the inside (scripts/build_image.sh --check).

    python scripts/image_check.py ROOTFS CONFIG.json

ROOTFS: the image's filesystem, mounted (`buildah mount`); CONFIG.json: `buildah inspect --type image`.
Checks what deploy/Dockerfile promises and tests/unit/ops/test_deploy_files.py can only read from the
text: the image runs as a non-root user, carries no compilers or package-build tools, holds the
compiled front end, and its migration command and its serving command work — the server answers
/healthz and stops cleanly on SIGTERM. Both commands run inside ROOTFS as the image's user (chroot,
with /proc and /dev bound in), with production settings and loopback addresses only. Needs root.
Prints one line per check and exits non-zero when any fails.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

BUILD_TOOLS = ("gcc", "g++", "cc", "make", "git", "npm")
"""Found on the system PATH of the runtime stage means build tools were left in. (Node itself comes
with the app's Python requirements, in the virtualenv: the server uses it.)"""
SYSTEM_BIN = ("usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mounted(rootfs: Path) -> Iterator[None]:
    """/proc and /dev inside the image's filesystem while its commands run."""
    done: list[Path] = []
    try:
        for source, target, how in (("proc", "proc", ["-t", "proc"]), ("/dev", "dev", ["--bind"])):
            path = rootfs / target
            path.mkdir(exist_ok=True)
            subprocess.run(["mount", *how, source, str(path)], check=True)
            done.append(path)
        yield
    finally:
        for path in reversed(done):
            subprocess.run(["umount", "-l", str(path)], check=False)


def inside(rootfs: Path, user: str, workdir: str, argv: list[str]) -> list[str]:
    """argv run in `rootfs` as `user` from `workdir` (util-linux's chroot --userspec)."""
    uid, _, gid = user.partition(":")
    return [
        "chroot",
        f"--userspec={uid}:{gid or uid}",
        str(rootfs),
        "/bin/sh",
        "-c",
        'cd "$0" && exec "$@"',
        workdir,
        *argv,
    ]


class Image(NamedTuple):
    """What an image's configuration (`buildah inspect --type image`) says it runs, and how."""

    user: str
    cmd: list[str]
    env: dict[str, str]
    workdir: str
    healthcheck: list[str]

    @classmethod
    def of(cls, config: dict[str, Any]) -> Image:
        oci = config.get("OCIv1", {}).get("config", {})
        docker = config.get("Docker", {}).get("config", {})
        return cls(
            user=oci.get("User") or "",
            cmd=oci.get("Cmd") or [],
            env=dict(item.split("=", 1) for item in oci.get("Env", [])),
            workdir=oci.get("WorkingDir") or "/app",
            healthcheck=(docker.get("Healthcheck") or {}).get("Test") or [],
        )


def static_checks(rootfs: Path, config: dict[str, Any]) -> list[tuple[bool, str]]:
    """What the image's configuration and files show without running it: (passed, what) each."""
    image = Image.of(config)
    user = image.user
    root = user in ("", "0", "root") or user.startswith(("0:", "root:"))
    left = [f"/{d}/{t}" for d in SYSTEM_BIN for t in BUILD_TOOLS if (rootfs / d / t).exists()]
    data = rootfs / image.env.get("DATA_DIR", "/data").lstrip("/")
    owner = data.stat().st_uid if data.is_dir() else None
    return [
        (not root, f"runs as a non-root user ({user!r})"),
        (bool(image.healthcheck), "declares a health check"),
        (image.cmd == ["scripts/serve.sh"], f"serves with scripts/serve.sh in exec form ({image.cmd})"),
        (not left, f"no build tools on the system PATH ({', '.join(left) or 'none'})"),
        ((rootfs / "app/.web/build/client/index.html").is_file(), "holds the compiled front end"),
        (not root and str(owner) == user.split(":")[0], f"its data folder belongs to {user} (owner {owner})"),
    ]


def main() -> int:
    rootfs, config_path = Path(sys.argv[1]), Path(sys.argv[2])
    config = json.loads(config_path.read_text())
    user, cmd, env, workdir, _ = Image.of(config)
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            failures.append(what)

    for ok, what in static_checks(rootfs, config):
        check(ok, what)

    port = free_port()
    run_env = {
        **env,
        "HOME": "/tmp",
        "SECRET_KEY": secrets.token_hex(32),
        "SMTP_HOST": "127.0.0.1",  # production refuses to start without a mail server; none is sent to
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "APP_URL": f"http://127.0.0.1:{port}",
    }
    with mounted(rootfs):
        migrate = subprocess.run(
            inside(rootfs, user, workdir, ["alembic", "upgrade", "head"]),
            env=run_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        check(migrate.returncode == 0, "the migration job's command runs (alembic upgrade head)")
        if migrate.returncode:
            print(migrate.stderr[-3000:])
        started = time.monotonic()
        server = subprocess.Popen(
            inside(rootfs, user, workdir, cmd or ["scripts/serve.sh"]),
            env=run_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        healthy = False
        try:
            while time.monotonic() - started < 600 and server.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                        healthy = response.status == 200
                        break
                except OSError:
                    time.sleep(2)
            check(healthy, f"the server answers /healthz (after {time.monotonic() - started:.0f} s)")
            if healthy:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                    page = response.read().decode("utf-8", "replace")
                check(response.status == 200 and "<html" in page.lower(), "and serves the front end at /")
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:  # a bound on the wait, not a measurement: a server that ignores SIGTERM hangs
                    code = server.wait(timeout=60)
                    check(code == 0, f"stops on SIGTERM (exit {code})")
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
                    check(False, "stops on SIGTERM (it ignored it and was killed)")
            output = server.stdout.read().decode("utf-8", "replace") if server.stdout else ""
            if not healthy:
                print(output[-4000:])
    print(f"{len(failures)} check(s) failed" if failures else "image checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
