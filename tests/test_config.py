"""Settings from environment variables and from the dashboard's secrets mapping."""

from __future__ import annotations

import json

import pytest

from synccore.config import Settings, load_settings
from synccore.errors import ConfigurationError

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789"


def test_defaults_are_the_demo_sheet_and_a_local_sqlite_file():
    settings = load_settings(environ={})
    assert settings.is_demo and settings.database_url == "sqlite:///catalog.db"
    assert settings.describe_sheet() == "the bundled demo sheet"


def test_every_variable_is_read_from_the_environment():
    settings = load_settings(
        environ={
            "SYNCCORE_DATABASE_URL": "postgresql://app@db/catalog",
            "SYNCCORE_SHEET": f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=42",
            "SYNCCORE_WORKSHEET": "Releases",
            "GOOGLE_APPLICATION_CREDENTIALS": "/etc/keys/sa.json",
            "SYNCCORE_GOOGLE_API_KEY": "AIza-key",
            "SYNCCORE_SHEETS_API_URL": "http://127.0.0.1:9999/",
            "SYNCCORE_REMOVAL_GUARD": "0.25",
            "SYNCCORE_HEARTBEAT_TIMEOUT": "20",
            "SYNCCORE_ALLOWED_USERS": "a@x.org, b@x.org,",
            "SYNCCORE_HEADER_ALIASES": '{"Band name": "artist"}',
        }
    )
    assert settings.spreadsheet_key == KEY and settings.worksheet_from_url == "42"
    assert (settings.worksheet, settings.credentials_file, settings.api_key) == (
        "Releases",
        "/etc/keys/sa.json",
        "AIza-key",
    )
    assert settings.sheets_api_url == "http://127.0.0.1:9999"
    assert (settings.removal_guard, settings.heartbeat_timeout) == (0.25, 20.0)
    assert settings.allowed_users == ("a@x.org", "b@x.org")
    assert settings.header_aliases == {"Band name": "artist"}


def test_secrets_mapping_wins_and_takes_the_service_account_table():
    account = {"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com"}
    settings = load_settings(
        secrets={"synccore_sheet": KEY, "gcp_service_account": account},
        environ={"SYNCCORE_SHEET": "other.csv"},
    )
    assert settings.sheet == KEY and settings.credentials_info == account


def test_credentials_variable_may_hold_the_json_itself():
    account = {"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com"}
    settings = load_settings(environ={"GOOGLE_APPLICATION_CREDENTIALS": json.dumps(account)})
    assert settings.credentials_info == account and settings.credentials_file is None


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("SYNCCORE_REMOVAL_GUARD", "half", "SYNCCORE_REMOVAL_GUARD must be a number, got 'half'."),
        (
            "SYNCCORE_HEADER_ALIASES",
            "Band=artist",
            'SYNCCORE_HEADER_ALIASES must be JSON like {"Band name": "artist"}.',
        ),
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            '{"private_key": "-----BEGIN',
            "GOOGLE_APPLICATION_CREDENTIALS holds text that is not valid JSON; give the path to the "
            "service account key file instead.",
        ),
    ],
)
def test_malformed_settings_say_which_and_how(name, value, message):
    with pytest.raises(ConfigurationError) as caught:
        load_settings(environ={name: value})
    assert str(caught.value) == message


def test_sheet_forms():
    assert Settings(sheet=KEY).spreadsheet_key == KEY
    assert Settings(sheet="exports/albums.csv").is_csv
    with pytest.raises(ConfigurationError, match="not a Google Sheets URL or key"):
        _ = Settings(sheet="my albums").spreadsheet_key


def test_secrets_stay_out_of_descriptions_and_repr():
    settings = Settings(
        database_url="postgresql://app:hunter2@db/catalog",
        api_key="AIza-secret",
        credentials_info={"private_key": "-----BEGIN PRIVATE KEY-----abc"},
    )
    assert settings.describe_database() == "postgresql://app:***@db/catalog"
    for secret in ("hunter2", "AIza-secret", "BEGIN PRIVATE KEY"):
        assert secret not in repr(settings)


def test_tracker_settings_load_from_json_text_or_tables():
    from synccore.config import load_settings as load

    settings = load(
        environ={
            "SYNCCORE_WORKSHEET": "*Prog-metal,2017,2018",
            "SYNCCORE_COLOR_FLAGS": '{"#ff0000": "debut"}',
            "SYNCCORE_LOCATION_COUNTRIES": '{"Tbilisi, Georgia": "Georgia"}',
        }
    )
    assert settings.worksheet == "*Prog-metal,2017,2018"
    assert settings.color_flags == '{"#ff0000": "debut"}'
    assert settings.location_countries == {"Tbilisi, Georgia": "Georgia"}
    from_secrets = load({"SYNCCORE_LOCATION_COUNTRIES": {"Europe": "Europe"}}, environ={})
    assert from_secrets.location_countries == {"Europe": "Europe"}


@pytest.mark.parametrize(
    "name, value",
    [
        ("SYNCCORE_COLOR_FLAGS", '{"#ff0000": "best"}'),
        ("SYNCCORE_COLOR_FLAGS", "orange"),
        ("SYNCCORE_LOCATION_COUNTRIES", "Georgia"),
        ("SYNCCORE_LOCATION_COUNTRIES", '["Georgia"]'),
    ],
)
def test_bad_tracker_settings_are_configuration_errors(name, value):
    from synccore.config import load_settings as load

    with pytest.raises(ConfigurationError, match=name):
        load(environ={name: value})
