"""Issue 35, the county's watch over old cases: the backlog board (积案, 一案一策) lists old and
repeated open cases with their plans, plans past their date first, and a plan set on a case page
shows on it."""

import datetime
import random

from conftest import shot
from test_console import act, now, register_by_api


def test_the_backlog_board_lists_old_cases_and_their_plans_overdue_first(as_role):
    """A case received four months ago is on the board without a plan; the county sets one on
    the case page (制定化解方案) and the board shows it; the demo's plan past its date comes first."""
    county = as_role("county")
    tag = f"积案界面测试{random.randint(10**5, 10**6)}"
    received = (now() - datetime.timedelta(days=120)).isoformat()
    case = register_by_api(county, received_at=received, summary=tag, late_reason="历史积案补录")
    county.goto("/console/workbench")
    county.click("nav >> text=积案")
    county.wait_for_load_state()
    assert county.url.endswith("/console/backlog"), county.url
    rows = county.locator("table tbody tr")
    first = rows.first.inner_text()
    assert "方案已逾期" in first, first
    row = county.locator("table tbody tr", has_text=case["case_no"])
    assert row.count() == 1, county.locator("main").inner_text()[:1500]
    assert "未制定方案" in row.inner_text() and "120 天" in row.inner_text(), row.inner_text()
    row.locator("a", has_text=case["case_no"]).click()
    county.wait_for_load_state()
    target = (now() + datetime.timedelta(days=45)).date().isoformat()
    act(county, "制定化解方案", fields={"plan": f"{tag}：约谈企业，分期清偿", "target_date": target})
    county.goto("/console/backlog")
    row = county.locator("table tbody tr", has_text=case["case_no"])
    text = row.inner_text()
    assert f"{tag}：约谈企业" in text and target in text and "化解中" in text, text
    # Plans past their date first, then cases without a plan: this one after both.
    texts = county.locator("table tbody tr").all_inner_texts()
    position = next(i for i, t in enumerate(texts) if case["case_no"] in t)
    assert all("化解中" in t for t in texts[position:]), texts[:5]
    assert "方案已逾期" in texts[0]
    shot(county, "county-backlog")
    # The workbench filters on it too, and the row says 积案.
    county.goto("/console/workbench?flag=backlog&township=gaoqiao")
    listed = county.locator("table.cases tbody tr", has_text=case["case_no"])
    assert listed.count() == 1 and "积案" in listed.inner_text(), county.locator("main").inner_text()[:1500]
    analyst = as_role("analyst")
    assert analyst.goto("/console/backlog").status == 403
