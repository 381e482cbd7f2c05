#!/usr/bin/env python3
"""Build the offline install bundles for a fleet (one per target: CPU architecture + Python).

    scripts/bundle.py [--targets x86_64-cp311,aarch64-cp311] [--out dist/bundle]
    scripts/bundle.py --check-only [--targets ...]     resolve every target, download nothing big
    scripts/bundle.py --models-only [--models-dir DIR]  only the model pack (dist/bundle/models/)

Per target, dist/bundle/TARGET/ holds:
  wheels/             every wheel the daemon needs (pip download --only-binary=:all: for the target's
                      platform tags, Python version and ABI), the edge_ocr wheel among them
  requirements.txt    one `name==version --hash=sha256:...` line per wheel (pip --require-hashes)
  debs/               the Debian packages the device needs with their dependency closure, for sites
                      without an apt mirror, plus a flat apt repository index (Packages, Release)
  manifest.json       target, versions, and the sha256 and size of every file above
and dist/bundle/models/ holds the model packs (one tar per pack version) with index.json.

Debian packages are resolved with a private apt configuration (its own sources, lists, cache and an
empty dpkg status, under --cache), so a foreign architecture needs no `dpkg --add-architecture` on this
machine. Only the Debian archive is used: Raspberry Pi OS's own packages (python3-picamera2) come from
archive.raspberrypi.com and Ubuntu/JetPack's from their mirrors, which are not bundled (see TARGETS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the controller's venv has no edge_ocr: its light models module from the tree

from edge_ocr.models import sha256_file  # noqa: E402  (stdlib only: no numpy, no runtime)

DEBIAN_MIRROR = os.environ.get("EDGE_OCR_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get("EDGE_OCR_DEBIAN_SECURITY_MIRROR", "http://deb.debian.org/debian-security")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# What the role installs with apt (defaults/main.yml: edge_ocr_apt_packages; a test keeps them equal).
DEB_PACKAGES = ["python3-venv", "libzbar0", "python3-systemd"]
# Modules whose wheels must be in every bundle (the resolution check fails without them).
REQUIRED = {
    "numpy",
    "opencv-python-headless",
    "ai-edge-litert",
    "zxing-cpp",
    "pyzbar",
    "paho-mqtt",
    "edge-ocr",
}


@dataclass(frozen=True)
class Target:
    name: str
    arch: str  # uname -m, Ansible's ansible_architecture
    python: str  # "3.11"
    glibc_minor: int  # the target OS's glibc 2.x: highest manylinux tag accepted
    describes: str
    deb_arch: str = ""  # "" = no Debian packages bundled
    suite: str = ""
    constraints: list[str] = field(default_factory=list)
    deb_note: str = ""

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")

    def platforms(self) -> list[str]:
        tags = [f"manylinux2014_{self.arch}"]
        tags += [f"manylinux_2_{minor}_{self.arch}" for minor in range(17, self.glibc_minor + 1)]
        return tags


TARGETS = {
    t.name: t
    for t in (
        Target(
            "x86_64-cp311",
            "x86_64",
            "3.11",
            36,
            "Debian 12 bookworm x86_64 (and the test root of make test-deploy)",
            "amd64",
            "bookworm",
        ),
        Target(
            "aarch64-cp311",
            "aarch64",
            "3.11",
            36,
            "Raspberry Pi OS Bookworm 64-bit, Debian 12 arm64",
            "arm64",
            "bookworm",
            # apt's python3-picamera2 (and simplejpeg) are built against Debian's numpy 1.24: a numpy 2
            # in the venv (--system-site-packages) would shadow it and break them.
            ["numpy<2"],
            "Debian bookworm arm64 packages; python3-picamera2 is Raspberry Pi OS's own (not bundled)",
        ),
        Target(
            "aarch64-cp310",
            "aarch64",
            "3.10",
            35,
            "NVIDIA JetPack 6 (Ubuntu 22.04 arm64)",
            deb_note="no .debs: Ubuntu 22.04 / L4T packages come from the Ubuntu and NVIDIA mirrors",
        ),
        Target(
            "aarch64-cp313",
            "aarch64",
            "3.13",
            41,
            "Raspberry Pi OS / Debian 13 trixie arm64",
            "arm64",
            "trixie",
        ),
    )
}
# Named so that asking for them gives a reason instead of a resolver error.
UNSUPPORTED = {
    "armv7l": "32-bit Raspberry Pi OS (armv7l) has no numpy, opencv-python-headless or LiteRT wheels on "
    "PyPI; use the 64-bit OS (aarch64)",
}


def log(message: str) -> None:
    print(f"bundle: {message}", flush=True)


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, **kwargs)


def source_date_epoch() -> str:
    """The last commit's time, so that an unchanged tree builds a byte-identical wheel."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return os.environ["SOURCE_DATE_EPOCH"]
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip() or "315532800"
    except (OSError, subprocess.CalledProcessError):
        return "315532800"  # 1980-01-01, the earliest a zip can hold


