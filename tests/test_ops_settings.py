"""The operations settings as load_settings reads them (environment or st.secrets)."""

from __future__ import annotations

import pytest

from synccore import ConfigurationError, load_settings


def test_defaults_are_off():
    s = load_settings(environ={})
    assert (s.schedule, s.stale_after, s.notify_urls, s.run_syncs_in) == (
        None,
        None,
        (),
        "dashboard",
    )
    assert s.notify_after_failures == 1 and s.dashboard_url is None


def test_values_from_the_environment():
    s = load_settings(
        environ={
            "SYNCCORE_SCHEDULE": "0 6 * * 1-5",
            "SYNCCORE_TIMEZONE": "Europe/Berlin",
            "SYNCCORE_STALE_AFTER": "26h",
            "SYNCCORE_NOTIFY": "json://a.example/x  slack://T/B/C",
            "SYNCCORE_NOTIFY_AFTER_FAILURES": "3",
            "SYNCCORE_DASHBOARD_URL": "https://catalog.example.com",
            "SYNCCORE_RUN_SYNCS_IN": "Worker",
        }
    )
    assert s.schedule.describe() == "cron 0 6 * * 1-5 (Europe/Berlin)"
    assert s.stale_after == 26 * 3600
    assert s.notify_urls == ("json://a.example/x", "slack://T/B/C")
    assert (s.notify_after_failures, s.run_syncs_in) == (3, "worker")


def test_notify_urls_as_a_secrets_list_and_never_in_repr():
    s = load_settings({"SYNCCORE_NOTIFY": ["slack://T0/B0/secrettoken123"]}, environ={})
    assert s.notify_urls == ("slack://T0/B0/secrettoken123",)
    assert "secrettoken123" not in repr(s)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("SYNCCORE_RUN_SYNCS_IN", "cron", "SYNCCORE_RUN_SYNCS_IN must be 'dashboard' or 'worker'"),
        ("SYNCCORE_NOTIFY_AFTER_FAILURES", "0", "SYNCCORE_NOTIFY_AFTER_FAILURES must be 1 or more"),
        ("SYNCCORE_STALE_AFTER", "a day", "SYNCCORE_STALE_AFTER must be a duration"),
        ("SYNCCORE_SCHEDULE", "daily", "SYNCCORE_SCHEDULE must be"),
    ],
)
def test_bad_values_name_the_setting(name, value, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings(environ={name: value})
