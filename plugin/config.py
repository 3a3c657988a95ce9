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
import os
import secrets
import stat
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import config_values as values
from .config_values import MASK, ConfigError, mask_url  # noqa: F401 - part of this module's interface

PREFIX = "TRUSTDESK_"
CONFIG_VAR = "TRUSTDESK_CONFIG"
MAX_CONTENT_LENGTH = 1024 * 1024
# A Slack-style incoming webhook URL is itself the credential (its path is the secret).
SECRET_NAMES = frozenset({"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALERT_WEBHOOK_URL"})
SECRET_SUFFIXES = ("_SECRET", "_API_TOKEN", "_API_KEY", "_PASSWORD", "_CLIENT_SECRET")



def is_secret(name: str) -> bool:
    """Whether a setting (any case, prefix optional) holds a credential, so it never comes from a file or goes to a log."""
    key = name.upper().removeprefix(PREFIX)
    return key in SECRET_NAMES or key.endswith(SECRET_SUFFIXES)


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
    proxy_hops: int
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
    "data_dir": values.data_dir,
    "database_url": values.database_url,
    "redis_url": values.redis_url,
    "model_path": values.text,
    "secret_key": values.text,
    "public_url": values.public_url,
    "cors_origins": values.origins,
    "retention_days": values.positive_int,
    "log_level": values.log_level,
    "generic_webhook_secret": values.text,
    "generic_callback_url": values.http_url,
    "partners": values.item_list,
    "llm_url": values.http_url,
    "llm_model": values.text,
    "llm_api_key": values.text,
    "llm_timeout": values.positive_float,
    "smtp_host": values.text,
    "smtp_port": values.port,
    "smtp_user": values.text,
    "smtp_password": values.text,
    "smtp_from": values.email,
    "smtp_starttls": values.flag,
    "alert_emails": values.emails,
    "alert_webhook_url": values.http_url,
    "training_data_dir": values.text,
    "proxy_hops": values.hops,
}
_DEFAULTS: dict[str, object] = {
    "data_dir": "./var", "cors_origins": (), "retention_days": 365, "log_level": "INFO", "partners": (), "llm_timeout": 8.0,
    "smtp_port": 587, "smtp_starttls": True, "alert_emails": (), "proxy_hops": 0,
}
