"""The console end to end, through the browser only: each role's pages, a case from
registration to closure, who may see what, the petitioner's page, sessions and forms."""

import csv
import datetime
import io
import urllib.parse
import random
import re
import time

from conftest import TOKENS, shot, sign_in

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def now():
    """The wall clock in the policy zone (Asia/Shanghai), read at each use: the suite must pass at
    any hour, and a run may cross midnight there."""
    return datetime.datetime.now(SHANGHAI).replace(microsecond=0)


def today():
    return now().date().isoformat()


def received_now():
    """A receipt time that is today in Shanghai and never in the future: a minute ago, or
    midnight when today is younger than that. (A fixed hour such as 08:00 is in the future for
    the first eight hours of every day.)"""
    t = now()
    return max(t - datetime.timedelta(minutes=1), t.replace(hour=0, minute=0, second=0)).isoformat()


def id_number(birth="19800101"):
    """A valid 18-digit resident ID number (GB 11643 check digit)."""
    body = "330102" + birth + f"{random.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return body + check


def stats_figure(page, township, label):
    """The figure of `label` (件, 办结, …) on the analyst's statistics page for today."""
    page.goto(f"/console/stats?from={today()}&to={today()}&township={township}")
    row = page.locator("table").first.locator("tr", has=page.locator(f"td:text-is('{label}')"))
    return int(row.locator("td").nth(1).inner_text())


