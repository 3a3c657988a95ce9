"""The service's settings: TRUSTDESK_* environment variables over an optional TOML file, checked once at start-up.

Secrets come only from the environment (or from `overrides`, in tests): a file
is copied, committed and backed up in ways an environment is not, so a secret
found in it is refused rather than quietly used. Unknown keys in the file are
refused too, because a misspelt setting that is silently ignored is worse than
a service that will not start. Every other TRUSTDESK_* variable lands in
`Settings.extra` for the integrations to read.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import secrets
import stat
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import SplitResult, urlsplit

PREFIX = "TRUSTDESK_"
CONFIG_VAR = "TRUSTDESK_CONFIG"
MASK = "***"
MAX_CONTENT_LENGTH = 1024 * 1024
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# A Slack-style incoming webhook URL is itself the credential (its path is the secret).
SECRET_NAMES = frozenset({"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALERT_WEBHOOK_URL"})
SECRET_SUFFIXES = ("_SECRET", "_API_TOKEN", "_API_KEY", "_PASSWORD", "_CLIENT_SECRET")
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|auth|credential", re.IGNORECASE)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*", re.IGNORECASE)


class ConfigError(ValueError):
    """A setting is malformed or in the wrong place; the message names it so the operator knows what to fix."""


def is_secret(name: str) -> bool:
    """Whether a setting (any case, prefix optional) holds a credential, so it never comes from a file or goes to a log."""
    key = name.upper().removeprefix(PREFIX)
    return key in SECRET_NAMES or key.endswith(SECRET_SUFFIXES)


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


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything the service is configured with, checked and complete; build it with load_settings()."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    model_path: str | None
    secret_key: str
    public_url: str | None
    cors_origins: tuple[str, ...]
    retention_days: int
    log_level: str
    generic_webhook_secret: str | None
    generic_callback_url: str | None
    partners: tuple[str, ...]
    llm_url: str | None
    llm_model: str | None
    llm_api_key: str | None
    llm_timeout: float
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_from: str | None
    smtp_starttls: bool
    alert_emails: tuple[str, ...]
    alert_webhook_url: str | None
    training_data_dir: str | None
    extra: Mapping[str, str] = field(hash=False)

    def __post_init__(self) -> None:
        """Freeze extra too, so nothing can change the settings behind the service's back."""
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def __repr__(self) -> str:
        """A repr that is safe in tracebacks and logs."""
        return f"Settings({self.describe()!r})"

    def as_flask_config(self) -> dict[str, object]:
        """The keys to load into app.config."""
        return {"TRUSTDESK_SETTINGS": self, "SECRET_KEY": self.secret_key, "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH}

    def describe(self) -> dict[str, object]:
        """Every setting as JSON-ready values for logs and /readyz, with secrets and URL passwords masked."""
        named = {f.name: _shown(f.name, getattr(self, f.name)) for f in fields(self) if f.name != "extra"}
        return {**named, "extra": {name: _shown(name, value) for name, value in self.extra.items()}}


def _shown(name: str, value: object) -> object:
    """One value as describe() shows it."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if is_secret(name):
        # DATABASE_URL and REDIS_URL are worth seeing (which host?) once their password is gone.
        return mask_url(value) if name.upper().endswith(("DATABASE_URL", "REDIS_URL")) else MASK
    return mask_url(value) if isinstance(value, str) and "://" in value else value


def load_settings(environ: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None) -> Settings:
    """Read and check the settings: overrides win over the environment, which wins over the TOML file."""
    environ = os.environ if environ is None else environ
    env_named, env_extra = _from_environ(environ)
    over_named, over_extra = _from_overrides(overrides or {})
    raw = {**_from_file(environ.get(CONFIG_VAR, "")), **env_named, **over_named}
    values = {name: _parsed(raw, name) for name in _PARSERS}
    if values["llm_url"] and not values["llm_model"]:
        raise ConfigError(f"{PREFIX}LLM_MODEL: must name the model when {PREFIX}LLM_URL is set")
    data_dir = values["data_dir"]
    values["database_url"] = values["database_url"] or f"sqlite:///{data_dir}/trustdesk.db"
    values["secret_key"] = values["secret_key"] or _stored_secret_key(data_dir)
    return Settings(**values, extra={**env_extra, **over_extra})


def _parsed(raw: Mapping[str, tuple[object, str]], name: str) -> Any:
    """One named setting, checked, or its default when it is unset (None or blank)."""
    value, label = raw.get(name, (None, PREFIX + name.upper()))
    if value is None or (isinstance(value, str) and not value.strip()):
        value = _DEFAULTS.get(name)
    return None if value is None else _PARSERS[name](value, label)


def _from_environ(environ: Mapping[str, str]) -> tuple[dict[str, tuple[object, str]], dict[str, str]]:
    """The named settings (blank ones count as unset, as in docker-compose) and every other TRUSTDESK_* variable."""
    named, extra = {}, {}
    for key, value in environ.items():
        if not key.startswith(PREFIX) or key == CONFIG_VAR:
            continue
        name = key.removeprefix(PREFIX).lower()
        if name not in _PARSERS:
            extra[key] = value
        elif value.strip():
            named[name] = (value, key)
    return named, extra


def _from_overrides(overrides: Mapping[str, object]) -> tuple[dict[str, tuple[object, str]], dict[str, str]]:
    """Named settings (by field name or variable name) and extra TRUSTDESK_* values; anything else is a typo."""
    named, extra = {}, {}
    for key, value in overrides.items():
        name = key.upper().removeprefix(PREFIX).lower()
        if name in _PARSERS:
            named[name] = (value, PREFIX + name.upper())
        elif not key.startswith(PREFIX) or key == CONFIG_VAR:
            raise ConfigError(f"overrides: unknown setting {key!r}{_suggestion(key)}")
        elif not isinstance(value, str):
            raise ConfigError(f"{key}: must be a string, got {type(value).__name__}")
        else:
            extra[key] = value
    return named, extra


def _from_file(path_text: str) -> dict[str, tuple[object, str]]:
    """The named settings in the TOML file named by TRUSTDESK_CONFIG, refusing secrets and unknown keys."""
    if not path_text.strip():
        return {}
    path = Path(path_text.strip()).expanduser()
    named = {}
    for key, value in _read_toml(path).items():
        if is_secret(key):
            variable = PREFIX + key.upper().removeprefix(PREFIX)
            raise ConfigError(f"{path}: {key}: secrets are read from the environment only: set {variable}")
        if key not in _PARSERS:
            raise ConfigError(f"{path}: unknown key {key!r}{_suggestion(key)}")
        named[key] = (value, f"{path}: {key}")
    return named


def _read_toml(path: Path) -> dict[str, Any]:
    """The settings table of a TOML file: top-level keys and those under [trustdesk]."""
    try:
        with path.open("rb") as handle:
            doc = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{CONFIG_VAR}: cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{CONFIG_VAR}: {path} is not valid TOML: {exc}") from None
    table = doc.pop("trustdesk", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: trustdesk: must be a table ([trustdesk]), not a value")
    repeated = sorted(doc.keys() & table.keys())
    if repeated:
        raise ConfigError(f"{path}: {repeated[0]}: set both at the top level and under [trustdesk]")
    return {**doc, **table}


def _suggestion(key: str) -> str:
    """A hint for an unknown key: the closest known one, or the list of keys a file may hold."""
    close = difflib.get_close_matches(key.lower().removeprefix("trustdesk_"), list(_PARSERS), n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return " (known: " + ", ".join(name for name in _PARSERS if not is_secret(name)) + ")"


def _text(value: object, label: str) -> str:
    """A string setting, stripped."""
    if not isinstance(value, str):
        raise ConfigError(f"{label}: must be a string, got {type(value).__name__}")
    return value.strip()


def _data_dir(value: object, label: str) -> Path:
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


def _split(url: str, label: str) -> SplitResult:
    """The parts of a URL whose port, if any, is a valid number."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise ConfigError(f"{label}: not a valid URL: {mask_url(url)!r}") from None
    return parts


def _http_url(value: object, label: str) -> str:
    """An absolute http(s) URL."""
    url = _text(value, label)
    parts = _split(url, label)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{label}: must be an http(s) URL such as https://host/path, got {mask_url(url)!r}")
    return url


def _public_url(value: object, label: str) -> str:
    """The service's own base URL: http(s), no query string, no trailing slash (paths get appended to it)."""
    url = _http_url(value, label)
    if "?" in url or "#" in url:
        raise ConfigError(f"{label}: must not have a query string or fragment, got {mask_url(url)!r}")
    return url.rstrip("/")


def _database_url(value: object, label: str) -> str:
    """A database URL (scheme://...); the value is never echoed because it may hold a password."""
    url = _text(value, label)
    scheme, sep, _ = url.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        raise ConfigError(f"{label}: must be a URL such as postgresql://user:password@host/trustdesk")
    return url


def _redis_url(value: object, label: str) -> str:
    """A Redis URL; the value is never echoed because it may hold a password."""
    url = _text(value, label)
    if not url.lower().startswith(REDIS_SCHEMES):
        raise ConfigError(f"{label}: must start with redis://, rediss:// or unix://")
    return url


def _items(value: object, label: str) -> tuple[str, ...]:
    """A list setting's items, without duplicates: a comma-separated string (environment) or an array of strings (TOML)."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        items = list(value)
    else:
        raise ConfigError(f"{label}: must be a comma-separated string or a list of strings")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))


def _origin(text: str, label: str) -> str:
    """One CORS origin as browsers send it in the Origin header: scheme://host[:port], lower-case."""
    text = text.removesuffix("/")
    parts = _split(text, label)
    anything_else = (parts.path, parts.query, parts.fragment, "@" in parts.netloc, "?" in text, "#" in text)
    if not _SCHEME.fullmatch(parts.scheme) or not parts.hostname or any(anything_else):
        raise ConfigError(f"{label}: {text!r} is not an origin like https://acme.zendesk.com (scheme://host[:port])")
    return f"{parts.scheme}://{parts.netloc}".lower()


def _origins(value: object, label: str) -> tuple[str, ...]:
    """CORS origins, checked and without duplicates."""
    return tuple(dict.fromkeys(_origin(item, label) for item in _items(value, label)))


def _positive_int(value: object, label: str) -> int:
    """A whole number above zero."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise ConfigError(f"{label}: must be a positive integer, got {value!r}")
    return int(text)


def _positive_float(value: object, label: str) -> float:
    """A finite number above zero (seconds)."""
    try:
        number = math.nan if isinstance(value, bool) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{label}: must be a positive number of seconds, got {value!r}")
    return number


def _flag(value: object, label: str) -> bool:
    """A yes/no setting: true/false, yes/no, on/off, 1/0 (or a TOML boolean)."""
    text = str(value).strip().lower()
    if isinstance(value, bool) or text in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        return value if isinstance(value, bool) else text in ("true", "yes", "on", "1")
    raise ConfigError(f"{label}: must be true or false, got {value!r}")


def _port(value: object, label: str) -> int:
    """A TCP port number."""
    if (port := _positive_int(value, label)) > 65535:
        raise ConfigError(f"{label}: must be a port from 1 to 65535, got {value!r}")
    return port


def _emails(value: object, label: str) -> tuple[str, ...]:
    """A list of email addresses (name@host)."""
    items = _items(value, label)
    for item in items:
        if not re.fullmatch(r"[^@\s,<>]+@[^@\s,<>]+", item):
            raise ConfigError(f"{label}: {item!r} is not an email address")
    return items


def _email(value: object, label: str) -> str:
    """One email address."""
    items = _emails(value, label)
    if len(items) != 1:
        raise ConfigError(f"{label}: must be one email address, got {value!r}")
    return items[0]


def _log_level(value: object, label: str) -> str:
    """One of the log levels the service uses, in upper case."""
    level = _text(value, label).upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{label}: must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


def _stored_secret_key(data_dir: Path) -> str:
    """The key kept in DATA_DIR/secret_key, generated on the first start so sessions survive restarts."""
    path = data_dir / "secret_key"
    if not path.exists():
        _store_secret(path, secrets.token_urlsafe(48))
    return _read_secret(path)


def _store_secret(path: Path, key: str) -> None:
    """Write a new key readable by its owner only, atomically: when workers race, the first one's key wins."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # mkstemp creates it with mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"{PREFIX}SECRET_KEY: cannot store a generated key in {path} ({exc.strerror}); set it") from None
    finally:
        os.unlink(tmp)


def _read_secret(path: Path) -> str:
    """A stored key, refused if others may read it or it is empty."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        key = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{PREFIX}SECRET_KEY: cannot read {path}: {exc}") from None
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(f"{PREFIX}SECRET_KEY: {path} is open to other users (mode {mode:o}); run chmod 600 {path}")
    if not key:
        raise ConfigError(f"{PREFIX}SECRET_KEY: {path} is empty; delete it to generate a new key")
    return key


# How each named setting is checked, in the order of Settings' fields; DATABASE_URL and
# SECRET_KEY have defaults that depend on DATA_DIR, so load_settings fills them in.
_PARSERS: dict[str, Callable[[object, str], Any]] = {
    "data_dir": _data_dir,
    "database_url": _database_url,
    "redis_url": _redis_url,
    "model_path": _text,
    "secret_key": _text,
    "public_url": _public_url,
    "cors_origins": _origins,
    "retention_days": _positive_int,
    "log_level": _log_level,
    "generic_webhook_secret": _text,
    "generic_callback_url": _http_url,
    "partners": _items,
    "llm_url": _http_url,
    "llm_model": _text,
    "llm_api_key": _text,
    "llm_timeout": _positive_float,
    "smtp_host": _text,
    "smtp_port": _port,
    "smtp_user": _text,
    "smtp_password": _text,
    "smtp_from": _email,
    "smtp_starttls": _flag,
    "alert_emails": _emails,
    "alert_webhook_url": _http_url,
    "training_data_dir": _text,
}
_DEFAULTS: dict[str, object] = {
    "data_dir": "./var", "cors_origins": (), "retention_days": 365, "log_level": "INFO", "partners": (), "llm_timeout": 8.0,
    "smtp_port": 587, "smtp_starttls": True, "alert_emails": (),
}
