"""The contract's rules for every answer, as a Schemathesis check (docs/contract.md, "Errors"):
no 5xx other than the documented 503 and 507, and every error is problem+json with `type`,
`title`, `status` (the HTTP status), `detail` and a machine `code`."""

import schemathesis
from hypothesis import strategies as st

# Identifiers the API checks (issue 12): the fuzzer sends valid ones, so that a request that fits
# the schema is one the API accepts; invalid ones are covered by the system tests.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _resident_id(region, year, month, day, seq):
    first = f"{region:06d}{year:04d}{month:02d}{day:02d}{seq:03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(first, _WEIGHTS)) % 11]
    return first + check


schemathesis.openapi.format(
    "cn-resident-id",
    st.builds(
        _resident_id,
        st.integers(110000, 659999),
        st.integers(1900, 2020),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 999),
    ),
)
schemathesis.openapi.format(
    "cn-phone",
    st.one_of(
        st.from_regex(r"\A1[3-9][0-9]{9}\Z"),
        # Area codes: 010 and 020-029 (three digits), 03xx-09xx (four).
        st.from_regex(r"\A0(10|2[0-9])-[2-9][0-9]{6,7}\Z"),
        st.from_regex(r"\A0[3-9][0-9]{2}-[2-9][0-9]{6,7}\Z"),
    ),
)

DOCUMENTED_5XX = {503, 507}
FIELDS = ("type", "title", "status", "detail", "code")


def _header(response, name):
    value = response.headers.get(name) or response.headers.get(name.lower()) or ""
    return value[0] if isinstance(value, list) else value


@schemathesis.check
def contract_errors(ctx, response, case):
    """No undocumented 5xx; every error answer is problem+json."""
    status = response.status_code
    if status >= 500 and status not in DOCUMENTED_5XX:
        raise AssertionError(f"an undocumented server error: {status}")
    if status < 400:
        return None
    content_type = _header(response, "Content-Type")
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(f"{status} answered as {content_type!r}, not problem+json")
    problem = response.json()
    missing = [f for f in FIELDS if f not in problem]
    if missing:
        raise AssertionError(f"problem without {missing}: {problem}")
    if problem["status"] != status:
        raise AssertionError(f"problem status {problem['status']} on a {status} answer")
    return None
