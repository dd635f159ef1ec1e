"""Pure parts: retry policy, breaker transitions, failure classification, token bucket."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.delivery import breaker, breaker_store
from gateway.delivery.port import PushResult, PushStatus, classify_http, parse_retry_after
from gateway.delivery.ratelimit import TokenBucket
from gateway.delivery.retry import RetryPolicy

T0 = dt.datetime(2025, 6, 2, 2, 0, tzinfo=dt.UTC)


# --- retry ------------------------------------------------------------------------------


def test_constant_policy_waits_base_every_time():
    policy = RetryPolicy("constant", base=30, cap=600, max_attempts=5)
    assert [policy.get_schedule_in(attempts=n) for n in range(1, 5)] == [30, 30, 30, 30]


def test_progressive_policy_doubles_up_to_the_cap_with_full_jitter():
    top = RetryPolicy("progressive", base=2, cap=60, max_attempts=20, random=lambda: 1.0)
    assert [top.get_schedule_in(attempts=n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    half = RetryPolicy("progressive", base=2, cap=60, max_attempts=20, random=lambda: 0.5)
    assert half.get_schedule_in(attempts=3) == 4.0
    zero = RetryPolicy("progressive", base=2, cap=60, max_attempts=20, random=lambda: 0.0)
    assert zero.get_schedule_in(attempts=3) == pytest.approx(0.05)  # never a busy loop


def test_policy_gives_up_after_max_attempts():
    policy = RetryPolicy("constant", base=1, max_attempts=3)
    assert policy.get_schedule_in(attempts=2) == 1
    assert policy.get_schedule_in(attempts=3) is None
    assert "3 attempts" in policy.give_up_reason(attempts=3, age=10)


def test_policy_gives_up_when_the_next_attempt_would_pass_max_age():
    policy = RetryPolicy("constant", base=60, max_attempts=100, max_age=3600)
    assert policy.get_schedule_in(attempts=5, age=3550) is None
    assert policy.get_schedule_in(attempts=5, age=3000) == 60


def test_retry_after_is_honoured_when_later_than_the_policy():
    policy = RetryPolicy("constant", base=5, cap=10, max_attempts=10)
    assert policy.get_schedule_in(attempts=1, retry_after=120) == 120  # not capped: the destination asked
    assert policy.get_schedule_in(attempts=1, retry_after=1) == 5


def test_retry_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy("sometimes")
    with pytest.raises(ValueError):
        RetryPolicy(base=0)


# --- classification -----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "expected", "retryable"), [
    (200, PushStatus.DELIVERED, False),
    (202, PushStatus.DELIVERED, False),
    (400, PushStatus.REJECTED, False),
    (422, PushStatus.REJECTED, False),
    (408, PushStatus.TIMEOUT, True),
    (429, PushStatus.THROTTLED, True),
    (500, PushStatus.SERVER_ERROR, True),
    (503, PushStatus.SERVER_ERROR, True),
])
def test_each_http_status_is_classified(status, expected, retryable):
    assert classify_http(status) is expected
    assert expected.retryable is retryable


def test_network_errors_and_timeouts_are_retryable_and_count_against_the_breaker():
    for result in (PushResult.network_error(ConnectionRefusedError("refused")), PushResult.timed_out()):
        assert result.status.retryable and result.status.counts_against_breaker
    assert "ConnectionRefusedError" in PushResult.network_error(ConnectionRefusedError("refused")).error


def test_a_rejection_does_not_count_against_the_breaker_and_a_bad_receipt_is_retried():
    assert not PushStatus.REJECTED.counts_against_breaker
    assert PushStatus.BAD_RECEIPT.retryable and not PushStatus.BAD_RECEIPT.counts_against_breaker


def test_429_carries_retry_after_seconds_or_http_date():
    r = PushResult.from_http(429, {"retry-after": "17"}, b"slow down")
    assert r.status is PushStatus.THROTTLED and r.retry_after == 17 and "429" in r.error
    when = "Mon, 02 Jun 2025 02:01:00 GMT"
    assert parse_retry_after(when, now=T0) == 60
    assert parse_retry_after("soon") is None


def test_a_2xx_xml_body_is_a_synchronous_receipt():
    assert PushResult.from_http(200, {}, b"<r:Receipt/>").receipt == b"<r:Receipt/>"
    assert PushResult.from_http(202, {}, b"").receipt is None


# --- breaker ------------------------------------------------------------------------------


def test_breaker_opens_after_threshold_consecutive_failures():
    policy = breaker.BreakerPolicy(failure_threshold=3, open_seconds=30)
    st = breaker.BreakerState()
    for _ in range(2):
        st = breaker.after_failure(st, T0, policy)
        assert st.state == breaker.CLOSED
    st = breaker.after_failure(st, T0, policy, "HTTP 503")
    assert st.state == breaker.OPEN and st.probe_at == T0 + dt.timedelta(seconds=30)
    assert breaker.admission(st, T0 + dt.timedelta(seconds=29)) is breaker.Admission.NONE
    assert breaker.admission(st, T0 + dt.timedelta(seconds=30)) is breaker.Admission.PROBE


def test_half_open_probe_success_closes_and_failure_reopens():
    policy = breaker.BreakerPolicy(failure_threshold=1, open_seconds=10)
    opened = breaker.after_failure(breaker.BreakerState(), T0, policy)
    probing = breaker.start_probe(opened, T0 + dt.timedelta(seconds=10), policy)
    assert probing.state == breaker.HALF_OPEN
    assert breaker.admission(probing, T0 + dt.timedelta(seconds=11)) is breaker.Admission.NONE  # one probe only
    assert breaker.after_success(probing) == breaker.BreakerState()
    reopened = breaker.after_failure(probing, T0 + dt.timedelta(seconds=12), policy)
    assert reopened.state == breaker.OPEN and reopened.probe_at == T0 + dt.timedelta(seconds=22)


def test_a_success_resets_the_failure_count():
    policy = breaker.BreakerPolicy(failure_threshold=2)
    st = breaker.after_failure(breaker.BreakerState(), T0, policy)
    st = breaker.after_success(st)
    st = breaker.after_failure(st, T0, policy)
    assert st.state == breaker.CLOSED and st.consecutive_failures == 1


def test_breaker_state_in_the_database_is_shared_and_only_one_worker_wins_the_probe(db):
    policy = breaker.BreakerPolicy(failure_threshold=2, open_seconds=5)
    with db.write() as conn:
        breaker_store.record_failure(conn, "d", T0, policy)
        st = breaker_store.record_failure(conn, "d", T0, policy, "HTTP 503")
    assert st.state == breaker.OPEN
    later = T0 + dt.timedelta(seconds=5)
    with db.write() as conn:
        assert not breaker_store.try_start_probe(conn, "d", T0 + dt.timedelta(seconds=4), policy)
        assert breaker_store.try_start_probe(conn, "d", later, policy)
        assert not breaker_store.try_start_probe(conn, "d", later, policy)  # the second worker waits
    with db.write() as conn:
        breaker_store.record_success(conn, "d", later)
        assert breaker_store.load(conn, "d") == breaker.BreakerState()


# --- rate limit -----------------------------------------------------------------------------


def test_token_bucket_refills_at_the_rate_and_caps_at_burst():
    now = [0.0]
    bucket = TokenBucket(10, burst=2, clock=lambda: now[0])
    assert bucket.try_take() and bucket.try_take() and not bucket.try_take()
    assert bucket.wait_time() == pytest.approx(0.1)
    now[0] = 10.0
    assert bucket.available == 2  # idle time does not buy a burst beyond `burst`
    assert TokenBucket(100).burst == 10
