"""Settings: defaults, precedence, secrets only from the environment, and a clear error for every bad value."""

import json
import re
import stat
from dataclasses import fields
from pathlib import Path

import pytest

from plugin.config import ConfigError, Settings, load_settings, mask_url

SECRETS = {
    "TRUSTDESK_SECRET_KEY": "flask-key-s3cr3t",
    "TRUSTDESK_DATABASE_URL": "postgresql://td:db-s3cr3t@db.internal/trustdesk",
    "TRUSTDESK_REDIS_URL": "redis://:redis-s3cr3t@cache:6379/0",
    "TRUSTDESK_GENERIC_WEBHOOK_SECRET": "hook-s3cr3t",
    "TRUSTDESK_LLM_API_KEY": "sk-s3cr3t",
    "TRUSTDESK_ZENDESK_API_TOKEN": "zd-s3cr3t",
    "TRUSTDESK_FRESHDESK_BASE_URL": "https://acme.freshdesk.com/api?token=url-s3cr3t",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A DATA_DIR that does not exist yet, so loading has to create it."""
    return tmp_path / "var"


@pytest.fixture
def load(data_dir):
    """load_settings with DATA_DIR in tmp_path plus the given variables."""

    def run(overrides=None, **variables) -> Settings:
        environ = {"TRUSTDESK_DATA_DIR": str(data_dir), **{f"TRUSTDESK_{k}": v for k, v in variables.items()}}
        return load_settings(environ, overrides)

    return run


@pytest.fixture
def with_file(tmp_path, load):
    """load_settings with a TOML file named by TRUSTDESK_CONFIG."""

    def run(text: str, **variables) -> Settings:
        path = tmp_path / "trustdesk.toml"
        path.write_text(text)
        return load(CONFIG=str(path), **variables)

    return run


def test_defaults_with_an_empty_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.data_dir == tmp_path / "var" and settings.data_dir.is_dir()
    assert settings.database_url == f"sqlite:///{tmp_path}/var/trustdesk.db"
    assert len(settings.secret_key) == 64
    expected = {
        "redis_url": None, "model_path": None, "public_url": None, "cors_origins": (), "retention_days": 365,
        "log_level": "INFO", "generic_webhook_secret": None, "generic_callback_url": None, "partners": (),
        "llm_url": None, "llm_model": None, "llm_api_key": None, "llm_timeout": 8.0, "extra": {},
    }
    assert {name: getattr(settings, name) for name in expected} == expected


def test_blank_variables_count_as_unset(load):
    assert load(RETENTION_DAYS=" ", REDIS_URL="").retention_days == 365


@pytest.mark.parametrize(
    "variable, raw, attribute, expected",
    [
        ("PUBLIC_URL", "https://td.example.com/base/", "public_url", "https://td.example.com/base"),
        ("CORS_ORIGINS", " https://Acme.Zendesk.com/, http://localhost:3000,,", "cors_origins",
         ("https://acme.zendesk.com", "http://localhost:3000")),
        ("PARTNERS", "Acme Travel, Zippy Couriers, Acme Travel", "partners", ("Acme Travel", "Zippy Couriers")),
        ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
        ("RETENTION_DAYS", "90", "retention_days", 90),
        ("LLM_TIMEOUT", "2.5", "llm_timeout", 2.5),
        ("REDIS_URL", "unix:///run/redis.sock", "redis_url", "unix:///run/redis.sock"),
        ("GENERIC_CALLBACK_URL", "https://hooks.example.com/td", "generic_callback_url", "https://hooks.example.com/td"),
        ("MODEL_PATH", "/srv/models/v2", "model_path", "/srv/models/v2"),
    ],
)
def test_values_are_read_and_normalised(load, variable, raw, attribute, expected):
    assert getattr(load(**{variable: raw}), attribute) == expected


@pytest.mark.parametrize("header", ["", "[trustdesk]\n"])
def test_environment_wins_over_the_file(with_file, header):
    text = header + 'retention_days = 90\nlog_level = "debug"\npartners = ["Acme Travel"]\n'
    settings = with_file(text, RETENTION_DAYS="30")
    assert (settings.retention_days, settings.log_level, settings.partners) == (30, "DEBUG", ("Acme Travel",))


def test_overrides_win_over_everything(tmp_path):
    other = tmp_path / "other"
    overrides = {"retention_days": 7, "TRUSTDESK_LOG_LEVEL": "ERROR", "data_dir": other, "SECRET_KEY": "k"}
    overrides |= {"redis_url": None, "TRUSTDESK_ZENDESK_BASE_URL": "https://b.zendesk.com"}
    path = tmp_path / "trustdesk.toml"
    path.write_text("retention_days = 90\n")
    environ = {"TRUSTDESK_CONFIG": str(path), "TRUSTDESK_LOG_LEVEL": "INFO", "TRUSTDESK_REDIS_URL": "redis://cache"}
    environ |= {"TRUSTDESK_ZENDESK_BASE_URL": "https://a.zendesk.com"}
    settings = load_settings(environ, overrides)
    assert (settings.retention_days, settings.log_level, settings.data_dir) == (7, "ERROR", other)
    assert settings.redis_url is None
    assert settings.secret_key == "k" and not (other / "secret_key").exists()
    assert settings.extra == {"TRUSTDESK_ZENDESK_BASE_URL": "https://b.zendesk.com"}


@pytest.mark.parametrize("overrides", [{"TESTING": True}, {"retention_dayz": 3}, {"TRUSTDESK_ZENDESK_BASE_URL": 3}])
def test_bad_overrides_are_refused(load, overrides):
    with pytest.raises(ConfigError, match=next(iter(overrides))):
        load(overrides)


@pytest.mark.parametrize(
    "text, key",
    [
        ("retention_dayz = 3", "retention_dayz"),
        ("[trustdesk]\ndatadir = '/srv'", "datadir"),
        ("DATA_DIR = '/srv'", "DATA_DIR"),
        ("[zendesk]\nbase_url = 'https://a.zendesk.com'", "zendesk"),
    ],
)
def test_unknown_keys_in_the_file_are_refused(with_file, text, key):
    with pytest.raises(ConfigError, match=f"unknown key '{key}'"):
        with_file(text)


@pytest.mark.parametrize(
    "key", ["secret_key", "database_url", "redis_url", "generic_webhook_secret", "llm_api_key",
            "zendesk_api_token", "smtp_password", "okta_client_secret", "SECRET_KEY"],
)
@pytest.mark.parametrize("header", ["", "[trustdesk]\n"])
def test_secrets_in_the_file_are_refused(with_file, key, header):
    message = f"{key}: secrets are read from the environment only: set TRUSTDESK_{key.upper()}"
    with pytest.raises(ConfigError, match=message) as caught:
        with_file(f'{header}{key} = "file-s3cr3t"\n')
    assert "file-s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    "variable, raw",
    [
        ("RETENTION_DAYS", "abc"), ("RETENTION_DAYS", "0"), ("RETENTION_DAYS", "-5"), ("RETENTION_DAYS", "1.5"),
        ("LOG_LEVEL", "VERBOSE"),
        ("LLM_TIMEOUT", "0"), ("LLM_TIMEOUT", "-1"), ("LLM_TIMEOUT", "soon"), ("LLM_TIMEOUT", "nan"),
        ("LLM_TIMEOUT", "inf"),
        ("REDIS_URL", "http://cache:6379"), ("DATABASE_URL", "trustdesk.db"),
        ("PUBLIC_URL", "ftp://td.example.com"), ("PUBLIC_URL", "td.example.com"),
        ("PUBLIC_URL", "https://td.example.com/?tenant=1"), ("PUBLIC_URL", "https://td.example.com:99999"),
        ("CORS_ORIGINS", "https://acme.zendesk.com/app"), ("CORS_ORIGINS", "acme.zendesk.com"),
        ("CORS_ORIGINS", "*"), ("CORS_ORIGINS", "https://ok.example.com, https://a.example.com:http"),
        ("CORS_ORIGINS", "https://user@acme.zendesk.com"),
        ("GENERIC_CALLBACK_URL", "callback"), ("LLM_URL", "ftp://llm.example.com/v1"),
    ],
)
def test_invalid_values_name_the_variable(load, variable, raw):
    with pytest.raises(ConfigError, match=f"^TRUSTDESK_{variable}: "):
        load(LLM_MODEL="m", **{variable: raw})


def test_message_names_the_variable_and_the_value(load):
    with pytest.raises(ConfigError) as caught:
        load({"retention_days": "abc"})
    assert str(caught.value) == "TRUSTDESK_RETENTION_DAYS: must be a positive integer, got 'abc'"


def test_llm_url_needs_a_model(load):
    with pytest.raises(ConfigError, match="^TRUSTDESK_LLM_MODEL: "):
        load(LLM_URL="https://llm.example.com/v1/chat/completions")


@pytest.mark.parametrize(
    "text, key",
    [("retention_days = true", "retention_days"), ("log_level = 3", "log_level"), ("partners = [1]", "partners"),
     ("llm_timeout = -2.0", "llm_timeout"), ("trustdesk = 1", "trustdesk")],
)
def test_invalid_values_in_the_file_name_the_key(with_file, tmp_path, text, key):
    with pytest.raises(ConfigError, match=f"^{re.escape(str(tmp_path / 'trustdesk.toml'))}: {key}: "):
        with_file(text)


@pytest.mark.parametrize(
    "variable, raw",
    [
        ("DATABASE_URL", "td:pw-s3cr3t@db/trustdesk"),
        ("REDIS_URL", "http://:pw-s3cr3t@cache:6379"),
        ("PUBLIC_URL", "ftp://user:pw-s3cr3t@host/x"),
        ("PUBLIC_URL", "https://user:pw-s3cr3t@host:bad/x"),
    ],
)
def test_errors_never_echo_a_password(load, variable, raw):
    with pytest.raises(ConfigError, match=f"^TRUSTDESK_{variable}: ") as caught:
        load(**{variable: raw})
    assert "pw-s3cr3t" not in str(caught.value)


def test_secret_key_is_generated_stored_0600_and_reused(load, data_dir):
    first = load().secret_key
    stored = data_dir / "secret_key"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stored.read_text().strip() == first and len(first) == 64
    assert load().secret_key == first
    assert [p.name for p in data_dir.iterdir()] == ["secret_key"]


def test_secret_key_from_the_environment_is_not_stored(load, data_dir):
    assert load(SECRET_KEY="from-env").secret_key == "from-env"
    assert not (data_dir / "secret_key").exists()


@pytest.mark.parametrize("content, mode, message", [("k\n", 0o644, "chmod 600"), ("\n", 0o600, "is empty")])
def test_a_bad_stored_secret_key_is_refused(load, data_dir, content, mode, message):
    data_dir.mkdir()
    (data_dir / "secret_key").write_text(content)
    (data_dir / "secret_key").chmod(mode)
    with pytest.raises(ConfigError, match=f"^TRUSTDESK_SECRET_KEY: .*{message}"):
        load()


@pytest.mark.parametrize("below", ["", "sub"])
def test_data_dir_must_be_a_writable_directory(tmp_path, below):
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("")
    with pytest.raises(ConfigError, match="^TRUSTDESK_DATA_DIR: .*not-a-dir"):
        load_settings({"TRUSTDESK_DATA_DIR": str(a_file / below)})


def test_describe_masks_secrets_and_url_passwords(load):
    settings = load(**{name.removeprefix("TRUSTDESK_"): value for name, value in SECRETS.items()})
    described = settings.describe()
    assert described["secret_key"] == described["generic_webhook_secret"] == described["llm_api_key"] == "***"
    assert described["database_url"] == "postgresql://td:***@db.internal/trustdesk"
    assert described["redis_url"] == "redis://:***@cache:6379/0"
    assert described["extra"] == {
        "TRUSTDESK_ZENDESK_API_TOKEN": "***",
        "TRUSTDESK_FRESHDESK_BASE_URL": "https://acme.freshdesk.com/api?token=***",
    }
    assert set(described) == {field.name for field in fields(Settings)}
    for shown in (json.dumps(described), repr(settings)):
        assert "s3cr3t" not in shown


@pytest.mark.parametrize(
    "url, masked",
    [
        ("postgresql://td:pw@db/trustdesk", "postgresql://td:***@db/trustdesk"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        ("postgresql://td@db/trustdesk?sslmode=require", "postgresql://td@db/trustdesk?sslmode=require"),
        ("https://h/cb?a=1&api_key=k&sig=", "https://h/cb?a=1&api_key=***&sig="),
        ("sqlite:////srv/td/trustdesk.db", "sqlite:////srv/td/trustdesk.db"),
        ("http://[::1", "***"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_extra_holds_other_trustdesk_variables_read_only(data_dir):
    environ_extra = {"TRUSTDESK_ZENDESK_BASE_URL": "https://acme.zendesk.com", "TRUSTDESK_SHARED_DIR": ""}
    settings = load_settings({"TRUSTDESK_DATA_DIR": str(data_dir), "HOME": "/root", **environ_extra})
    assert settings.extra == environ_extra
    with pytest.raises(TypeError):
        settings.extra["TRUSTDESK_NEW"] = "x"


def test_as_flask_config(load):
    settings = load(SECRET_KEY="k")
    assert settings.as_flask_config() == {"TRUSTDESK_SETTINGS": settings, "SECRET_KEY": "k", "MAX_CONTENT_LENGTH": 1048576}


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda path: None, "cannot read .*: No such file"),
        (lambda path: path.write_text("retention_days = = 3\n"), "is not valid TOML"),
        (lambda path: path.write_bytes(b"log_level = '\xff'\n"), "is not valid TOML"),
        (lambda path: path.mkdir(), "cannot read"),
    ],
)
def test_a_missing_or_broken_config_file_is_a_clear_error(load, tmp_path, make, message):
    path = tmp_path / "trustdesk.toml"
    make(path)
    with pytest.raises(ConfigError, match=f"^TRUSTDESK_CONFIG: .*{message}") as caught:
        load(CONFIG=str(path))
    assert str(path) in str(caught.value)
