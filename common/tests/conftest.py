from common.tests.fake_openai import fake_openai  # noqa: F401 (the fixture, for common's tests)