def act(page, label, fields=None, selects=None):
    """Open the step `label` on a case page, fill it, confirm, and wait for the notice."""
    form = page.locator("details.act", has=page.locator(f"summary:text-is('{label}')"))
    form.locator("summary").click()
    for name, value in (fields or {}).items():
        form.locator(f"[name={name}]").fill(value)
    for name, value in (selects or {}).items():
        form.locator(f"select[name={name}]").select_option(label=value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    notice = page.locator(".notice")
    assert notice.count() == 1, page.locator("main").inner_text()[:1500]
    assert f"已{label}" in notice.inner_text()


def test_each_role_signs_in_to_its_own_pages_and_out_again(as_role):
    expected = {
        "clerk": ("/console/queue", ["我的待办", "登记", "案件查询"], "clerk-queue"),
        "handler": ("/console/queue", ["我的待办", "案件查询"], "handler-queue"),
        "county": ("/console/workbench", ["工作台", "督办", "登记", "统计"], "county-workbench"),
        "auditor": ("/console/audit", ["案件核查", "人员轨迹", "核减与删除"], "auditor-audit"),
        "analyst": ("/console/stats", ["统计", "考核"], "analyst-stats"),
    }
    for role, (home, nav, name) in expected.items():
        page = as_role(role)
        assert page.url.endswith(home), (role, page.url)
        labels = page.locator("header nav a").all_inner_texts()
        assert labels[: len(nav)] == nav or all(n in labels for n in nav), (role, labels)
        if role == "analyst":
            assert "登记" not in labels and "工作台" not in labels
        if role == "handler":
            assert "登记" not in labels
        page.wait_for_load_state("networkidle")
        shot(page, name)
        page.click("text=退出")
        page.wait_for_load_state()
        assert page.url.endswith("/console/login")
        page.goto(home)
        assert "/console/login?next=" in page.url, "signed out: the page asks to sign in again"


def test_a_wrong_token_is_refused_with_a_message(new_page):
    page = new_page()
    page.goto("/console/login")
    page.fill("#token", "not-a-token-at-all")
    page.click("button[type=submit]")
    assert "令牌无效" in page.locator(".error").inner_text()
    page.goto("/console/workbench")
    assert page.url.endswith("/console/login?next=%2Fconsole%2Fworkbench"), page.url


def test_a_case_from_registration_to_closure_through_the_console(as_role, new_page):
    analyst = as_role("analyst")
    items_before = stats_figure(analyst, "gaoqiao", "件")
    closed_before = stats_figure(analyst, "gaoqiao", "办结")

    name = f"测试人{random.randint(10000, 99999)}"
    summary = f"征地补偿款未按期发放（界面测试 {random.randint(0, 10**9)}）"
    clerk = as_role("clerk")
    clerk.click("header nav >> text=登记")
    clerk.select_option("#f-channel", label="来访")
    clerk.fill("#f-headcount", "2")
    clerk.select_option("#f-level_reached", label="县级")
    clerk.select_option("#f-category", label="土地")
    clerk.fill("#f-summary", summary)
    clerk.fill("#f-name", name)
    clerk.fill("#f-id_number", "33010219800101123")  # 17 digits: refused, at its field
    clerk.fill("#f-phone", f"139{random.randint(10**7, 10**8 - 1)}")
    clerk.click("button.primary")
    clerk.wait_for_load_state()
    field = clerk.locator(".field.invalid", has=clerk.locator("#f-id_number"))
    assert field.count() == 1, clerk.locator("main").inner_text()[:1500]
    assert field.locator(".field-error").inner_text().strip() != ""
    assert clerk.locator("#f-summary").input_value() == summary, "the form keeps what was typed"
    shot(clerk, "clerk-register-error")

    clerk.fill("#f-id_number", id_number())
    clerk.click("text=查重（在先案件）")
    clerk.wait_for_load_state()
    assert clerk.locator("#hints").count() == 1
    clerk.click("button.primary")
    clerk.wait_for_load_state()
    case_no = clerk.locator("#case-no").inner_text().strip()
    code = clerk.locator("#query-code").inner_text().strip()
    assert re.match(r"^[A-Z]+-", case_no), case_no
    assert len(code) >= 8
    clerk.click("text=打开案件")
    clerk.wait_for_load_state()
    case_url = clerk.url
    case_path = case_url[case_url.index("/console/cases/"):]
    assert name in clerk.locator("main").inner_text(), "the clerk of the township sees the petitioner"
    offered = clerk.locator("details.act summary").all_inner_texts()
    assert "受理" in offered and "交办" not in offered, offered
    act(clerk, "受理")
    shot(clerk, "clerk-case")

    county = as_role("county")
    county.click("header nav >> text=案件查询")
    county.fill("input[name=q]", case_no)
    county.click("button:text-is('查询')")
    county.wait_for_load_state()
    county.click(f"text={case_no}")
    county.wait_for_load_state()
    act(county, "交办", selects={"unit": "县自然资源局"}, fields={"note": "请依法核查处理"})

    handler = as_role("handler")
    for _ in range(40):
        if handler.locator(f"text={case_no}").count():
            break
        handler.wait_for_timeout(250)
        handler.reload()
    assert handler.locator(f"text={case_no}").count() == 1, "the case is in the handler's queue"
    handler.click(f"text={case_no}")
    handler.wait_for_load_state()
    act(handler, "答复", selects={"outcome": "支持"}, fields={"text": "经核查，补偿款已于本月发放。"})
    act(handler, "回访", selects={"satisfaction": "满意"})
    act(handler, "办结")
    facts = handler.locator("dl.facts").inner_text()
    assert "已办结" in facts
    timeline = handler.locator("table.timeline tbody tr")
    assert timeline.count() == 6, timeline.all_inner_texts()
    kinds = [timeline.nth(i).locator("td").nth(1).inner_text() for i in range(6)]
    assert kinds == ["登记", "受理", "交办", "答复", "回访", "办结"], kinds
    assert "县自然资源局" in timeline.nth(2).inner_text(), "units by name, not code"

    # The figures count it: one more case, one more closed (read models catch up within seconds).
    for _ in range(40):
        if stats_figure(analyst, "gaoqiao", "办结") == closed_before + 1:
            break
        analyst.wait_for_timeout(250)
    assert stats_figure(analyst, "gaoqiao", "件") == items_before + 1
    assert stats_figure(analyst, "gaoqiao", "办结") == closed_before + 1

    # The analyst sees no personal data anywhere, and no case page.
    stats_text = analyst.locator("body").inner_text()
    assert name not in stats_text and summary not in stats_text
    with analyst.expect_download() as d:
        analyst.click("text=下载各乡镇数据（CSV）")
    csv = open(d.value.path(), encoding="utf-8-sig").read()
    assert "高桥镇" in csv and name not in csv
    resp = analyst.goto(case_path)
    assert resp.status in (403, 404), resp.status
    assert name not in analyst.content() and summary not in analyst.content()

    # A clerk of another township cannot open it by its address: the same 404 as no case.
    other = as_role("clerk_other")
    resp = other.goto(case_path)
    assert resp.status == 404
    assert "未找到" in other.locator("h1").inner_text()
    assert name not in other.content()

    # The auditor finds it by number: history and the verification of its chain.
    auditor = as_role("auditor")
    auditor.fill("input[name=case_no]", case_no)
    auditor.click("button:text-is('确定')")
    auditor.wait_for_load_state()
    assert "已核验" in auditor.locator("#verification").inner_text()
    assert auditor.locator("table.timeline tbody tr").count() == 6
    assert auditor.locator("details.act").count() == 0, "an auditor changes nothing"
    shot(auditor, "auditor-case")

    # The petitioner's page: the right code answers, a wrong one is refused.
    public = new_page()
    public.goto("/console/status")
    public.fill("#case_no", case_no)
    public.fill("#code", code)
    public.click("button[type=submit]")
    result = public.locator("#status-result").inner_text()
    assert "已办结" in result and "是" in result, result
    assert "经核查，补偿款已于本月发放。" in result, "the reply's text (issue 33, finding 7)"
    assert "登记；" in result and "回访；" in result and result.count("办结") >= 1, result
    assert name not in public.content()
    shot(public, "petitioner-status")
    public.fill("#case_no", case_no)
    public.fill("#code", "WRONGCOD")
    public.click("button[type=submit]")
    assert "不正确" in public.locator(".error").inner_text()
    assert public.locator("#status-result").count() == 0
    assert code not in public.url and case_no not in public.url, "nothing of the case in the URL"


def test_the_statistics_page_draws_its_charts_offline(as_role):
    page = as_role("analyst")
    page.goto(f"/console/stats?from={today()[:4]}-01-01&to={today()}")
    for chart in ["#chart-channel", "#chart-months", "#chart-townships"]:
        page.wait_for_selector(f"{chart}[data-ready='1'] canvas")
    tables = page.locator("table").all_inner_texts()
    assert any("办结率" in t and "/" in t for t in tables), "rates with numerator and denominator"
    page.wait_for_timeout(300)
    shot(page, "analyst-stats")
    page.goto("/console/scorecards")
    assert page.locator("table tbody tr").count() >= 1
    shot(page, "analyst-scorecards")


def test_county_workbench_filters_and_the_supervision_board(as_role):
    page = as_role("county")
    assert page.locator("table.cases tbody tr").count() >= 1
    page.select_option("select[name=status]", "overdue")
    page.click("button:text-is('筛选')")
    page.wait_for_load_state()
    rows = page.locator("table.cases tbody tr")
    assert rows.count() >= 1 and "没有" not in rows.first.inner_text(), "the demo has overdue cases"
    classes = [rows.nth(i).get_attribute("class") for i in range(rows.count())]
    assert all(c == "overdue" for c in classes), classes
    page.click("header nav >> text=督办")
    page.wait_for_load_state()
    assert "督办" in page.locator("h1").inner_text()
    shot(page, "county-supervision")
    page.goto(f"/console/workbench?as_of={today()}")
    assert "正在查看截至" in page.locator(".asof").inner_text()

    # 领导包案: a leader is named on a case page; the workbench's filter finds the case.
    case = register_by_api(page)
    page.goto(f"/console/cases/{case['case_id']}")
    act(page, "确定包案领导", fields={"name": "王建国", "title": "副县长"})
    page.goto("/console/workbench?flag=leader")
    row = page.locator("table.cases tbody tr", has_text=case["case_no"])
    assert row.count() == 1, page.locator("table.cases").inner_text()[:2000]
    assert "包案：副县长王建国" in row.inner_text()
    assert all("包案" in r for r in page.locator("table.cases tbody tr").all_inner_texts())


def test_sessions_are_sealed_http_only_and_strict(as_role):
    page = as_role("clerk")
    cookies = page.context.cookies()
    session = [c for c in cookies if c["name"] == "xf_session"]
    assert len(session) == 1
    c = session[0]
    assert c["httpOnly"] and c["sameSite"] == "Strict" and c["path"] == "/console"
    assert TOKENS["clerk"] not in c["value"], "the token is sealed, not stored as it is"
    assert page.evaluate("document.cookie") == "", "scripts cannot read the session"


def test_a_form_without_its_csrf_token_is_refused(as_role):
    page = as_role("county")
    resp = page.request.post(
        "/console/register",
        form={"township": "gaoqiao", "summary": "x"},
        headers={"Origin": page.url.split("/console")[0]},
    )
    assert resp.status == 403
    assert "表单已失效" in resp.text()
    resp = page.request.post(
        "/console/logout", form={}, headers={"Origin": "http://evil.example"}
    )
    assert resp.status == 403


def test_pages_fit_a_phone_and_work_by_keyboard(new_page):
    page = new_page((390, 844))
    page.goto("/console/login")
    assert page.evaluate("document.activeElement.id") == "token", "the token field has focus"
    page.keyboard.type(TOKENS["clerk"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/console/queue")
    # The first Tab reaches the skip link, which leads to the page's content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"
    shot(page, "clerk-queue-phone")
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in family and "Microsoft YaHei" in family


def test_unknown_pages_and_problems_are_pages_not_traces(as_role, new_page):
    page = as_role("clerk")
    resp = page.goto("/console/cases/not-a-case-id")
    assert resp.status in (400, 404)
    assert page.locator("h1").count() == 1
    assert "panicked" not in page.content() and "stack" not in page.content()
    resp = page.goto("/console/no-such-page")
    assert resp.status == 404 and "没有这个页面" in page.content()
    anon = new_page()
    resp = anon.goto("/")
    assert anon.url.endswith("/console/login")


def register_by_api(page, token="demo-county-token", **fields):
    """A case registered through the API (for the tests that are not about registering);
    `fields` replace those of the body."""
    body = {
        "township": "gaoqiao", "channel": "letter", "received_at": received_now(),
        "headcount": 1, "level_reached": "township", "category": "wages",
        "summary": "拖欠工资（界面测试）", "petitioners": [{"name": f"证据人{random.randint(1000, 9999)}"}],
    }
    body.update(fields)
    resp = page.request.post(
        "/v1/cases", headers={"Authorization": f"Bearer {token}"}, data=body
    )
    assert resp.status == 201, resp.text()
    return resp.json()


def accepted_case_page(page):
    """A case registered and accepted by the county through the API, its page open."""
    case = register_by_api(page)
    resp = page.request.post(
        f"/v1/cases/{case['case_id']}/accept",
        headers={"Authorization": "Bearer demo-county-token"}, data={},
    )
    assert resp.status == 200, resp.text()
    page.goto(f"/console/cases/{case['case_id']}")
    return case


def test_evidence_is_uploaded_and_downloaded_from_the_case_page(as_role, tmp_path):
    page = as_role("county")
    case = register_by_api(page)
    page.goto(f"/console/cases/{case['case_id']}")
    pdf = tmp_path / "来信.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% console test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    page.set_input_files("input[type=file]", str(pdf))
    page.click("button:text-is('上传')")
    page.wait_for_load_state()
    assert "已添加证据材料" in page.locator(".notice").inner_text()
    link = page.locator("ul.files a", has_text="来信.pdf")
    assert link.count() == 1
    with page.expect_download() as d:
        link.click()
    assert open(d.value.path(), "rb").read() == pdf.read_bytes()
    kinds = page.locator("table.timeline tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds == ["登记", "添加证据材料"], kinds


def test_a_registration_sent_twice_registers_once(as_role):
    page = as_role("clerk")
    page.goto("/console/register")
    page.fill("#f-headcount", "1")
    page.fill("#f-summary", f"重复提交测试 {random.randint(0, 10**9)}")
    page.fill("#f-name", f"重复人{random.randint(1000, 9999)}")
    fields = page.eval_on_selector(
        "form.register",
        "f => Object.fromEntries(new FormData(f).entries())",
    )
    origin = page.url.split("/console")[0]
    answers = [
        page.request.post("/console/register", form=fields, headers={"Origin": origin})
        for _ in range(2)
    ]
    assert [a.status for a in answers] == [201, 201], [a.text()[:500] for a in answers]
    numbers = [re.search(r'id="case-no">([^<]+)<', a.text()).group(1) for a in answers]
    assert numbers[0] == numbers[1], numbers


def test_an_auditor_reads_a_trail_and_a_case_as_it_was(as_role):
    county = as_role("county")
    case = register_by_api(county)
    county.goto(f"/console/cases/{case['case_id']}")
    act(county, "受理")
    auditor = as_role("auditor")
    auditor.goto(f"/console/audit/actor?principal=county-zhang&from={today()}&to={today()}")
    rows = auditor.locator("table tbody tr").all_inner_texts()
    assert any("登记" in r for r in rows) and any("受理" in r for r in rows), rows
    shot(auditor, "auditor-trail")
    yesterday = (datetime.date.fromisoformat(today()) - datetime.timedelta(days=1)).isoformat()
    resp = auditor.goto(f"/console/cases/{case['case_id']}?as_of={yesterday}")
    assert resp.status == 404, "the case did not exist yesterday"
    auditor.goto(f"/console/cases/{case['case_id']}?as_of={today()}")
    assert auditor.locator(".asof").count() == 1, auditor.locator("main").inner_text()[:1000]
    assert "正在查看截至" in auditor.locator(".asof").inner_text()
    ref = f"依申请删除-{random.randint(0, 10**9)}"
    resp = county.request.post(
        f"/v1/cases/{case['case_id']}/erase-personal-data",
        headers={"Authorization": "Bearer demo-county-token"},
        data={"reason": "本人申请删除", "request_ref": ref},
    )
    assert resp.status == 201, resp.text()
    auditor.goto("/console/audit/records")
    assert auditor.locator("h2", has_text="核减").count() >= 1
    erasure = auditor.locator("tr", has_text=ref)
    assert erasure.count() == 1, auditor.locator("main").inner_text()[:1500]
    assert case["case_no"] in erasure.inner_text() and "待批准" in erasure.inner_text()


def test_a_clerk_finds_a_case_by_the_petitioners_name_its_serial_or_its_number_in_small_letters(as_role):
    county = as_role("county")
    case = register_by_api(county)
    name = case["case"]["petitioners"][0]["name"]
    serial = case["case_no"].rsplit("-", 1)[1]
    for q in [name, serial, case["case_no"].lower()]:
        county.goto("/console/cases")
        county.fill("input[name=q]", q)
        county.press("input[name=q]", "Enter")
        county.wait_for_load_state()
        row = county.locator("table.cases tbody tr", has_text=case["case_no"])
        assert row.count() == 1, (q, county.locator("main").inner_text()[:1500])


def test_the_check_tells_a_clerk_of_a_duplicate_in_a_township_it_cannot_see(as_role):
    county = as_role("county")
    person = id_number("19720303")
    other = register_by_api(
        county, township="dongcheng", channel="visit", category="land",
        summary="宅基地纠纷（东城）", petitioners=[{"name": "他乡人", "id_number": person}],
    )
    clerk = as_role("clerk")
    clerk.goto("/console/register")
    clerk.select_option("#f-category", label="土地")
    clerk.fill("#f-name", "他乡人")
    clerk.fill("#f-id_number", person)
    clerk.click("text=查重（在先案件）")
    clerk.wait_for_load_state()
    notice = " ".join(clerk.locator("p.notice").all_inner_texts())
    assert "一信多投" in notice and "初信初访" not in notice, notice
    assert other["case_no"] not in clerk.locator("main").inner_text(), "not the case itself"


def test_a_returning_petitioner_is_hinted_at_registration_and_linked_on_the_case_page(as_role):
    county = as_role("county")
    person = id_number("19700202")
    first = register_by_api(
        county, channel="visit", category="land", summary="宅基地纠纷（第一次）",
        petitioners=[{"name": "回访人", "id_number": person}],
    )

    clerk = as_role("clerk")
    clerk.goto("/console/register")
    clerk.fill("#f-headcount", "2")
    clerk.select_option("#f-category", label="土地")
    clerk.fill("#f-summary", "宅基地纠纷（再次来访）")
    clerk.fill("#f-name", "回访人")
    clerk.fill("#f-id_number", person)
    clerk.fill("#f-others", f"同行人，{id_number('19750505')}")
    clerk.click("text=查重（在先案件）")
    clerk.wait_for_load_state()
    hint = clerk.locator("#hints li", has_text=first["case_no"])
    assert hint.count() == 1, clerk.locator("main").inner_text()[:1500]
    assert "可能一信多投" in hint.inner_text(), "open, same category"
    assert clerk.locator("#f-others").input_value().startswith("同行人"), "the form keeps the others"
    clerk.click("button.primary")
    clerk.wait_for_load_state()
    notes = " ".join(clerk.locator("p.notice").all_inner_texts())
    assert "重复访" in notes, notes
    second_no = clerk.locator("#case-no").inner_text().strip()
    clerk.click("text=打开案件")
    clerk.wait_for_load_state()
    assert "同行人" in clerk.locator("dl.facts").inner_text(), "both petitioners registered"
    second_path = clerk.url[clerk.url.index("/console/cases/"):]

    county.goto(second_path)
    related = county.locator("#related")
    assert first["case_no"] in related.inner_text(), county.locator("main").inner_text()[:1500]
    assert second_no in county.locator("h1").inner_text()


def test_the_loop_of_a_petition_through_the_console(as_role, new_page):
    """Issue 33: the county registers for a township and reminds it (催办); the township
    acknowledges (签收) and replies; after 不满意 the closure without a note is refused and the
    county reopens (重办); handled again, it closes; a lost query code is reissued."""
    name = f"回访人{random.randint(10000, 99999)}"
    county = as_role("county")
    county.click("header nav >> text=登记")
    county.select_option("#f-township", label="高桥镇")
    county.select_option("#f-channel", label="电话")
    county.fill("#f-headcount", "1")
    county.select_option("#f-level_reached", label="乡镇级")
    county.select_option("#f-category", label="社会保障")
    county.fill("#f-summary", f"养老金停发未说明原因（界面测试 {random.randint(0, 10**9)}）")
    county.fill("#f-name", name)
    county.click("button.primary")
    county.wait_for_load_state()
    case_no = county.locator("#case-no").inner_text().strip()
    old_code = county.locator("#query-code").inner_text().strip()
    county.click("text=打开案件")
    county.wait_for_load_state()
    case_path = county.url[county.url.index("/console/cases/"):]
    offered = county.locator("details.act summary").all_inner_texts()
    assert "签收" not in offered and "催办" in offered, offered
    act(county, "催办", fields={"note": "请三日内受理并答复"})
    assert "1 次" in county.locator("dl.facts").inner_text()

    clerk = as_role("clerk")
    clerk.goto(case_path)
    assert "待签收" in clerk.locator("dl.facts").inner_text()
    act(clerk, "签收")
    assert "已签收" in clerk.locator("dl.facts").inner_text()
    act(clerk, "受理")
    # 打印受理告知书: the first print by the township numbers it; the PDF comes through the console.
    assert "打印受理告知书" in clerk.locator("#documents").inner_text()
    pdf = clerk.request.get(f"{case_path}/documents/acceptance_notice")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf", pdf.status
    assert pdf.body()[:5] == b"%PDF-"
    act(clerk, "答复", selects={"outcome": "解释说明"}, fields={"text": "经核查系信息比对异常，已恢复发放。"})

    county.goto(case_path)
    act(county, "回访", selects={"satisfaction": "不满意"})
    close = county.locator("details.act", has=county.locator("summary:text-is('办结')"))
    close.locator("summary").click()
    close.locator("button[type=submit]").click()
    county.wait_for_load_state()
    assert "须填写说明" in county.locator(".error").inner_text()
    act(county, "重办", fields={"reason": "停发期间的养老金未补发"})
    facts = county.locator("dl.facts").inner_text()
    assert "重办" in facts and "待签收" in facts, facts

    clerk.goto(case_path)
    act(clerk, "签收")
    act(clerk, "答复", selects={"outcome": "支持"}, fields={"text": "停发期间的养老金已补发到账。"})
    county.goto(case_path)
    act(county, "回访", selects={"satisfaction": "满意"})
    act(county, "办结")
    kinds = county.locator("table.timeline tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds == ["登记", "催办", "签收", "受理", "出具文书", "答复", "回访", "重办", "签收", "答复", "回访", "办结"], kinds
    assert "高桥镇〔" in county.locator("table.timeline").inner_text(), "the 文号 in the timeline"
    shot(county, "county-closed-loop")

    # The petitioner lost the code: the township gives a new one, the old one stops working.
    form = clerk.locator("details.act", has=clerk.locator("summary:text-is('重发查询码')"))
    clerk.goto(case_path)
    form.locator("summary").click()
    form.locator("button[type=submit]").click()
    clerk.wait_for_load_state()
    notice = clerk.locator(".notice").inner_text()
    new_code = re.search(r"新的查询码：([A-Z0-9]+)", notice).group(1)
    assert new_code != old_code and new_code not in clerk.url
    public = new_page()
    for code, ok in [(old_code, False), (new_code, True)]:
        public.goto("/console/status")
        public.fill("#case_no", case_no)
        public.fill("#code", code)
        public.click("button[type=submit]")
        assert (public.locator("#status-result").count() == 1) == ok, code
    result = public.locator("#status-result").inner_text()
    assert "重办" in result and "停发期间的养老金已补发到账。" in result, result
    assert name not in public.content()


def test_a_link_followed_while_signed_out_returns_to_its_page_after_sign_in(new_page):
    """Issue 34, finding 7: a deep link, then sign-in, lands on the page asked for; a `next`
    that leads off the console is ignored."""
    page = new_page()
    page.goto("/console/stats?group_by=category")
    assert "/console/login?next=" in page.url, page.url
    assert "登录后回到" in page.locator(".login").inner_text()
    page.fill("#token", TOKENS["analyst"])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/console/stats?group_by=category"), page.url
    for off_site in ["//evil.example/console/", "https://evil.example/", "/console//evil.example"]:
        other = new_page()
        other.goto("/console/login?next=" + urllib.parse.quote(off_site, safe=""))
        other.fill("#token", TOKENS["analyst"])
        other.click("button[type=submit]")
        other.wait_for_load_state()
        assert other.url.endswith("/console/stats"), (off_site, other.url)


def test_a_case_prints_without_controls_and_reads_in_large_text(as_role, new_page):
    """Issue 34, finding 8: a print stylesheet (no navigation, buttons, step forms or upload box),
    大字 that stays chosen in this browser, and a timeline whose content is readable on a phone."""
    page = as_role("county")
    case = register_by_api(page, summary="拖欠工资三个月，共计人民币一万二千元（打印与大字测试）")
    page.goto(f"/console/cases/{case['case_id']}")
    size = lambda: page.evaluate("getComputedStyle(document.body).fontSize")
    assert size() == "15px"
    page.click("button[data-textsize]")
    assert size() == "19px"
    assert page.get_attribute("button[data-textsize]", "aria-pressed") == "true"
    page.reload()
    assert size() == "19px", "大字 is kept in this browser"
    shot(page, "county-case-large-text")
    page.click("button[data-textsize]")
    assert size() == "15px"
    page.emulate_media(media="print")
    for hidden in ["header nav", ".who", "details.act", ".upload", "button[data-textsize]"]:
        if page.locator(hidden).count():
            assert not page.locator(hidden).first.is_visible(), f"{hidden} prints"
    assert page.locator("table.timeline").is_visible()
    assert page.locator("h1").is_visible()
    page.emulate_media(media="screen")
    assert page.locator("header nav").is_visible()

    phone = as_role("county", (390, 844))
    phone.goto(f"/console/cases/{case['case_id']}")
    cell = phone.locator("table.timeline td.content").first
    width = cell.evaluate("td => td.getBoundingClientRect().width")
    assert width > 300, f"the timeline's content is {width}px wide on a phone"
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the case page is {overflow}px wider than the phone"
    shot(phone, "county-case-phone")


def test_figures_are_named_in_chinese_on_the_records_and_the_scorecards(as_role):
    """Issue 34, findings 1 and 5: the 核减 table's 指标 and the scorecard's headers name the
    figures as a report does, not by their API codes (`items`, `reply_on_time_rate`)."""
    county = as_role("county")
    case = register_by_api(county)
    ref = f"核减〔2026〕{random.randint(0, 10**9)}号"
    resp = county.request.post(
        "/v1/adjustments",
        headers={"Authorization": "Bearer demo-county-token"},
        data={"case_id": case["case_id"], "measure": "items", "reason": "重复登记", "document_no": ref},
    )
    assert resp.status in (200, 201), resp.text()
    auditor = as_role("auditor")
    auditor.goto("/console/audit/records")
    row = auditor.locator("tr", has_text=ref)
    assert row.count() == 1, auditor.locator("main").inner_text()[:1500]
    cells = row.locator("td").all_inner_texts()
    assert "件" in cells and "items" not in cells, cells
    analyst = as_role("analyst")
    analyst.goto("/console/scorecards")
    headers = analyst.locator("table thead th").all_inner_texts()
    assert "按期答复率" in headers or "办结率" in headers, headers
    assert not any(h.endswith("_rate") for h in headers), headers


def test_an_auditor_picks_an_official_and_is_told_of_an_unknown_one_and_of_a_date_that_is_none(as_role, new_page):
    """Issue 34, finding 6: the trail's account is picked from the county's officials; an
    unknown account is said to be unknown, not shown as a clean record; an invalid 截至日期 is
    refused, never shown as the live state."""
    auditor = as_role("auditor")
    auditor.goto("/console/audit/actor")
    options = auditor.locator("select[name=principal] option").all_inner_texts()
    assert any(o.startswith("county-zhang") for o in options), options
    auditor.select_option("select[name=principal]", "county-zhang")
    auditor.locator("main form button[type=submit]").first.click()
    auditor.wait_for_load_state()
    assert "county-zhang 的操作" in auditor.locator("main").inner_text()
    resp = auditor.goto(f"/console/audit/actor?principal=nobody-x&from={today()}&to={today()}")
    assert resp.status == 404
    assert "没有账号为“nobody-x”的工作人员" in auditor.locator(".error").inner_text()
    for path in ["/console/workbench?as_of=2026-02-30", "/console/audit/actor?principal=county-zhang&as_of=yesterday"]:
        resp = auditor.goto(path)
        assert resp.status == 400, path
        assert "不是有效的日期" in auditor.locator("main").inner_text(), path


def test_the_registration_form_says_every_problem_at_once_and_drops_nothing(as_role):
    """Issue 34, finding 3: an empty form names every missing field in one answer; a
    co-petitioner line with a part that is no ID or phone number is refused at its field (and kept
    as typed); 人数 below the petitioners named is refused."""
    page = as_role("clerk")
    page.goto("/console/register")
    page.fill("#f-received_at", "")
    page.click("button.primary")
    errors = page.locator(".field-error").all_inner_texts()
    assert len(errors) >= 4, errors
    assert any("事项摘要" in e for e in errors) and any("信访人姓名" in e for e in errors), errors
    page.fill("#f-received_at", now().strftime("%Y-%m-%dT%H:%M"))
    page.fill("#f-headcount", "1")
    page.fill("#f-summary", "拖欠工资（多人登记测试）")
    page.fill("#f-name", "甲某")
    page.fill("#f-others", "乙某，12345\n丙某")
    page.click("button.primary")
    others = page.locator(".field.invalid", has=page.locator("#f-others"))
    assert "12345" in others.inner_text(), page.locator("main").inner_text()[:1500]
    assert page.input_value("#f-others") == "乙某，12345\n丙某", "what was typed is kept"
    page.fill("#f-others", "乙某\n丙某")
    page.click("button.primary")
    headcount = page.locator(".field.invalid", has=page.locator("#f-headcount"))
    assert "少于所列信访人（3 人）" in headcount.inner_text(), page.locator("main").inner_text()[:1500]


def test_a_step_refused_comes_back_open_with_what_was_typed_and_in_the_forms_words(as_role):
    """Issue 34, finding 2: a step the API refuses returns its form open with everything typed
    in it, and the message names the form's label (延期天数), not the body's field (`days`)."""
    page = as_role("county")
    case = accepted_case_page(page)
    form = page.locator("details.act", has=page.locator("summary:text-is('延期')"))
    form.locator("summary").click()
    reason = "需要补充调查取证，涉及三个村组的土地台账（保留测试）"
    form.locator("[name=days]").fill("99")
    form.locator("[name=reason]").fill(reason)
    form.locator("[name=approved_by]").fill("王局长")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    error = page.locator(".error").inner_text()
    assert "延期天数" in error and "days" not in error, error
    form = page.locator("details.act", has=page.locator("summary:text-is('延期')"))
    assert form.get_attribute("open") is not None, "the refused step's form is open"
    assert form.locator("[name=reason]").input_value() == reason
    assert form.locator("[name=days]").input_value() == "99"
    assert form.locator("[name=approved_by]").input_value() == "王局长"


def test_a_unit_picker_asks_instead_of_choosing_the_first_unit(as_role):
    """Issue 34, finding 4: 交办 and 转送 start with no unit chosen; sent so, the step is refused
    with the form's own label and nothing is assigned to whichever unit came first."""
    page = as_role("county")
    case = accepted_case_page(page)
    for label in ["交办", "转送"]:
        form = page.locator("details.act", has=page.locator(f"summary:text-is('{label}')"))
        chosen = form.locator("select[name=unit] option:checked").text_content()
        assert chosen == "请选择单位", (label, chosen)
    form = page.locator("details.act", has=page.locator("summary:text-is('交办')"))
    form.locator("summary").click()
    form.locator("[name=note]").fill("请依法核查")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "交办单位" in page.locator(".error").inner_text(), page.locator("main").inner_text()[:800]
    assert page.locator("details.act[open] [name=note]").input_value() == "请依法核查"


def test_the_analyst_sees_leader_receptions_and_repeat_persons_as_the_api_counts_them(as_role):
    """Issue 34, finding 5: 领导接访 and 重复访人次 are the API's figures, not the channel row's."""
    page = as_role("analyst")
    first = today()[:4] + "-01-01"
    page.goto(f"/console/stats?from={first}&to={today()}")
    resp = page.request.get(
        f"/v1/stats?from={first}&to={today()}",
        headers={"Authorization": "Bearer demo-analyst-token"},
    )
    assert resp.status == 200, resp.text()
    total = resp.json()["total"]
    shown = {}
    for row in page.locator("table").first.locator("tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        shown[cells[0]] = cells[1]
    for label, key in [
        ("领导接访批次", "leader_reception_batches"),
        ("领导接访人次", "leader_reception_persons"),
        ("重复访人次", "repeat_persons"),
    ]:
        assert shown.get(label) == str(total[key]), (label, shown.get(label), total[key])


def adjusted_items(page, township):
    page.goto(f"/console/stats?from={today()}&to={today()}&township={township}&adjusted=1")
    row = page.locator("table").first.locator("tr", has=page.locator("td:text-is('件')"))
    return int(row.locator("td").nth(1).inner_text())


def test_the_county_asks_for_a_核减_and_an_erasure_and_an_auditor_approves_them_in_the_console(as_role):
    """Issue 34, finding 1: governance without curl. The county asks on the case page; an
    auditor approves on 核减与删除; the analyst's adjusted figures change; the erasure is done."""
    analyst = as_role("analyst")
    before = adjusted_items(analyst, "gaoqiao")
    county = as_role("county")
    case = register_by_api(county)
    deadline = time.time() + 15
    while adjusted_items(analyst, "gaoqiao") != before + 1 and time.time() < deadline:
        time.sleep(0.5)
    assert adjusted_items(analyst, "gaoqiao") == before + 1
    county.goto(f"/console/cases/{case['case_id']}")
    doc_no = f"核减〔2026〕{random.randint(0, 10**9)}号"
    form = county.locator("details#govern-adjust")
    form.locator("summary").click()
    form.locator("select[name=measure]").select_option(label="件")
    form.locator("[name=reason]").fill("同一事项重复登记")
    form.locator("[name=document_no]").fill(doc_no)
    form.locator("button[type=submit]").click()
    county.wait_for_load_state()
    assert "已申请核减" in county.locator(".notice").inner_text()
    ref = f"删除申请〔2026〕{random.randint(0, 10**9)}号"
    form = county.locator("details#govern-erase")
    form.locator("summary").click()
    form.locator("[name=reason]").fill("信访人依法申请删除个人信息")
    form.locator("[name=request_ref]").fill(ref)
    form.locator("button[type=submit]").click()
    county.wait_for_load_state()
    assert county.locator(".notice").count() == 1, county.locator("main").inner_text()[:800]

    auditor = as_role("auditor")
    auditor.goto("/console/audit/records")
    row = auditor.locator("tr", has_text=doc_no)
    assert "待批准" in row.inner_text()
    row.locator("button", has_text="批准").click()
    auditor.wait_for_load_state()
    assert "已批准核减" in auditor.locator(".notice").inner_text()
    assert "已批准" in auditor.locator("tr", has_text=doc_no).inner_text()
    row = auditor.locator("tr", has_text=ref)
    row.locator("button", has_text="批准删除").click()
    auditor.wait_for_load_state()
    assert "已删除" in auditor.locator("tr", has_text=ref).inner_text()
    shot(auditor, "auditor-records")
    deadline = time.time() + 15
    while adjusted_items(analyst, "gaoqiao") != before and time.time() < deadline:
        time.sleep(0.5)
    assert adjusted_items(analyst, "gaoqiao") == before, "the approved 核减 leaves the adjusted figure"


def test_a_reversed_period_is_said_above_the_form_and_only_townships_are_offered(as_role):
    """Issue 34, finding 5: a period that ends before it starts is an error above the form (which
    stays, as typed), not a page of its own; the 乡镇 filter offers townships, not departments."""
    page = as_role("analyst")
    resp = page.goto(f"/console/stats?from={today()}&to=2020-01-01")
    assert resp.status in (400, 422), resp.status
    assert page.locator(".error").count() == 1
    error = page.locator(".error").inner_text()
    assert "晚于" in error and "from" not in error, error
    assert page.input_value("form.filters input[name=to]") == "2020-01-01"
    page.goto("/console/stats")
    options = page.locator("select[name=township] option").all_text_contents()
    assert "高桥镇" in options, options
    assert not any(o.endswith("局") for o in options), options


def test_the_channel_table_shows_its_rates_on_screen(as_role):
    """Issue 34, finding 5: per-channel rates on the page, not only in the CSV."""
    page = as_role("analyst")
    page.goto("/console/stats")
    table = page.locator("section", has=page.locator("h2:text-is('按渠道')")).locator("table")
    headers = table.locator("thead th").all_inner_texts()
    assert headers[-3:] == ["办结率", "按期办结率", "满意率"], headers
    assert table.locator("tbody tr").count() >= 1


def test_the_workbench_narrows_by_township_and_unit_on_its_form_and_shows_each_cases_gist(as_role):
    """Issue 34, finding 4: the workbench's unit and township filters are on its form (not only
    in the URL), and each row shows the beginning of its summary."""
    page = as_role("county")
    page.goto("/console/workbench")
    assert "摘要" in page.locator("table.cases thead").inner_text()
    gists = page.locator("table.cases td.glance").all_inner_texts()
    assert any(g.strip() for g in gists), gists
    page.select_option("select[name=township]", label="东城镇")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "township=dongcheng" in page.url, page.url
    assert page.locator("select[name=township] option:checked").text_content() == "东城镇"
    numbers = page.locator("table.cases tbody tr a[href^='/console/cases/']").all_inner_texts()
    assert numbers and all(n.startswith("DONGCHENG-") for n in numbers), numbers
    page.select_option("select[name=unit]", label="县自然资源局")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    units = page.locator("table.cases tbody tr:not(:has(td.muted)) td:nth-child(6)").all_inner_texts()
    assert all(u == "县自然资源局" for u in units), units


def test_a_correction_changes_any_fact_and_the_timeline_shows_old_and_new(as_role):
    """Issue 34, finding 3: 更正 corrects the category (and channel, level, received time) too,
    and the timeline shows each corrected fact as old → new."""
    page = as_role("county")
    case = register_by_api(page, summary="原摘要：工资拖欠（更正测试）")
    page.goto(f"/console/cases/{case['case_id']}")
    form = page.locator("details.act", has=page.locator("summary:text-is('更正')"))
    form.locator("summary").click()
    form.locator("[name=reason]").fill("登记时类别选错")
    form.locator("select[name=category]").select_option(label="土地")
    form.locator("[name=summary]").fill("新摘要：征地补偿（更正测试）")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".notice").count() == 1, page.locator("main").inner_text()[:1000]
    row = page.locator("table.timeline tbody tr", has_text="更正登记信息")
    text = row.inner_text()
    assert "类别：劳资欠薪 → 土地" in text, text
    assert "摘要：原摘要：工资拖欠（更正测试） → 新摘要：征地补偿（更正测试）" in text, text


def test_the_workbench_list_downloads_as_csv_whole_and_under_its_filters(as_role):
    """Issue 34, finding 4: the list downloads as CSV, every page of it, under the same filters."""
    page = as_role("county")
    page.goto("/console/workbench?stage=handling")
    link = page.locator("a", has_text="下载本列表（CSV）")
    href = link.get_attribute("href")
    assert "stage=handling" in href, href
    resp = page.request.get(href)
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
    text = resp.body().decode("utf-8")
    assert text.startswith("\ufeff案件编号,摘要,状态,阶段,责任单位"), text[:80]
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    assert rows and all(r[3] == "办理中" for r in rows), rows[:3]
    page.goto("/console/workbench")
    open_cases = int(page.locator(".counts li", has_text="在办").locator("strong").inner_text())
    whole = page.request.get(page.locator("a", has_text="下载本列表（CSV）").get_attribute("href"))
    rows = list(csv.reader(io.StringIO(whole.body().decode("utf-8").lstrip("\ufeff"))))[1:]
    assert len(rows) == open_cases, (len(rows), open_cases)


def test_the_demo_speaks_chinese(as_role):
    """Issue 34: demo data entirely in Chinese (summaries, reasons, replies, addresses)."""
    page = as_role("county")
    page.goto("/console/workbench")
    gists = [g for g in page.locator("table.cases td.glance").all_inner_texts() if g.strip()]
    assert gists, "no summaries on the workbench"
    latin = [g for g in gists if re.search(r"[A-Za-z]{3,}", g)]
    assert not latin, latin[:5]
    first = page.locator("table.cases tbody tr a[href^='/console/cases/']").first
    first.click()
    page.wait_for_load_state()
    details = page.locator("table.timeline td.content").all_inner_texts()
    # Case numbers (GAOQIAO-2026-000065) are the one Latin the timeline may hold.
    latin = [d for d in details if re.search(r"[A-Za-z]{4,}", re.sub(r"[A-Z_]+-\d{4}-\d+", "", d))]
    assert not latin, latin[:5]


def test_a_registration_sent_after_the_session_ended_goes_on_after_signing_in_again(as_role):
    """Issue 34, finding 2: an expired session no longer drops a registration without a word:
    sign-in says so, carries what was typed, and the form comes back filled in."""
    page = as_role("clerk")
    page.goto("/console/register")
    summary = f"会话过期后继续登记（{random.randint(0, 10**9)}）"
    page.fill("#f-received_at", now().strftime("%Y-%m-%dT%H:%M"))
    page.fill("#f-headcount", "1")
    page.fill("#f-summary", summary)
    page.fill("#f-name", "续登某")
    page.context.clear_cookies()
    page.click("button.primary")
    page.wait_for_load_state()
    assert "登录已过期" in page.locator(".error").inner_text()
    page.fill("#token", TOKENS["clerk"])
    page.click(".login button[type=submit]")
    page.wait_for_load_state()
    page.click("text=继续填写")
    page.wait_for_load_state()
    assert page.input_value("#f-summary") == summary
    assert page.input_value("#f-name") == "续登某"
    page.click("button.primary")
    page.wait_for_load_state()
    assert "登记完成" in page.title(), page.locator("main").inner_text()[:800]


def test_scorecards_offer_the_adjusted_figures_and_download_as_csv(as_role):
    """Issue 34, finding 5: the scorecard's 口径 (核减后) is on its form, and it downloads as CSV."""
    page = as_role("analyst")
    page.goto("/console/scorecards")
    page.select_option("select[name=adjusted]", label="核减后")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "adjusted=true" in page.url, page.url
    href = page.locator("a", has_text="下载考核结果（CSV）").get_attribute("href")
    assert "adjusted=true" in href, href
    resp = page.request.get(href)
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.body().decode("utf-8").lstrip("\ufeff"))))
    assert rows[0][:2] == ["名次", "单位"] and rows[0][-1] == "总分", rows[0]
    assert "按期答复率" in rows[0], rows[0]
    assert len(rows) - 1 == page.locator("table tbody tr").count()


def test_an_auditor_downloads_a_cases_bundle_and_finds_the_keys_to_check_it_with(as_role):
    """Issue 34, finding 1: the verifiable bundle from the case page, and the signing keys it is
    checked with on 案件核查."""
    county = as_role("county")
    case = register_by_api(county)
    auditor = as_role("auditor")
    auditor.goto("/console/audit")
    keys = auditor.locator("table tbody tr").all_inner_texts()
    assert any("ed25519:" in k for k in keys), keys
    auditor.goto(f"/console/cases/{case['case_id']}")
    href = auditor.locator("#verification a", has_text="下载核验包").get_attribute("href")
    resp = auditor.request.get(href)
    assert resp.status == 200, resp.text()[:300]
    assert "attachment" in resp.headers["content-disposition"]
    assert case["case_id"] in resp.text()
