"""Stand-ins for the outside world (the Google Sheets API), used by tests, benchmarks and the
demo."""
