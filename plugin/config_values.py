"""Checks of single setting values: each turns raw text (or a TOML value) into a typed value or a ConfigError.

Kept apart from plugin/config.py, which decides where settings come from; these
only decide whether one value is acceptable, and say why not, naming the setting.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*", re.IGNORECASE)
MASK = "***"
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|auth|credential", re.IGNORECASE)


def mask_url(url: str) -> str:
    """The URL with its password and any secret-looking query values replaced by ***, for logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if parts.password is not None:
        userinfo, _, host = parts.netloc.rpartition("@")
        url = url.replace(parts.netloc, f"{userinfo.partition(':')[0]}:{MASK}@{host}", 1)
    if parts.query:
        params = (_mask_param(param) for param in parts.query.split("&"))
        url = url.replace("?" + parts.query, "?" + "&".join(params), 1)
    return url


def _mask_param(param: str) -> str:
    """One name=value query parameter, its value masked when the name suggests a credential."""
    name, sep, _ = param.partition("=")
    return f"{name}={MASK}" if sep and _SECRET_PARAM.search(name) else param


class ConfigError(ValueError):
    """A setting is malformed or in the wrong place; the message names it so the operator knows what to fix."""


def text(value: object, label: str) -> str:
    """A string setting, stripped."""
    if not isinstance(value, str):
        raise ConfigError(f"{label}: must be a string, got {type(value).__name__}")
    return value.strip()


def data_dir(value: object, label: str) -> Path:
    """DATA_DIR as an absolute path, created if missing; it must end up a writable directory."""
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{label}: must be a path, got {type(value).__name__}")
    path = Path(value).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{label}: {path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{label}: cannot create directory {path}: {exc.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{label}: directory {path} is not writable")
    return path


def split(url: str, label: str) -> SplitResult:
    """The parts of a URL whose port, if any, is a valid number."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise ConfigError(f"{label}: not a valid URL: {mask_url(url)!r}") from None
    return parts


def http_url(value: object, label: str) -> str:
    """An absolute http(s) URL."""
    url = text(value, label)
    parts = split(url, label)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{label}: must be an http(s) URL such as https://host/path, got {mask_url(url)!r}")
    return url


def public_url(value: object, label: str) -> str:
    """The service's own base URL: http(s), no query string, no trailing slash (paths get appended to it)."""
    url = http_url(value, label)
    if "?" in url or "#" in url:
        raise ConfigError(f"{label}: must not have a query string or fragment, got {mask_url(url)!r}")
    return url.rstrip("/")


def database_url(value: object, label: str) -> str:
    """A database URL (scheme://...); the value is never echoed because it may hold a password."""
    url = text(value, label)
    scheme, sep, _ = url.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        raise ConfigError(f"{label}: must be a URL such as postgresql://user:password@host/trustdesk")
    return url


def redis_url(value: object, label: str) -> str:
    """A Redis URL; the value is never echoed because it may hold a password."""
    url = text(value, label)
    if not url.lower().startswith(REDIS_SCHEMES):
        raise ConfigError(f"{label}: must start with redis://, rediss:// or unix://")
    return url


def item_list(value: object, label: str) -> tuple[str, ...]:
    """A list setting's items, without duplicates: a comma-separated string (environment) or an array of strings (TOML)."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        items = list(value)
    else:
        raise ConfigError(f"{label}: must be a comma-separated string or a list of strings")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


def origin(text: str, label: str) -> str:
    """One CORS origin as browsers send it in the Origin header: scheme://host[:port], lower-case."""
    text = text.removesuffix("/")
    parts = split(text, label)
    anything_else = (parts.path, parts.query, parts.fragment, "@" in parts.netloc, "?" in text, "#" in text)
    if not _SCHEME.fullmatch(parts.scheme) or not parts.hostname or any(anything_else):
        raise ConfigError(f"{label}: {text!r} is not an origin like https://acme.zendesk.com (scheme://host[:port])")
    return f"{parts.scheme}://{parts.netloc}".lower()


def origins(value: object, label: str) -> tuple[str, ...]:
    """CORS origins, checked and without duplicates."""
    return tuple(dict.fromkeys(origin(item, label) for item in item_list(value, label)))


def positive_int(value: object, label: str) -> int:
    """A whole number above zero."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise ConfigError(f"{label}: must be a positive integer, got {value!r}")
    return int(text)


def hops(value: object, label: str) -> int:
    """How many reverse proxies stand in front of the service (0 to 5): their X-Forwarded-* are trusted."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and int(text) <= 5):
        raise ConfigError(f"{label}: must be a whole number from 0 to 5, got {value!r}")
    return int(text)


def positive_float(value: object, label: str) -> float:
    """A finite number above zero (seconds)."""
    try:
        number = math.nan if isinstance(value, bool) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{label}: must be a positive number of seconds, got {value!r}")
    return number


def flag(value: object, label: str) -> bool:
    """A yes/no setting: true/false, yes/no, on/off, 1/0 (or a TOML boolean)."""
    text = str(value).strip().lower()
    if isinstance(value, bool) or text in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        return value if isinstance(value, bool) else text in ("true", "yes", "on", "1")
    raise ConfigError(f"{label}: must be true or false, got {value!r}")


def port(value: object, label: str) -> int:
    """A TCP port number."""
    if (port := positive_int(value, label)) > 65535:
        raise ConfigError(f"{label}: must be a port from 1 to 65535, got {value!r}")
    return port


def emails(value: object, label: str) -> tuple[str, ...]:
    """A list of email addresses (name@host)."""
    items = item_list(value, label)
    for item in items:
        if not re.fullmatch(r"[^@\s,<>]+@[^@\s,<>]+", item):
            raise ConfigError(f"{label}: {item!r} is not an email address")
    return items


def email(value: object, label: str) -> str:
    """One email address."""
    items = emails(value, label)
    if len(items) != 1:
        raise ConfigError(f"{label}: must be one email address, got {value!r}")
    return items[0]


def log_level(value: object, label: str) -> str:
    """One of the log levels the service uses, in upper case."""
    level = text(value, label).upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{label}: must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level