def build_project_wheel(work: Path) -> Path:
    """The edge_ocr wheel (with the shipped models inside, the fallback when no pack is configured)."""
    out = work / "project"
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": source_date_epoch()}
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)], env=env)
    (wheel,) = out.glob("edge_ocr-*.whl")
    return wheel


def pip_target_args(target: Target) -> list[str]:
    args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", target.python]
    args += ["--abi", target.abi, "--abi", "abi3", "--abi", "none"]
    for platform in target.platforms():
        args += ["--platform", platform]
    return args


def write_constraints(target: Target, work: Path) -> list[str]:
    if not target.constraints:
        return []
    path = work / f"constraints-{target.name}.txt"
    path.write_text("\n".join(target.constraints) + "\n")
    return ["-c", str(path)]


def with_target_markers(target: Target, resolve: Callable[[list[str]], dict[str, list[str]]]) -> None:
    """Run resolve(extra requirements) -> {name: Requires-Dist} again with what only the target's markers
    add (pip evaluates markers for the Python running it), until nothing is missing."""
    extra: list[str] = []
    while more := [m for m in missing_for_target(target, resolve(extra)) if m not in extra]:
        log(f"{target.name}: adding {', '.join(more)} (required on Python {target.python})")
        extra += more


def check_target(target: Target, wheel: Path, work: Path) -> dict:
    """Resolve the whole dependency set for the target without installing it (pip --dry-run)."""
    report = work / f"report-{target.name}.json"

    def resolve(extra: list[str]) -> dict[str, list[str]]:
        argv = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "-q"]
        argv += ["--target", str(work / f"nowhere-{target.name}"), "--report", str(report)]
        run(argv + pip_target_args(target) + write_constraints(target, work) + [str(wheel), *extra])
        return {i["metadata"]["name"]: i["metadata"].get("requires_dist", []) for i in planned()}

    def planned() -> list[dict]:
        return json.loads(report.read_text())["install"]

    with_target_markers(target, resolve)
    installed = planned()
    versions = {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"] for i in installed}
    missing = sorted(REQUIRED - set(versions))
    if missing:
        raise SystemExit(f"bundle: {target.name}: the resolution lacks {', '.join(missing)}")
    return versions  # the target's constraints (numpy<2) held: pip resolved under -c


def wheel_name_version(path: Path) -> tuple[str, str]:
    name, version = path.name.split("-")[:2]
    return name.lower().replace("_", "-"), version


def target_environment(target: Target) -> dict:
    """PEP 508 marker values of the target (pip's --python-version does not change how markers are
    evaluated: they are evaluated for the Python running pip)."""
    return {
        "python_version": target.python,
        "python_full_version": target.python + ".0",
        "platform_machine": target.arch,
        "platform_system": "Linux",
        "sys_platform": "linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def missing_for_target(target: Target, requires: dict[str, list[str]]) -> list[str]:
    """Requirements that apply on the target but that the resolution (markers evaluated for this
    machine's Python) left out, e.g. tomli for Python 3.10."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pip always carries a copy
        from pip._vendor.packaging.requirements import Requirement
    env = target_environment(target)
    have = {name.lower().replace("_", "-").replace(".", "-") for name in requires}
    missing = []
    for lines in requires.values():
        for line in lines:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            if req.name.lower().replace("_", "-").replace(".", "-") not in have:
                missing.append(str(Requirement(f"{req.name}{req.specifier}")))
    return sorted(set(missing))


def wheel_requires(path: Path) -> list[str]:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(meta).decode("utf-8", "replace")
    return [
        line[len("Requires-Dist: ") :] for line in text.splitlines() if line.startswith("Requires-Dist: ")
    ]


def download_wheels(target: Target, wheel: Path, dest: Path, work: Path) -> dict:
    dest.mkdir(parents=True)

    def resolve(extra: list[str]) -> dict[str, list[str]]:
        argv = [sys.executable, "-m", "pip", "download", "-q", "-d", str(dest)]
        run(argv + pip_target_args(target) + write_constraints(target, work) + [str(wheel), *extra])
        return {wheel_name_version(p)[0]: wheel_requires(p) for p in dest.glob("*.whl")}

    with_target_markers(target, resolve)
    if not (dest / wheel.name).exists():
        shutil.copy2(wheel, dest / wheel.name)
    versions = dict(wheel_name_version(p) for p in dest.glob("*.whl"))
    missing = sorted(REQUIRED - set(versions))
    if missing:
        raise SystemExit(f"bundle: {target.name}: no wheel for {', '.join(missing)}")
    return versions


def write_requirements(wheels: Path, path: Path) -> None:
    lines = [
        "# Generated by scripts/bundle.py: install with\n"
        "#   pip install --no-index --find-links wheels/ --require-hashes -r requirements.txt\n"
    ]
    for whl in sorted(wheels.glob("*.whl")):
        name, version = wheel_name_version(whl)
        lines.append(f"{name}=={version} --hash=sha256:{sha256_file(whl)}\n")
    path.write_text("".join(lines))


# ---- Debian packages ------------------------------------------------------------------------------


def apt_options(root: Path, target: Target) -> list[str]:
    return [
        f"-oAPT::Architecture={target.deb_arch}",
        f"-oAPT::Architectures={target.deb_arch}",
        f"-oDir::Etc::SourceList={root / 'sources.list'}",
        f"-oDir::Etc::SourceParts={root / 'empty.d'}",
        f"-oDir::Etc::Preferences={root / 'preferences'}",
        f"-oDir::Etc::PreferencesParts={root / 'empty.d'}",
        f"-oDir::State={root / 'state'}",
        f"-oDir::State::status={root / 'status'}",
        f"-oDir::Cache={root / 'cache'}",
        "-oDebug::NoLocking=1",
        "-oAPT::Install-Recommends=false",
        "-oAcquire::Languages=none",
    ]


def download_debs(target: Target, dest: Path, cache: Path) -> dict:
    """The packages and their whole dependency closure (against an empty system, so nothing the
    device might lack is left out), for the target's architecture and Debian release."""
    root = cache / f"apt-{target.suite}-{target.deb_arch}"
    (root / "state" / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (root / "empty.d").mkdir(exist_ok=True)
    (root / "status").write_text("")  # nothing installed: resolve everything
    (root / "preferences").write_text("")
    suites = [(DEBIAN_MIRROR, target.suite), (DEBIAN_MIRROR, f"{target.suite}-updates")]
    suites.append((SECURITY_MIRROR, f"{target.suite}-security"))
    (root / "sources.list").write_text(
        "".join(f"deb [signed-by={KEYRING}] {mirror} {suite} main\n" for mirror, suite in suites)
    )
    opts = apt_options(root, target)
    run(["apt-get", *opts, "-qq", "update"])
    # Which files: --print-uris against an empty archive folder lists the whole closure.
    with tempfile.TemporaryDirectory() as empty:
        (Path(empty) / "partial").mkdir()
        uris = ["apt-get", *opts, "-qq", "-y", "--print-uris", f"-oDir::Cache::archives={empty}"]
        listing = subprocess.run(
            [*uris, "install", *DEB_PACKAGES],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    files = [line.split()[1] for line in listing.splitlines() if line.startswith("'")]
    if not files:
        raise SystemExit(f"bundle: {target.name}: apt resolved no packages:\n{listing}")
    # Downloaded into the cache (kept between builds: apt fetches only what it lacks), then linked.
    run(
        ["apt-get", *opts, "-qq", "-y", "--download-only", "install", *DEB_PACKAGES],
        stdout=subprocess.DEVNULL,
    )
    dest.mkdir(parents=True)
    archives = root / "cache" / "archives"
    for name in files:
        try:
            os.link(archives / name, dest / name)
        except OSError:
            shutil.copy2(archives / name, dest / name)
    return write_apt_index(dest)


def write_apt_index(debs: Path) -> dict:
    """A flat repository (`deb [trusted=yes] file:/DIR ./`): Packages with hashes, and Release."""
    entries, versions = [], {}
    for deb in sorted(debs.glob("*.deb")):
        control = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True)
        fields = control.stdout.rstrip("\n")
        package = version = ""
        for line in fields.splitlines():
            if line.startswith("Package: "):
                package = line.split(": ", 1)[1]
            elif line.startswith("Version: "):
                version = line.split(": ", 1)[1]
        versions[package] = version
        entries.append(
            f"{fields}\nFilename: ./{deb.name}\nSize: {deb.stat().st_size}\nSHA256: {sha256_file(deb)}\n"
        )
    packages = debs / "Packages"
    packages.write_text("\n".join(entries))
    (debs / "Release").write_text(
        "Origin: edge-ocr bundle\nLabel: edge-ocr bundle\nSuite: edge-ocr\nCodename: edge-ocr\n"
        f"Date: {dt.datetime.now(dt.timezone.utc).strftime('%a, %d %b %Y %H:%M:%S UTC')}\n"
        f"SHA256:\n {sha256_file(packages)} {packages.stat().st_size} Packages\n"
    )
    return versions


# ---- model packs ------------------------------------------------------------------------------------


def build_model_pack(models_dir: Path, out: Path, version: str | None = None) -> dict:
    """models-VERSION.tar: manifest.json, NOTICE and every file the manifest lists. VERSION is the
    first 12 hex digits of the manifest's sha256 (the manifest holds every file's sha256)."""
    manifest_path = models_dir / "manifest.json"
    data = json.loads(manifest_path.read_text())
    version = version or sha256_file(manifest_path)[:12]
    names = {"manifest.json"} | ({"NOTICE"} if (models_dir / "NOTICE").exists() else set())
    for pack in data["packs"].values():
        names.add(pack["dict"]["file"])
        names.update(model["file"] for model in pack["models"])
    for name in sorted(names):
        if not (models_dir / name).is_file():
            raise SystemExit(f"bundle: model file {models_dir / name} named by the manifest is missing")
    out.mkdir(parents=True, exist_ok=True)
    tar_path = out / f"models-{version}.tar"
    tmp = tar_path.with_suffix(".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(names):
            info = tar.gettarinfo(str(models_dir / name), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = int(source_date_epoch())
            info.mode = 0o644
            with (models_dir / name).open("rb") as fh:
                tar.addfile(info, fh)
    tmp.replace(tar_path)
    entry = {
        "version": version,
        "file": tar_path.name,
        "sha256": sha256_file(tar_path),
        "size": tar_path.stat().st_size,
        "manifest_sha256": sha256_file(manifest_path),
        "packs": sorted(data["packs"]),
        "default_pack": data.get("default_pack"),
    }
    index_path = out / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"packs": {}}
    index["packs"][version] = entry
    index["default"] = version
    index_path.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    log(f"model pack {version}: {tar_path} ({entry['size'] / 1e6:.1f} MB)")
    return entry


# ---- the bundle ---------------------------------------------------------------------------------------


def file_entries(folder: Path) -> list[dict]:
    return [
        {"path": str(p.relative_to(folder)), "sha256": sha256_file(p), "size": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    ]


def build_target(
    target: Target, wheel: Path, out: Path, work: Path, cache: Path, debs: bool, pack: dict
) -> dict:
    final = out / target.name
    staging = out / f".{target.name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log(f"{target.name}: wheels for {target.describes}")
    versions = download_wheels(target, wheel, staging / "wheels", work)
    write_requirements(staging / "wheels", staging / "requirements.txt")
    deb_versions: dict = {}
    deb_note = target.deb_note
    if debs and target.deb_arch:
        wanted = " ".join(DEB_PACKAGES)
        log(f"{target.name}: Debian {target.suite} {target.deb_arch} packages: {wanted} + dependencies")
        deb_versions = download_debs(target, staging / "debs", cache)
    elif not debs:
        deb_note = "not bundled (--no-debs)"
    requirements_sha = sha256_file(staging / "requirements.txt")
    files = file_entries(staging)
    manifest = {
        "schema": 1,
        "target": target.name,
        "arch": target.arch,
        "python": target.python,
        "describes": target.describes,
        "edge_ocr_version": versions["edge-ocr"],
        # The release directory on the device: the version plus the hash of the pinned set, so that a
        # rebuilt wheel (or any changed dependency) is a new release even under the same version.
        "release": f"{versions['edge-ocr']}-{requirements_sha[:10]}",
        "constraints": target.constraints,
        "wheels": dict(sorted(versions.items())),
        "debs": dict(sorted(deb_versions.items())),
        "deb_suite": target.suite if deb_versions else "",
        "deb_note": deb_note,
        "models_pack": pack["version"],
        "built": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "files": files,
        "bytes": sum(f["size"] for f in files),
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    wheel_mb = sum(f["size"] for f in files if f["path"].startswith("wheels/")) / 1e6
    deb_mb = sum(f["size"] for f in files if f["path"].startswith("debs/")) / 1e6
    log(
        f"{target.name}: release {manifest['release']}: {len(versions)} wheels {wheel_mb:.1f} MB, "
        f"{len(deb_versions)} debs {deb_mb:.1f} MB -> {final}"
    )
    return manifest


def parse_targets(text: str) -> list[Target]:
    chosen = []
    for name in text.replace(",", " ").split():
        if name in TARGETS:
            chosen.append(TARGETS[name])
        elif name.split("-")[0] in UNSUPPORTED:
            raise SystemExit(f"bundle: {name}: {UNSUPPORTED[name.split('-')[0]]}")
        else:
            raise SystemExit(f"bundle: unknown target {name!r}; known: {', '.join(TARGETS)}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--targets", default=" ".join(TARGETS), help="space- or comma-separated (default: all)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "bundle")
    parser.add_argument("--cache", type=Path, default=Path("/var/cache/edge-ocr-bundle"), help="apt lists")
    parser.add_argument("--check-only", action="store_true", help="resolve each target (pip --dry-run) only")
    parser.add_argument("--no-debs", action="store_true", help="leave the Debian packages out")
    parser.add_argument("--models-only", action="store_true", help="build only the model pack")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--models-version", help="the pack's version (default: from its manifest's sha256)")
    parser.add_argument("--wheel", type=Path, help="use this edge_ocr wheel instead of building one")
    args = parser.parse_args(argv)
    targets = parse_targets(args.targets)
    if args.models_only:
        build_model_pack(args.models_dir, args.out / "models", args.models_version)
        return 0
    with tempfile.TemporaryDirectory(prefix="edge-ocr-bundle-") as tmp:
        work = Path(tmp)
        wheel = args.wheel or build_project_wheel(work)
        log(f"project wheel {wheel.name} ({wheel.stat().st_size / 1e6:.1f} MB)")
        if args.check_only:
            for target in targets:
                versions = check_target(target, wheel, work)
                shown = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
                log(f"{target.name} ({target.describes}): resolves: {shown}")
            log(f"every target resolves: {', '.join(t.name for t in targets)}")
            return 0
        pack = build_model_pack(args.models_dir, args.out / "models", args.models_version)
        sizes = {}
        for target in targets:
            manifest = build_target(target, wheel, args.out, work, args.cache, not args.no_debs, pack)
            sizes[target.name] = manifest["bytes"]
    for name, size in sizes.items():
        log(f"{name}: {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
