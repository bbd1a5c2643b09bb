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


def test_the_warning_board_shows_the_demo_surge_and_each_township_its_own(as_role):
    """The county's 预警 lists the demo's surge of 东城镇's wage complaints and the repeated
    collective visits at 高桥镇, each case opening by its number; a township's clerk sees its own
    township's alerts only; an analyst none."""
    county = as_role("county")
    county.goto("/console/workbench")
    county.click("nav >> text=预警")
    county.wait_for_load_state()
    assert county.url.endswith("/console/alerts"), county.url
    surge = county.locator("table tbody tr", has_text="信访量激增").filter(has_text="东城镇").filter(
        has_text="劳资"
    )
    assert surge.count() == 1, county.locator("main").inner_text()[:2000]
    cells = surge.locator("td").all_inner_texts()
    assert int(cells[3]) >= 7 and "平常一周约" in cells[4], cells
    repeat = county.locator("table tbody tr", has_text="集体访反复").filter(has_text="高桥镇")
    assert repeat.count() >= 1, county.locator("main").inner_text()[:2000]
    shot(county, "county-alerts")
    surge.locator("td >> nth=7").locator("a").first.click()
    county.wait_for_load_state()
    assert "/console/cases/" in county.url and "拖欠工人三个月工资" in county.locator("main").inner_text()
    clerk = as_role("clerk_other")
    clerk.goto("/console/queue")
    clerk.click("nav >> text=预警")
    clerk.wait_for_load_state()
    rows = clerk.locator("table tbody tr").all_inner_texts()
    assert rows and all("东城镇" in r for r in rows), rows
    assert any("信访量激增" in r for r in rows), rows
    assert "本乡镇" in clerk.locator("h1").inner_text()
    gaoqiao = as_role("clerk")
    gaoqiao.goto("/console/alerts")
    assert all("东城镇" not in r for r in gaoqiao.locator("table tbody tr").all_inner_texts())
    analyst = as_role("analyst")
    assert analyst.goto("/console/alerts").status == 403


def test_the_county_reviews_an_alert_on_the_board_and_the_township_sees_it(as_role):
    """研判 on the board: the county records an assessment and a plan of the demo's repeated
    collective visits at 高桥镇; the board says so, keeps its filters and shows the review in the
    row; 高桥镇's clerk sees the review and no form; auditors see no form either."""
    county = as_role("county")
    tag = f"研判界面测试{random.randint(10**5, 10**6)}"
    county.goto("/console/alerts?kind=collective_repeat")
    row = county.locator("table tbody tr", has_text="集体访反复").filter(has_text="高桥镇").first
    assert row.count() == 1, county.locator("main").inner_text()[:2000]
    row.locator("input[name=assessment]").fill(f"{tag}：征地补偿分歧，可能再次集体访")
    row.locator("input[name=plan]").fill("镇长包案，五日内入户")
    row.locator("button", has_text="研判").click()
    county.wait_for_load_state()
    assert "已记录研判" in county.locator("main").inner_text() or "已记录研判" in county.content()
    assert "kind=collective_repeat" in county.url, county.url
    row = county.locator("table tbody tr", has_text=tag)
    assert row.count() == 1, county.locator("main").inner_text()[:2000]
    assert "镇长包案，五日内入户" in row.inner_text() and "county-zhang" in row.inner_text(), row.inner_text()
    assert row.locator("button", has_text="重新研判").count() == 1
    shot(county, "county-alert-review")
    clerk = as_role("clerk")
    clerk.goto("/console/alerts")
    seen = clerk.locator("table tbody tr", has_text=tag)
    assert seen.count() == 1, clerk.locator("main").inner_text()[:2000]
    assert clerk.locator("input[name=assessment]").count() == 0
    auditor = as_role("auditor")
    auditor.goto("/console/alerts")
    assert auditor.locator("table tbody tr", has_text=tag).count() == 1
    assert auditor.locator("input[name=assessment]").count() == 0
