"""The contract's rules for every answer, as a Schemathesis check (api-contract.md, "Errors"):
no 5xx other than the documented 503 and 507, and every error is problem+json with `type`,
`title`, `status` (the HTTP status), `detail` and a machine `code`."""

import schemathesis

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
