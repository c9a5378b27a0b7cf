"""The dashboard in a real browser (Chromium headless, driven by Playwright for Python).

Run by tests/ui/run.sh against a live `nivesh-ml serve` with API and admin keys. Checks:
every page loads with no console error and no failed request; a click path (try-it intent →
answer shown; promote a credit version with the admin key → the alias moves and the history
names the key; run detail → its plots load); the live overview refreshes itself; markup in a
run tag and in a query is shown as text, never run; the pages work at phone width and from the
keyboard. Screenshots of each page go to UI_ARTIFACTS.
"""

import os
import re
import sys

from playwright.sync_api import sync_playwright, expect

URL = os.environ["UI_URL"]
KEY = os.environ["UI_KEY"]
ADMIN = os.environ["UI_ADMIN_KEY"]
OUT = os.environ["UI_ARTIFACTS"]
CHROMIUM = os.environ["CHROMIUM"]

problems = []


def watch(page):
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error on {page.url}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"script error on {page.url}: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    page.on("dialog", lambda d: (problems.append(f"unexpected dialog: {d.message}"), d.dismiss()))

    def response(r):
        if r.status >= 400 and not r.url.endswith("/favicon.ico"):
            problems.append(f"HTTP {r.status} for {r.url}")

    page.on("response", response)


def shot(page, name):
    page.screenshot(path=os.path.join(OUT, f"{name}.png"), full_page=True)


