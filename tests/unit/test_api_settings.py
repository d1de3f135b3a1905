"""The API function's settings from the environment: typed, bounded, and a bad value never
stops the function from starting (it would fail every route)."""

from functions.api.settings import ApiSettings


def test_the_environment_sets_each_field():
    s = ApiSettings.from_env({"OCR_CORS_ORIGINS": "https://a.example, https://b.example", "OCR_API_CONCURRENCY": "4",
                              "OCR_STATS_WINDOW_HOURS": "6", "OCR_STATS_CACHE_SECONDS": "2.5",
                              "POWERTOOLS_SERVICE_NAME": "svc", "POWERTOOLS_METRICS_NAMESPACE": "Ns"})
    assert s == ApiSettings(cors_origins=("https://a.example", "https://b.example"), read_concurrency=4,
                            stats_window_hours=6, stats_cache_seconds=2.5, service_name="svc", metrics_namespace="Ns")


def test_nothing_set_gives_the_defaults():
    assert ApiSettings.from_env({}) == ApiSettings()
    assert ApiSettings().cors_origins == ()


def test_a_bad_value_is_logged_and_its_default_used(caplog):
    s = ApiSettings.from_env({"OCR_STATS_WINDOW_HOURS": "abc", "OCR_STATS_CACHE_SECONDS": "-5",
                              "OCR_API_CONCURRENCY": "0", "POWERTOOLS_SERVICE_NAME": "", "OCR_CORS_ORIGINS": " , "})
    assert s == ApiSettings()
    logged = caplog.text
    for name in ("OCR_STATS_WINDOW_HOURS", "OCR_STATS_CACHE_SECONDS", "OCR_API_CONCURRENCY", "POWERTOOLS_SERVICE_NAME"):
        assert name in logged


def test_one_bad_value_leaves_the_others_as_set():
    s = ApiSettings.from_env({"OCR_STATS_WINDOW_HOURS": "x", "OCR_STATS_CACHE_SECONDS": "10"})
    assert (s.stats_window_hours, s.stats_cache_seconds) == (24, 10.0)


def test_a_window_past_cloudwatchs_1440_points_is_refused_for_the_default():
    """/api/stats asks for hourly points, and GetMetricStatistics answers at most 1,440: a longer
    window would have made every stats request "could not be read"."""
    assert ApiSettings.from_env({"OCR_STATS_WINDOW_HOURS": "1440"}).stats_window_hours == 1440
    assert ApiSettings.from_env({"OCR_STATS_WINDOW_HOURS": "1441"}).stats_window_hours == 24
