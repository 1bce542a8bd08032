"""The sweep across releases: the release list, the driver, the in-venv runner, its results
and its report section."""