def check(cond, what):
    if not cond:
        problems.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def sign_in(page, key, next_path="/ui"):
    page.goto(URL + next_path)
    check("/ui/login" in page.url, f"{next_path} without a session goes to the sign-in page")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        watch(page)

        # a wrong key is refused (a 403 page: expected, so not counted)
        page.goto(URL + "/ui/login")
        page.fill("input[name=key]", "wrong-key")
        with page.expect_response(lambda r: r.url.endswith("/ui/login") and r.request.method == "POST") as r:
            page.click("button[type=submit]")
        check(r.value.status == 403, "a wrong key is refused with 403")
        check("not accepted" in page.inner_text("main"), "the refusal says why")
        problems[:] = [x for x in problems if "403" not in x]

        sign_in(page, ADMIN)
        check(page.url.rstrip("/").endswith("/ui"), "signed in, back on the overview")
        expect(page.locator("h1")).to_have_text("Overview")
        check("admin" in page.inner_text("header"), "the header shows an admin session")

        # the overview: champions and traffic; it refreshes itself
        expect(page.locator("#live table").nth(1)).to_contain_text("intent")
        page.wait_for_selector("#live[data-refreshed]", timeout=15000)
        check(True, "the overview's live part refreshed without a reload")
        check("predictions" in page.inner_text("#live"), "the overview counts the last hour's predictions")
        shot(page, "overview")

        # every page loads
        run_ids = []
        for path, title, name in [
            ("/ui/models", "Models", "models"),
            ("/ui/models/credit", "Model credit", "model-credit"),
            ("/ui/runs", "Runs", "runs"),
            ("/ui/drift", "Drift and performance", "drift"),
            ("/ui/drift/intent", "Drift: intent", "drift-intent"),
            ("/ui/features?user=U0001", "Features", "features"),
            ("/ui/try", "Try it", "try"),
        ]:
            page.goto(URL + path)
            page.wait_for_load_state("networkidle")
            expect(page.locator("h1")).to_have_text(title)
            if name == "drift-intent":
                page.locator("details summary").first.click()
                check(page.locator("details svg.chart").first.is_visible(), "a reference-vs-current histogram is drawn")
                check(page.locator("svg.chart polyline").count() >= 2, "the history of checks and the live metric are charts")
                check(page.locator("#performance tbody tr").count() > 0, "the live metric from feedback is listed")
            shot(page, name)
            if name == "runs":
                run_ids = page.eval_on_selector_all("#runs tbody a", "els => els.map(e => e.textContent)")
            if name == "drift-intent":
                check(page.locator("#columns tbody tr").count() > 0, "the intent drift check is listed per feature")
            if name == "features":
                check(page.locator("#lookup table").count() > 0, "U0001's online features are shown")

        # click path 1: try-it intent → the answer, with its alternatives as bars
        page.goto(URL + "/ui/try")
        page.fill("#try-intent input[name=query]", "how much did I spend on groceries last month")
        page.click("#try-intent button[type=submit]")
        page.wait_for_selector("#answer-intent .result")
        answer = page.inner_text("#answer-intent")
        check(re.search(r"\d+\.\d %", answer) is not None, "the intent answer shows a confidence")
        check(page.locator("#answer-intent svg.chart rect").count() >= 2, "alternatives are drawn as bars")
        # the other four forms answer too (their examples)
        for m in ["ner", "spending", "anomaly", "credit"]:
            page.click(f"#try-{m} button[type=submit]")
            page.wait_for_selector(f"#answer-{m} .result", timeout=20000)
        check(page.locator("#answer-ner mark.ent").count() > 0, "NER spans are highlighted in the text")
        check(page.locator("#answer-spending svg.chart polygon").count() == 1, "the forecast is a fan chart")
        check(page.locator("#answer-credit svg.chart rect.up, #answer-credit svg.chart rect.down").count() > 0,
              "credit reason codes are a waterfall")
        shot(page, "try-answers")

        # markup in a query is text
        page.fill("#try-intent input[name=query]", "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>")
        page.click("#try-intent button[type=submit]")
        page.wait_for_selector("#answer-intent details")
        page.locator("#answer-intent details summary").click()
        check("<script>window.__xss=1</script>" in page.inner_text("#answer-intent pre >> nth=0"),
              "a query's markup is shown as text")
        check(page.evaluate("window.__xss") is None, "a query's markup never runs")
        page.goto(URL + "/ui/features?user=" + "%3Cscript%3Ewindow.__xss%3D3%3C%2Fscript%3E")
        check(page.evaluate("window.__xss") is None, "a looked-up user id's markup never runs")

        # click path 2: promote credit's newest version with the admin key → the alias moves
        page.goto(URL + "/ui/models/credit")
        rows = page.locator("#versions tbody tr")
        target = None
        for i in range(rows.count()):
            if "champion" not in rows.nth(i).locator("td.aliases").inner_text():
                target = rows.nth(i).get_attribute("data-version")
                break
        check(target is not None, "credit has a version that is not the champion")
        page.locator(f"#versions tr[data-version='{target}'] input[name=force]").check()
        page.locator(f"#versions tr[data-version='{target}'] button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        check("champion → v" + str(target) in page.inner_text("main"), f"the notice says champion → v{target}")
        check("champion" in page.locator(f"#versions tr[data-version='{target}'] td.aliases").inner_text(),
              f"v{target} now carries the champion alias")
        first = page.locator("#history tbody tr").first.inner_text()
        check("forced" in first and "ui:admin-key-1" in first, "the alias history names the key and says forced")
        shot(page, "model-credit-promoted")
        page.goto(URL + "/ui")
        page.wait_for_load_state("networkidle")

        # click path 3: a run's detail → its plots load; the tagged run shows its markup as text
        page.goto(URL + "/ui/runs?model=credit")
        page.locator("#runs tbody a").first.click()
        page.wait_for_load_state("networkidle")
        imgs = page.locator("img.plot")
        check(imgs.count() >= 1, "the credit run has plots")
        for i in range(imgs.count()):
            ok = page.evaluate("(el) => el.complete && el.naturalWidth > 0", imgs.nth(i).element_handle())
            check(ok, f"plot {i} loaded")
        shot(page, "run")
        tagged = [r for r in run_ids if r]
        found = False
        for rid in tagged:
            page.goto(URL + "/ui/runs/" + rid)
            page.wait_for_load_state("networkidle")
            if "window.__xss=1" in page.inner_text("#tags"):
                found = True
                break
        check(found, "a run tag holding <script> is shown as text")
        check(page.evaluate("window.__xss") is None, "a run tag's markup never runs")

        # compare two runs
        page.goto(URL + "/ui/runs?model=credit")
        boxes = page.locator("#runs tbody input[type=checkbox]")
        boxes.nth(0).check()
        boxes.nth(1).check()
        page.click("text=Compare the ticked runs")
        page.wait_for_load_state("networkidle")
        expect(page.locator("h1")).to_have_text("Compare runs")
        check(page.locator("#metrics tbody tr").count() > 0, "two runs' metrics side by side")
        shot(page, "compare")

        # keyboard: the first Tab reaches the skip link
        page.goto(URL + "/ui")
        page.keyboard.press("Tab")
        check(page.evaluate("document.activeElement.textContent") == "Skip to content", "Tab first reaches the skip link")

        # phone width
        phone = browser.new_context(viewport={"width": 390, "height": 844})
        pp = phone.new_page()
        watch(pp)
        sign_in(pp, KEY)
        shot(pp, "overview-phone")
        width = pp.evaluate("document.documentElement.scrollWidth")
        check(width <= 400, f"the overview fits a phone's width ({width}px)")
        # an API (non-admin) key sees no promote buttons, and a post is refused
        pp.goto(URL + "/ui/models/credit")
        check(pp.locator("#versions button").count() == 0, "a non-admin session has no promote buttons")
        resp = pp.request.post(URL + "/ui/models/credit/rollback", form={"alias": "champion"},
                               headers={"Origin": URL})
        check(resp.status == 403, "a non-admin session cannot roll back")
        # signing out ends the session
        pp.click("text=Sign out")
        pp.wait_for_url("**/ui/login")
        pp.wait_for_load_state("networkidle")
        pp.goto(URL + "/ui/models")
        check("/ui/login" in pp.url, "after signing out the pages ask for a key again")
        browser.close()

    if problems:
        print("\n".join(["PROBLEMS:"] + problems))
        sys.exit(1)
    print("browser test passed; screenshots in", OUT)


if __name__ == "__main__":
    main()
