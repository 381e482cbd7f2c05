"""make test-deploy: the Ansible role on a real Debian root, booted, with a real broker.

Run by scripts/test_deploy.sh (root; it installs debootstrap, systemd-container, mosquitto and the
controller's ansible). What it does, in order, and what each step must show:

  root     a Debian bookworm minbase root (python3, systemd) from debootstrap, cached in
           $EDGE_OCR_TEST_CACHE (default /var/cache/edge-ocr-test/bookworm-base), copied per run
  bundle   scripts/bundle.py --targets x86_64-cp311 (wheels, hash pins, .debs, model pack)
  boot     systemd-nspawn -b on that copy (systemd 252 as PID 1); Ansible reaches it through the
           community.docker.nsenter connection; mosquitto listens on 127.0.0.1 (shared network)
  (a)      provision from scratch (the .debs from the bundle, the release, the pack, config, unit):
           the unit is active (READY=1), the health check passed, a scan arrives on MQTT
  (b)      the same run again: changed=0, the daemon not restarted
  (e)      --check --diff with a changed variable: reports the change, changes nothing on the device
  (c)      a release whose daemon fails every frame: the health check fails, the role switches back,
           restarts the previous release (healthy, scans on MQTT again) and fails the host
  (d)      a model pack with a wrong sha256: refused on the controller (index sha256) and on the
           device (a model file against the pack's manifest) before the switch; nothing restarted
Every step's time is printed; the container and its mounts go away at the end, even on failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.broker import Broker, Recorder  # noqa: E402

CACHE = Path(os.environ.get("EDGE_OCR_TEST_CACHE", "/var/cache/edge-ocr-test"))
MIRROR = os.environ.get("EDGE_OCR_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BIN = Path(sys.executable).parent
DEVICE = "testdev"
TARGET = "x86_64-cp311"
TIMES: list[tuple[str, float]] = []
RESULTS: list[str] = []


def say(message: str) -> None:
    print(f"test-deploy: {message}", flush=True)


class Failed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


@contextlib.contextmanager
def timed(label: str):
    start = time.monotonic()
    say(f"--- {label}")
    yield
    took = time.monotonic() - start
    TIMES.append((label, took))
    say(f"    {label}: {took:.1f} s")


def run(argv: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, text=True, **kw)


# ---- the root and the container ------------------------------------------------------------------------


def base_root(fresh: bool) -> Path:
    base = CACHE / "bookworm-base"
    if fresh and base.exists():
        shutil.rmtree(base)
    if (base / "usr/lib/systemd/systemd").exists():
        say(f"reusing the cached root {base}")
        return base
    tmp = CACHE / "bookworm-base.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    say(f"debootstrap bookworm into {base} from {MIRROR}")
    run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,systemd,systemd-sysv",
            "bookworm",
            str(tmp),
            MIRROR,
        ],
        stdout=subprocess.DEVNULL,
    )
    tmp.rename(base)
    return base


class Container:
    """systemd-nspawn -b on a copy of the root; stopped (and its mounts checked) by close()."""

    def __init__(self, base: Path, workdir: Path) -> None:
        self.root = workdir / "root"
        self.log = workdir / "nspawn.log"
        self.proc: subprocess.Popen | None = None
        self.pid = 0
        self.stopped = False
        others = running_containers(self.root)
        if others:
            raise Failed(
                f"systemd-nspawn PID {others} from an earlier run still uses {self.root}: stop it first"
            )
        if self.root.exists():
            shutil.rmtree(self.root)
        run(["cp", "-a", "--reflink=auto", str(base), str(self.root)])

    def start(self) -> None:
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [
                    "systemd-nspawn",
                    "-D",
                    str(self.root),
                    "--register=no",
                    "--keep-unit",
                    "-b",
                    "-M",
                    "edge-ocr-test",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.pid:
            expect(self.proc.poll() is None, f"systemd-nspawn exited:\n{self.log.read_text()[-3000:]}")
            self.pid = self._init_pid()
            time.sleep(0.5)
        expect(self.pid > 0, "the container's systemd did not appear")
        state = self.sh("systemctl is-system-running --wait", check=False, timeout=120).stdout.strip()
        expect(state in ("running", "degraded"), f"the container's systemd is {state!r}")
        say(f"container up: systemd PID {self.pid} (host), system {state}")

    def _init_pid(self) -> int:
        """The container's systemd: the child of systemd-nspawn that is PID 1 in its namespace."""
        assert self.proc is not None
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)$", status, re.M)
            nspid = re.search(r"^NSpid:\s+(.*)$", status, re.M)
            if ppid and int(ppid.group(1)) == self.proc.pid and nspid and nspid.group(1).split()[-1] == "1":
                return int(entry.name)
        return 0

    def sh(self, command: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        argv = ["nsenter", "-t", str(self.pid), "-m", "-u", "-i", "-n", "-p", "--", "/bin/sh", "-c", command]
        result = run(
            argv,
            check=False,
            capture_output=True,
            timeout=timeout,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )
        if check and result.returncode != 0:
            raise Failed(
                f"in the container: {command}: exit {result.returncode}\n{result.stdout}{result.stderr}"
            )
        return result

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn asks the container's systemd to power off
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for mount in mounts_under(self.root):
            run(["umount", "-l", mount], check=False)
        self.stopped = not running_containers(self.root) and not mounts_under(self.root)
        say("container stopped" if self.stopped else "the container did NOT stop: its root is kept")


def mounts_under(root: Path) -> list[str]:
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return sorted((m for m in mounts if m.startswith(str(root))), key=len, reverse=True)


def running_containers(root: Path) -> list[int]:
    """systemd-nspawn processes whose -D is this root (e.g. left by a run that was killed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"systemd-nspawn") and str(root).encode() in argv:
            found.append(int(entry.name))
    return found


# ---- ansible ----------------------------------------------------------------------------------------------


def nsenter_host(container: Container) -> str:
    return (
        f"{DEVICE} ansible_connection=community.docker.nsenter ansible_nsenter_pid={container.pid} "
        "ansible_become=false ansible_python_interpreter=/usr/bin/python3"
    )


class Play:
    def __init__(self, workdir: Path, host_line: str, broker: Broker, tag: str = "") -> None:
        self.workdir = workdir
        self.host = host_line.split()[0]
        self.inventory = workdir / f"inventory{tag}.ini"
        self.inventory.write_text(f"[edge_ocr]\n{host_line}\n")
        self.vars = workdir / "vars.json"
        self.vars.write_text(
            json.dumps(
                {
                    "edge_ocr_bundle_dir": str(ROOT / "dist" / "bundle"),
                    # no camera here: the bundled sample footage, looped, at 1 frame a second
                    "edge_ocr_source_kind": "video",
                    "edge_ocr_source_fps": 1.0,
                    "edge_ocr_config_extra": {"source": {"loop": True}},
                    "edge_ocr_mqtt_enabled": True,
                    "edge_ocr_mqtt_host": "127.0.0.1",
                    "edge_ocr_mqtt_port": broker.port,
                    "edge_ocr_health_timeout": 150,
                }
            )
        )
        (workdir / "ansible.cfg").write_text(
            "[defaults]\nstdout_callback = ansible.builtin.default\ncallback_result_format = yaml\n"
            "interpreter_python = /usr/bin/python3\nforks = 5\n"
        )

    def __call__(self, *extra: str, label: str) -> tuple[int, str, dict]:
        log = self.workdir / f"ansible-{re.sub(r'[^a-z0-9]+', '-', label.lower())}.log"
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(self.workdir / "ansible.cfg"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
            # must not reach the device's pip (the role installs with env -i and pip --isolated)
            "PIP_INDEX_URL": "http://127.0.0.1:9/no-such-index/",
            "PIP_FIND_LINKS": "/no/such/folder",
        }
        argv = [str(BIN / "ansible-playbook"), "-i", str(self.inventory), str(ROOT / "ansible" / "site.yml")]
        argv += ["-e", f"@{self.vars}", *extra]
        result = run(argv, check=False, capture_output=True, env=env, timeout=1200)
        out = result.stdout + result.stderr
        log.write_text(out)
        recap = re.search(rf"^{re.escape(self.host)}\s*:\s*(.*)$", out, re.M)
        counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap.group(1))} if recap else {}
        say(f"    ansible-playbook {' '.join(extra)}: exit {result.returncode}, {counts} (log {log})")
        return result.returncode, out, counts


# ---- the bundles for (c) and (d) ------------------------------------------------------------------------


def bundle(*args: str) -> None:
    run([sys.executable, str(ROOT / "scripts" / "bundle.py"), *args])


def broken_bundle(workdir: Path) -> Path:
    """x86_64-cp311 with a release whose daemon starts (READY=1) but fails every frame."""
    src = workdir / "broken-src"
    shutil.rmtree(src, ignore_errors=True)
    listed = run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard"], capture_output=True
    ).stdout
    for name in listed.splitlines():
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    daemon = src / "edge_ocr" / "daemon.py"
    text = daemon.read_text()
    anchor = (
        '        """OCR and codes of one frame: the very stages `edge-ocr scan` uses (reader.read_page)."""\n'
    )
    expect(anchor in text, "daemon.py changed: update broken_bundle() in tests/deploy/run_deploy.py")
    daemon.write_text(
        text.replace(anchor, anchor + '        raise RuntimeError("broken release (make test-deploy)")\n')
    )
    init = src / "edge_ocr" / "__init__.py"
    init.write_text(re.sub(r'__version__ = "([^"]+)"', r'__version__ = "\1+broken"', init.read_text()))
    wheels = workdir / "broken-wheel"
    shutil.rmtree(wheels, ignore_errors=True)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)])
    (wheel,) = wheels.glob("edge_ocr-*.whl")
    out = workdir / "bundle-broken"
    shutil.rmtree(out, ignore_errors=True)
    bundle("--targets", TARGET, "--out", str(out), "--wheel", str(wheel))
    return out


def bad_pack_bundle(workdir: Path) -> tuple[Path, str, str]:
    """The good bundle (hard links) plus two bad packs: one whose tar does not match index.json's
    sha256, and one whose model file does not match the pack's own manifest.json."""
    out = workdir / "bundle-badpack"
    shutil.rmtree(out, ignore_errors=True)
    run(["cp", "-al", str(ROOT / "dist" / "bundle"), str(out)])
    index_path = out / "models" / "index.json"
    (out / "models" / "index.json").unlink()  # a copy, not a link: it is rewritten below
    shutil.copy2(ROOT / "dist" / "bundle" / "models" / "index.json", index_path)
    models = workdir / "models-corrupt"
    shutil.rmtree(models, ignore_errors=True)
    shutil.copytree(
        ROOT / "models", models, ignore=shutil.ignore_patterns("modelbuild", ".build", "__pycache__")
    )
    victim = models / "ppocrv6-tiny" / "rec_320_fp16.tflite"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    bundle(
        "--models-only", "--models-dir", str(models), "--models-version", "corrupt-file", "--out", str(out)
    )
    index = json.loads(index_path.read_text())
    good_version = next(v for v in index["packs"] if v != "corrupt-file")
    # the good pack's tar under another name, with a sha256 in index.json that it does not have
    index["packs"]["wrong-sha"] = {**index["packs"][good_version], "version": "wrong-sha", "sha256": "0" * 64}
    index_path.write_text(json.dumps(index, indent=1))
    return out, "wrong-sha", "corrupt-file"


def chroot_step(base: Path, workdir: Path, broker: Broker) -> None:
    """(f) The same role through community.general.chroot (an image being prepared): everything is
    installed and the unit enabled, nothing is started (ansible_facts.is_chroot), and the controller's
    environment, which that connection passes into the target (PIP_INDEX_URL pointing nowhere), does
    not reach pip."""
    root = workdir / "chroot"
    shutil.rmtree(root, ignore_errors=True)
    run(["cp", "-a", "--reflink=auto", str(base), str(root)])
    host = (
        f"{root} ansible_connection=community.general.chroot ansible_become=false "
        "ansible_python_interpreter=/usr/bin/python3 edge_ocr_device_id=chrootdev"
    )
    play = Play(workdir, host, broker, "-chroot")
    rc, out, counts = play(label="f chroot")
    expect(rc == 0 and "(chroot: nothing is started)" in out, f"chroot provisioning failed:\n{out[-4000:]}")
    expect((root / "opt/edge-ocr/current/bin/edge-ocr").exists(), "no release behind current in the chroot")
    wants = root / "etc/systemd/system/multi-user.target.wants/edge-ocr.service"
    expect(wants.is_symlink(), "the unit is not enabled in the chroot")
    rc, out, again = play(label="f chroot again")
    expect(rc == 0 and again.get("changed") == 0, f"second chroot run: {again}\n{out[-3000:]}")
    RESULTS.append(
        f"(f) chroot: installed and enabled, nothing started (changed={counts['changed']}, then 0)"
    )


# ---- the checks -----------------------------------------------------------------------------------------


def device_state(c: Container) -> dict:
    out = c.sh(
        "readlink /opt/edge-ocr/current; readlink /opt/edge-ocr/models/current; "
        "systemctl show -p MainPID --value edge-ocr; systemctl is-active edge-ocr || true; "
        "ls /opt/edge-ocr/models; "
        "find /opt/edge-ocr /opt/edge-ocr-dist /etc/edge-ocr /etc/systemd/system/edge-ocr.service* "
        "-path /opt/edge-ocr/releases -prune -o -printf '%p %l %s %m %u %g\\n' | sort | md5sum; "
        "cat /etc/edge-ocr/config.toml /etc/systemd/system/edge-ocr.service.d/*.conf | md5sum",
    ).stdout.splitlines()
    return {
        "release": out[0],
        "models": out[1],
        "pid": out[2],
        "active": out[3],
        "packs": out[4:-2],
        "tree": out[-2],
        "files": out[-1],
    }


def wait_scan(rec: Recorder, after: int, timeout: float) -> bool:
    return rec.wait_count(after + 1, f"edge_ocr/{DEVICE}/scan", timeout=timeout)


def _interrupted(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupted)  # the container is stopped in `finally` either way
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="leave the container's root in the cache folder")
    parser.add_argument("--fresh-root", action="store_true", help="debootstrap again instead of the cache")
    parser.add_argument(
        "--chroot", action="store_true", help="also provision a second copy through the chroot connection"
    )
    args = parser.parse_args()
    start = time.monotonic()
    workdir = CACHE / "run"
    workdir.mkdir(parents=True, exist_ok=True)
    container = None
    try:
        with timed("root (debootstrap or cache)"):
            base = base_root(args.fresh_root)
        with timed("bundle x86_64-cp311"):
            bundle("--targets", TARGET)
            manifest = json.loads((ROOT / "dist" / "bundle" / TARGET / "manifest.json").read_text())
            size = sum(f["size"] for f in manifest["files"]) / 1e6
            say(
                f"    release {manifest['release']}, {len(manifest['wheels'])} wheels, "
                f"{len(manifest['debs'])} debs, {size:.1f} MB"
            )
        with timed("copy and boot the root"):
            container = Container(base, workdir)
            container.start()
        with Broker() as broker, Recorder.for_broker(broker, ["edge_ocr/#"]) as rec:
            play = Play(workdir, nsenter_host(container), broker)
            good_release = manifest["release"]
            index = json.loads((ROOT / "dist" / "bundle" / "models" / "index.json").read_text())
            good_pack = index["default"]

            with timed("(e) check mode on the fresh root"):
                rc, out, counts = play("--check", label="e fresh check")
                expect(rc == 0, f"check mode on a fresh root failed:\n{out[-4000:]}")
                left = container.sh(
                    "ls -d /opt/edge-ocr /etc/edge-ocr /opt/edge-ocr-dist; getent passwd edge-ocr",
                    check=False,
                )
                expect(left.stdout.strip() == "", f"check mode changed the fresh root: {left.stdout}")
                RESULTS.append(
                    f"(e) --check on the fresh root: reported changed={counts.get('changed')}, "
                    "nothing written"
                )
            with timed("(a) provision from scratch"):
                rc, out, counts = play(label="a provision")
                expect(rc == 0 and counts.get("failed") == 0, f"provisioning failed:\n{out[-6000:]}")
                state = device_state(container)
                expect(state["active"] == "active", f"edge-ocr is {state['active']}")
                expect(state["release"] == f"releases/{good_release}", f"current -> {state['release']}")
                expect(state["models"] == good_pack, f"models/current -> {state['models']}")
                expect("healthy: pid" in out, "no health check result in the output")
                expect(wait_scan(rec, 0, 120), "no scan on MQTT within 120 s")
                scan = rec.messages(f"edge_ocr/{DEVICE}/scan")[0]
                RESULTS.append(
                    f"(a) provisioned: READY, healthy, scan on {scan.topic} ({len(scan.payload)} bytes)"
                )
            with timed("(b) second run"):
                rc, out, counts = play(label="b again")
                expect(rc == 0, f"second run failed:\n{out[-4000:]}")
                changed = re.findall(r"^changed: \[.*$|^TASK \[(.*)\]", out, re.M)
                expect(counts.get("changed") == 0, f"second run changed {counts.get('changed')}: {changed}")
                after = device_state(container)
                expect(after["pid"] == state["pid"], "the daemon was restarted by a run that changed nothing")
                RESULTS.append(f"(b) second run: changed=0, daemon pid {after['pid']} kept")
            with timed("(e) check mode"):
                before = device_state(container)
                rc, out, counts = play("--check", "--diff", "-e", "edge_ocr_log_level=debug", label="e check")
                expect(rc == 0, f"check mode failed:\n{out[-4000:]}")
                expect(
                    counts.get("changed", 0) >= 1 and 'log_level = "debug"' in out,
                    "check mode did not report the change",
                )
                after = device_state(container)
                expect(after == before, f"check mode changed the device:\n{before}\n{after}")
                RESULTS.append(
                    f"(e) --check --diff (log_level=debug): reported changed={counts['changed']}, "
                    "device unchanged"
                )

            with timed("(c) a release that fails its health check"):
                broken = broken_bundle(workdir)
                bad_release = json.loads((broken / TARGET / "manifest.json").read_text())["release"]
                seen = len(rec.messages(f"edge_ocr/{DEVICE}/scan"))
                rc, out, counts = play(
                    "-e",
                    f"edge_ocr_bundle_dir={broken}",
                    "-e",
                    "edge_ocr_health_timeout=60",
                    label="c broken",
                )
                expect(
                    rc != 0 and counts.get("failed") == 1,
                    f"the broken release did not fail the host:\n{out[-4000:]}",
                )
                expect(
                    "ROLLED BACK to releases/" + good_release in out, f"no rollback message:\n{out[-4000:]}"
                )
                expect("healthy again" in out, f"the previous release is not healthy again:\n{out[-4000:]}")
                state = device_state(container)
                expect(
                    state["release"] == f"releases/{good_release}",
                    f"current -> {state['release']} after the rollback",
                )
                expect(state["active"] == "active", f"edge-ocr is {state['active']} after the rollback")
                health = container.sh(
                    "/opt/edge-ocr/health-check.py "
                    f"--release {good_release} --models {good_pack} --timeout 60"
                ).stdout.strip()
                expect(wait_scan(rec, seen, 120), "no scan on MQTT from the rolled-back release")
                reason = re.search(r"FAILED on \S+: (.*)", out)
                RESULTS.append(
                    f"(c) release {bad_release}: {reason.group(1) if reason else '?'}; "
                    f"rolled back to {good_release}; {health}"
                )
            with timed("(d) model packs with a wrong sha256"):
                badpacks, wrong_sha, corrupt = bad_pack_bundle(workdir)
                before = device_state(container)
                for version, where in (
                    (wrong_sha, "on the controller"),
                    (corrupt, "on testdev before the switch"),
                ):
                    rc, out, counts = play(
                        "--tags",
                        "models",
                        "-e",
                        f"edge_ocr_bundle_dir={badpacks}",
                        "-e",
                        f"edge_ocr_models_version={version}",
                        label=f"d {version}",
                    )
                    expect(
                        rc != 0 and f"refused {where}" in out,
                        f"pack {version} was not refused {where}:\n{out[-4000:]}",
                    )
                    after = device_state(container)
                    expect(
                        after["models"] == before["models"] and after["pid"] == before["pid"],
                        f"pack {version}: the device changed",
                    )
                    expect(version not in after["packs"], f"pack {version} was left in /opt/edge-ocr/models")
                    RESULTS.append(
                        f"(d) pack {version}: refused {where}; models/current still {after['models']}, "
                        "daemon not restarted"
                    )
            if args.chroot:
                with timed("(f) the chroot connection"):
                    chroot_step(base, workdir, broker)
    except Failed as exc:
        say(f"FAILED: {exc}")
        return 1
    finally:
        if container:
            container.close()
        if not args.keep and (container is None or container.stopped):
            for scratch in (
                "root",
                "broken-src",
                "broken-wheel",
                "bundle-broken",
                "bundle-badpack",
                "models-corrupt",
                "chroot",
            ):
                shutil.rmtree(workdir / scratch, ignore_errors=True)
        for label, took in TIMES:
            say(f"time  {label}: {took:.1f} s")
        say(f"total {time.monotonic() - start:.1f} s")
    for line in RESULTS:
        say(f"PASS {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
