"""Where a study lives, named safely: storage URLs with their secrets masked, and the folders
beside a study where its saved models, reports and optuna-dashboard figures go."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SECRET_KEYS = {"password", "passwd", "pwd", "secret", "token"}


def redact_url(url: str) -> str:
    """``url`` with its password masked as ``***``, in the netloc and in query parameters
    (SQLAlchemy's own masking misses ``?password=``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable storage URL>"
    if "@" not in parts.netloc and not parts.query:
        return url  # nothing to hide; urlunsplit would also turn sqlite://// into sqlite://
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in pairs], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL, or ``None`` for other storages."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def first_line_redacted(text: str, url: str) -> str:
    """The first line of an error text, with ``url`` in it masked by :func:`redact_url`."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.replace(url, redact_url(url))


def artifacts_dir(url: str) -> Path:
    """Where saved models go: beside a SQLite file, else ``./studies``."""
    db_file = sqlite_path(url)
    return db_file.parent if db_file is not None else Path("studies")


def safe_file_stem(name: str) -> str:
    """A file name for a study name that cannot leave its folder (``../``, slashes, odd
    characters); names changed by this get a short hash so two studies never collide."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-") or "study"
    if stem != name:
        stem += "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return stem[:120]


def default_artifact_dir(storage_url: str) -> Path:
    """Where the figures for optuna-dashboard go by default: ``artifacts`` beside a SQLite
    file, else ``./studies/artifacts``."""
    return artifacts_dir(storage_url) / "artifacts"
