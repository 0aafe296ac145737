"""Exercise suites (tests/<id>/) run only as judges or when a target is named: the project's
own test run (`pytest`, testpaths = tests/project) never collects them by accident."""
pytest_plugins = ["grader.plugin"]
