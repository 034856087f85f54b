"""CI: the coach installs and runs from its wheel, away from the checkout.

Builds the wheel from the checkout's files, installs it into a fresh venv, runs
`coach serve` from an empty folder, and checks the landing page, one chat turn over
the API and `/api/docs`. The server is stopped whatever happens.

    python3 .ci/wheel_smoke.py

The venv sees the site-packages of the Python that runs this script (the system's,
or `.ci/run`'s venv) so that the dependencies are not downloaded again; the coach
itself must come from the wheel, which is checked.
"""

from __future__ import annotations

import json
import os
import signal
import site
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUIDED_LABEL = "Guided mode: no AI model is configured"
START_SECONDS = 30
REQUEST_SECONDS = 15


def main() -> None:
    # Our lines and the server's log (printed on failure) must come out in order.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    # A SIGTERM from CI runs the `finally` below instead of orphaning the server.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, lambda number, _frame: sys.exit(128 + number))
    with tempfile.TemporaryDirectory(prefix="coach-wheel-") as folder:
        work = Path(folder)
        wheel = build_wheel(work)
        coach = install(wheel, work / "venv")
        check_version(coach)
        run_and_check(coach, work / "run")
    print("wheel smoke: OK")


def build_wheel(work: Path) -> Path:
    """The wheel, built from a copy of the checkout's files, so that a leftover
    `build/` folder cannot slip stale modules into it."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    source = work / "source"
    for name in listing.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((ROOT / name).read_bytes())
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(dist), str(source)], check=True)
    (wheel,) = dist.glob("*.whl")
    print(f"built {wheel.name}")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    see_our_dependencies(python)
    # --force-reinstall: the system may hold an editable install of the same version.
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
        env=clean_environment(),
    )
    where = subprocess.run(
        [str(python), "-c", "import coach; print(coach.__file__)"],
        cwd=venv,
        capture_output=True,
        text=True,
        check=True,
        env=clean_environment(),
    ).stdout.strip()
    if not Path(where).is_relative_to(venv):
        raise SystemExit(f"coach was imported from {where}, not from the wheel in {venv}")
    print(f"coach imported from {where}")
    return venv / "bin" / "coach"


def see_our_dependencies(python: Path) -> None:
    """The new venv sees the packages of the Python running this script too: when
    that is itself a venv (`.ci/run` makes one), `--system-site-packages` would show
    only the base interpreter's. Listed in a .pth file as plain folders, whose own
    .pth files (an editable install of the checkout among them) are not run."""
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [folder for folder in site.getsitepackages() if Path(folder).is_dir()]
    (Path(own) / "coach-ci-dependencies.pth").write_text("\n".join(ours) + "\n")


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without the coach's settings and without PYTHONPATH, which
    could put the checkout ahead of the wheel."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COACH_", "OPENAI_")) and key != "PYTHONPATH"
    }
    return kept | extra


def check_version(coach: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    shown = subprocess.run(
        [str(coach), "--version"],
        capture_output=True,
        text=True,
        check=True,
        env=clean_environment(),
    ).stdout.strip()
    expect(shown == f"coach {project['version']}", f"coach --version printed {shown!r}")
    print(shown)


def run_and_check(coach: Path, run: Path) -> None:
    run.mkdir()
    port = free_port()
    log = (run / "serve.log").open("w+")
    server = subprocess.Popen(
        [str(coach), "serve", "--port", str(port)],
        cwd=run,
        env=clean_environment(COACH_INSTANCE_PATH=str(run / "instance")),
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own process group, so that gunicorn's workers are stopped with it.
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(server, f"{base}/healthz")
        check_app(base)
    except BaseException:
        log.seek(0)
        print(f"coach serve's output:\n{log.read()}", file=sys.stderr)
        raise
    finally:
        stop(server)
        log.close()


def check_app(base: str) -> None:
    status, page = request(f"{base}/")
    expect(status == 200 and GUIDED_LABEL in page, f"landing page: {status}")
    print("landing page: 200, guided mode")
    status, body = request(f"{base}/api/v1/auth/guest", method="POST")
    expect(status == 201, f"guest: {status} {body}")
    auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}
    status, body = request(f"{base}/api/v1/sessions", method="POST", headers=auth)
    expect(status == 201, f"new session: {status} {body}")
    session_id = json.loads(body)["id"]
    status, body = request(
        f"{base}/api/v1/sessions/{session_id}/messages",
        method="POST",
        headers=auth,
        data={"content": "I did not get the job after the second interview."},
    )
    expect(status == 201, f"chat turn: {status} {body}")
    reply = json.loads(body)["reply"]
    expect(reply.get("content"), f"chat turn without a reply: {body}")
    print(f"chat turn: 201, reply of {len(reply['content'])} characters")
    status, _docs = request(f"{base}/api/docs")
    expect(status == 200, f"/api/docs: {status}")
    print("/api/docs: 200")


def request(
    url: str, *, method: str = "GET", headers: dict[str, str] | None = None, data: Any = None
) -> tuple[int, str]:
    body = None if data is None else json.dumps(data).encode()
    sent = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if body is not None:
        sent.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(sent, timeout=REQUEST_SECONDS) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_until_up(server: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"coach serve exited with {server.returncode}") from None
            if time.monotonic() > deadline:
                raise SystemExit(f"coach serve did not answer in {START_SECONDS} s") from None
            time.sleep(0.2)


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group (gunicorn and its workers)."""
    for stop_signal, patience in ((signal.SIGTERM, 15), (signal.SIGKILL, None)):
        try:
            os.killpg(server.pid, stop_signal)
        except ProcessLookupError:
            break  # the group is gone already
        try:
            server.wait(timeout=patience)
            break
        except subprocess.TimeoutExpired:
            continue


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def expect(condition: object, failure: str) -> None:
    if not condition:
        raise SystemExit(f"wheel smoke failed: {failure}")


if __name__ == "__main__":
    main()
