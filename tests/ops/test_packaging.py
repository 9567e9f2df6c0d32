"""The wheel, installed in a fresh virtual environment, runs the commands the container runs
(deploy/compose.yaml) against PostgreSQL and Redis."""

import os
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest
import yaml

from tests.engines import REDIS_URL
from tests.servers import server_process

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
PYCACHE = shutil.ignore_patterns("__pycache__", "*.pyc")

pytestmark = [pytest.mark.slow, pytest.mark.engines("postgresql")]


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


def compose_command(service: str) -> list[str]:
    command: list[str] = yaml.safe_load(COMPOSE.read_text())["services"][service]["command"]
    return command


def package_files() -> set[str]:
    """Every file of the package in the source tree, as a path inside the wheel."""
    return {
        str(path.relative_to(ROOT))
        for path in (ROOT / "boxoffice").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_compose_runs_migrations_once_before_servers_and_workers() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]

    assert compose_command("migrate") == ["boxoffice", "db", "upgrade"]
    for name in ("server", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert {"postgres", "redis", "server", "worker"} <= set(services)


def test_the_wheel_installs_and_runs_as_the_container_does(
    database_url: str, tmp_path: Path
) -> None:
    # What the Dockerfile copies into its build stage, and nothing else; a copy, so that the
    # build leaves nothing in the working tree.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "boxoffice", source / "boxoffice", ignore=PYCACHE)
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), "."], cwd=source)
    (wheel,) = wheels.glob("boxoffice-*.whl")
    missing = package_files() - set(zipfile.ZipFile(wheel).namelist())
    assert not missing, f"left out of the wheel: {sorted(missing)}"

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "-c", str(ROOT / "constraints.txt")]
        + [str(wheel)],
        cwd=tmp_path,
    )
    # An empty working directory: nothing of the source tree can be imported by accident.
    home = tmp_path / "home"
    home.mkdir()
    where = "import boxoffice; print(boxoffice.__file__)"
    installed = run([str(venv / "bin" / "python"), "-c", where], cwd=home)
    assert installed.startswith(str(venv)), installed

    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "BOXOFFICE_ENV": "production",
        "BOXOFFICE_SECRET_KEY": secrets.token_urlsafe(48),
        "BOXOFFICE_DATABASE_URL": database_url,
        "BOXOFFICE_REDIS_URL": REDIS_URL,
        "BOXOFFICE_RATE_LIMIT_PREFIX": f"wheel-test-{secrets.token_hex(4)}",
    }
    migrate = compose_command("migrate")
    run([str(venv / "bin" / migrate[0]), *migrate[1:]], cwd=home, env=env)

    serve = compose_command("server")
    command = [str(venv / "bin" / serve[0]), *serve[1:], "--host", "127.0.0.1"]
    with (
        server_process(env, command=command, cwd=str(home), startup_seconds=60) as (_, url),
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").json() == {"status": "ready"}
        account = {"email": "wheel@example.com", "password": "long enough", "full_name": "W"}
        assert http.post("/api/v1/auth/register", json=account).status_code == 201
        login = http.post(
            "/api/v1/auth/login",
            json={"email": account["email"], "password": account["password"]},
        )
        assert login.status_code == 200, login.text
        me = http.get(
            "/api/v1/users/me",
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
        assert me.json()["email"] == "wheel@example.com"
        assert http.get("/metrics").status_code == 200
        assert http.get("/docs").status_code == 200
