"""The design system's files, copied from the npm packages and served by the product.

``ASSETS`` lists what the pages need from ``@gouvfr/dsfr`` and ``@gouvfr/dsfr-chart`` (versions
pinned in ``package.json``). ``python -m api.pages.assets`` (``make assets``) copies them from
``node_modules/`` into ``api/static/``, where they are committed: a fresh clone's ``make run``
needs no npm. The icons are the ones ``ICONS`` names (the whole set is 4 MB): their CSS rules are
cut out of the DSFR's icon utility into ``icons.css``.

At run time ``/static/...`` serves only the files found under ``api/static/`` at start-up:
``/static/dsfr/<version>/...`` and ``/static/dsfr-chart/<version>/...`` (the version in the
path, so the files can be cached for a year) and ``/static/app/<digest>/<name>`` for the
product's own files (the digest of the content in the path).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from accelerator.shared.text import t

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "api" / "static"
NODE_MODULES = ROOT / "node_modules"

#: What the DSFR's own files need next to ``dsfr.min.css`` (relative URLs), and the scripts.
DSFR_FILES = (
    "dsfr.min.css",
    "dsfr.module.min.js",
    "dsfr.nomodule.min.js",
    "fonts/",
    "favicon/",
)
CHART_FILES = ("DSFRChart.js", "DSFRChart.css")

#: The icons the templates use (``fr-icon-<name>``): their rules go to ``icons.css``.
ICONS = (
    "account-circle-line",
    "logout-box-r-line",
    "mail-line",
    "lock-line",
    "time-line",
    "folder-2-line",
    "arrow-right-line",
    "team-line",
    "building-line",
    "alarm-warning-line",
    "home-4-line",
)

MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}

#: A year: every URL names its version or its content's digest.
LONG_CACHE = "public, max-age=31536000, immutable"


def versions() -> dict[str, str]:
    """The pinned versions of the two packages (``package.json``)."""
    declared = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    return {"dsfr": declared["@gouvfr/dsfr"], "dsfr-chart": declared["@gouvfr/dsfr-chart"]}


@dataclass(frozen=True)
class Asset:
    """One servable file."""

    path: Path
    media_type: str


def catalogue() -> dict[str, Asset]:
    """Every servable file by its URL path under ``/static/`` (read once at start-up)."""
    pinned = versions()
    found: dict[str, Asset] = {}
    for package, version in pinned.items():
        base = STATIC / package
        for file in sorted(base.rglob("*")):
            if file.is_file() and file.suffix in MEDIA_TYPES:
                url = f"{package}/{version}/{file.relative_to(base).as_posix()}"
                found[url] = Asset(file, MEDIA_TYPES[file.suffix])
    for file in sorted((STATIC / "app").glob("*")):
        if file.is_file() and file.suffix in MEDIA_TYPES:
            found[f"app/{digest(file)}/{file.name}"] = Asset(file, MEDIA_TYPES[file.suffix])
    return found


def digest(file: Path) -> str:
    """The first 12 hex digits of the file's SHA-256."""
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


class Urls:
    """URLs of the assets for templates: ``urls.dsfr("dsfr.min.css")``, ``urls.app("x.css")``."""

    def __init__(self, assets: dict[str, Asset], root: str = "") -> None:
        self.pinned = versions()
        self.root = root.rstrip("/")
        self._app = {url.rsplit("/", 1)[1]: url for url in assets if url.startswith("app/")}
        self._known = set(assets)

    def dsfr(self, name: str) -> str:
        """A file of the DSFR."""
        return self._url(f"dsfr/{self.pinned['dsfr']}/{name}")

    def chart(self, name: str) -> str:
        """A file of the DSFR's chart library."""
        return self._url(f"dsfr-chart/{self.pinned['dsfr-chart']}/{name}")

    def app(self, name: str) -> str:
        """One of the product's own files."""
        return self._url(self._app[name])

    def _url(self, path: str) -> str:
        if path not in self._known:
            raise KeyError(f"Asset not served: {path}")
        return f"{self.root}/static/{path}"


# --- The build (``make assets``): copy from node_modules, cut the icons out ---------------


_ICON_RULE = re.compile(r"\.fr-icon-([a-z0-9-]+):after,\.fr-icon-\1:before\{[^}]*\}")
_ICON_URL = re.compile(r"url\(\.\./\.\./icons/([a-z0-9/_-]+\.svg)\)")


def build(node_modules: Path = NODE_MODULES, static: Path = STATIC) -> list[Path]:
    """Copy the listed files into ``static`` (replacing what was there); the files written."""
    dsfr_dist = node_modules / "@gouvfr" / "dsfr" / "dist"
    chart_dist = node_modules / "@gouvfr" / "dsfr-chart" / "dist" / "DSFRChart"
    written: list[Path] = []
    for package, source, names in (
        ("dsfr", dsfr_dist, DSFR_FILES),
        ("dsfr-chart", chart_dist, CHART_FILES),
    ):
        target = static / package
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in names:
            if name.endswith("/"):
                shutil.copytree(source / name, target / name)
                written += sorted(p for p in (target / name).rglob("*") if p.is_file())
            else:
                shutil.copy2(source / name, target / name)
                written.append(target / name)
    written += _cut_icons(dsfr_dist, static / "dsfr")
    return written


def _cut_icons(dist: Path, target: Path) -> list[Path]:
    """``icons.css`` with the rules of ``ICONS``, and the SVGs they and the CSS name."""
    utility = (dist / "utility" / "icons" / "icons.main.min.css").read_text(encoding="utf-8")
    rules = {m.group(1): m.group(0) for m in _ICON_RULE.finditer(utility)}
    missing = [name for name in ICONS if name not in rules]
    if missing:
        raise SystemExit(f"Icons not in the DSFR: {', '.join(missing)}")
    chosen = [rules[name] for name in ICONS]
    header = utility.split("*/", 1)[0] + "*/\n"
    css = header + "\n".join(_ICON_URL.sub(r"url(icons/\1)", rule) for rule in chosen) + "\n"
    (target / "icons.css").write_text(css, encoding="utf-8")
    core = (target / "dsfr.min.css").read_text(encoding="utf-8")
    svgs = set(re.findall(r"url\(icons/([a-z0-9/_-]+\.svg)\)", core + css))
    written = [target / "icons.css"]
    for svg in sorted(svgs):
        destination = target / "icons" / svg
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(dist / "icons" / svg, destination)
        written.append(destination)
    return written


if __name__ == "__main__":  # pragma: no cover - make assets
    files = build()
    size = sum(f.stat().st_size for f in files)
    sys.stdout.write(
        t("pages.assets.built", count=len(files), static=STATIC, kilobytes=size // 1024)
    )
