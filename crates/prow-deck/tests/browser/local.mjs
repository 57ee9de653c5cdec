// Drives the all-in-one `prow local` in headless Chromium: node local.mjs <base-url> <screenshot-dir>
// Started by crates/prow/tests/browser_e2e.rs once the presubmit `pull-unit` on acme/widgets#1
// has failed (its log has an "error: widget exploded" line, its JUnit one failing test).
// Users in the GitHub simulator: alice (allowed to rerun), bob (not allowed).
// Exits non-zero with a message on the first failed check.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node local.mjs <base-url> <screenshot-dir>");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const JOB = "pull-unit";
const RERUN_OK = "Job successfully triggered. Wait 30 seconds and refresh the page for the job to show up.";
// Generous: the machine running this may be busy.
const WAIT = 60000;

function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
  console.log("ok - " + msg);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let page;
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  ctx.setDefaultTimeout(WAIT);
  page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Anything the Content-Security-Policy blocks shows up as a console message.
  const cspViolations = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });

  // Jobs of JOB as the API reports them.
  const apiJobs = async () => {
    const r = await page.request.get(base + "/prowjobs.js");
    if (!r.ok()) throw new Error("/prowjobs.js answered " + r.status());
    return ((await r.json()).items || []).filter((j) => j.spec.job === JOB);
  };
  const jobRows = () => page.locator("#jobs tbody tr").filter({ hasText: JOB });
  const notice = page.locator("#notice");

  // 1. The jobs page lists the failed presubmit.
  const first = await page.goto(base + "/");
  check((first.headers()["content-security-policy"] || "").includes("default-src 'self'"), "pages carry the CSP");
  check(await jobRows().count() === 1, "jobs page lists " + JOB + " once");
  const row = jobRows().first();
  check(await row.locator(".state.failure").count() === 1, JOB + " is shown as failure");
  check((await row.textContent()).includes("#1"), "the row names PR #1");
  check(await page.locator("#login").count() === 1, "logged out: 'Log in' in the top bar");
  await page.screenshot({ path: join(shots, "local-jobs.png"), fullPage: true });

  // 2. Spyglass, through the job's link (status.url from plank.job_url_prefix_config).
  const jobLink = row.locator("a", { hasText: JOB }).first();
  const href = await jobLink.getAttribute("href");
  check(href && href.startsWith(base + "/view/gs/local-bucket/pr-logs/pull/acme_widgets/1/" + JOB + "/"),
    "job link goes to Spyglass: " + href);
  await Promise.all([page.waitForURL(href), jobLink.click()]);
  const header = page.locator(".build-header");
  check((await header.locator(".job").textContent()).trim() === JOB, "Spyglass header names the job");
  check((await header.locator(".state").textContent()).toLowerCase().includes("fail"),
    "Spyglass header shows the failed state");
  const buildlog = page.locator("section.lens[id^='lens-buildlog']");
  check(await buildlog.count() === 1, "build log lens is shown");
  const hl = buildlog.locator(".line.hl", { hasText: "error: widget exploded" });
  check(await hl.count() === 1, "the 'error: widget exploded' line is highlighted");
  check((await hl.locator("mark").first().textContent()) === "error:", "the match itself is marked");
  await hl.scrollIntoViewIfNeeded();
  check(await hl.isVisible(), "the highlighted line is visible without expanding the log");
  check(await buildlog.locator(".line", { hasText: "step 1: assembling widget part 1" }).count() === 0,
    "lines far from the error are folded away");
  const junit = page.locator("section.lens[id^='lens-junit']");
  check(await junit.count() === 1, "JUnit lens is shown");
  const failed = junit.locator("details.jsection.failed");
  check(await failed.count() === 1, "JUnit lens has a failed section");
  const failedText = await failed.textContent();
  check(failedText.includes("1/3"), "one of three tests failed: " + failedText.slice(0, 60));
  check(await failed.locator(".tname", { hasText: "TestWidgetExplodes" }).isVisible(),
    "TestWidgetExplodes is listed as failed (visible)");
  const failure = failed.locator("pre.failure-text").first();
  check(await failure.isVisible(), "the failure text is shown open");
  const ft = await failure.textContent();
  check(ft.includes("widget exploded") && ft.includes("expected an intact widget"), "failure message and body: " + ft);
  const passed = junit.locator("details.jsection.passed");
  check((await passed.textContent()).includes("2/3"), "two tests passed");
  check(!failedText.includes("TestWidgetAssembles"), "passing tests are not in the failed section");
  await page.screenshot({ path: join(shots, "spyglass.png"), fullPage: true });

  // Clicks ↻ on the job's row and returns the notice text once the answer is shown.
  const rerun = async () => {
    await page.goto(base + "/");
    await notice.evaluate((n) => { n.textContent = ""; });
    await jobRows().first().locator("button.rerun").click();
    await page.waitForFunction(() => document.getElementById("notice").textContent.trim() !== "", null, { timeout: WAIT });
    return (await notice.textContent()).trim();
  };
  // Signs in through Deck's "Log in" link and the simulator's sign-in page.
  const login = async (who) => {
    await page.goto(base + "/");
    await Promise.all([page.waitForURL(/\/fake-github\/login\/oauth\/authorize/), page.locator("#login").click()]);
    check(await page.locator("#login-" + who).count() === 1, "simulator sign-in page offers " + who);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(base + "/") && !u.pathname.startsWith("/fake-github") && !u.pathname.startsWith("/github-login")),
      page.locator("#login-" + who).click()]);
    await page.goto(base + "/");
    check((await page.locator("#user").textContent()).trim() === "@" + who, "top bar shows @" + who + " after sign-in");
  };

  // 3. Logged out: refused, with a way to log in; nothing created.
  const out = await rerun();
  check(out.startsWith("You need to log in to rerun jobs"), "logged-out rerun is refused: " + out);
  check(await notice.locator("a", { hasText: "Log in" }).count() === 1, "the refusal offers a 'Log in' link");
  check((await apiJobs()).length === 1, "no job was created by the refused rerun");

  // 4. bob is signed in but not allowed.
  await login("bob");
  const denied = await rerun();
  check(denied === "bob is not allowed to rerun " + JOB, "bob's rerun is refused: " + denied);
  check((await apiJobs()).length === 1, "no job was created by bob's refused rerun");

  // 5. alice may rerun.
  await page.goto(base + "/github-logout");
  await page.goto(base + "/");
  check(await page.locator("#login").count() === 1 && await page.locator("#user").count() === 0,
    "after /github-logout the top bar offers 'Log in' again");
  await login("alice");
  const ok = await rerun();
  check(ok === RERUN_OK, "alice's rerun succeeds: " + ok);
  const deadline = Date.now() + WAIT;
  let n = 0;
  while ((n = (await apiJobs()).length) < 2 && Date.now() < deadline) await page.waitForTimeout(250);
  check(n === 2, "/prowjobs.js has a second " + JOB + " job (" + n + ")");
  // The page's own refresh picks the new job up (Deck refreshes every 30s by default).
  await page.waitForFunction((job) => Array.from(document.querySelectorAll("#jobs tbody tr"))
    .filter((r) => r.textContent.includes(job)).length === 2, JOB, { timeout: 90000 });
  check(await jobRows().count() === 2, "the jobs page shows both runs without a reload");
  check((await notice.textContent()).trim() === RERUN_OK, "the success notice is still shown");
  await page.screenshot({ path: join(shots, "rerun.png"), fullPage: true });

  // 6. alice's PR dashboard (GitHub search through the simulator with her token).
  await page.goto(base + "/pr");
  const pr = page.locator("#prs tbody tr", { hasText: "acme/widgets#1" });
  await pr.first().waitFor({ timeout: WAIT });
  check((await pr.first().textContent()).includes("Make widgets sturdier"), "/pr lists alice's PR with its title");
  await page.screenshot({ path: join(shots, "pr-dashboard.png"), fullPage: true });

  // Command help from the hook's plugin help.
  await page.goto(base + "/command-help");
  const help = await page.locator("main").textContent();
  check(help.includes("/test"), "/command-help lists /test");
  await page.screenshot({ path: join(shots, "command-help.png"), fullPage: true });

  // Job history, linked from the Spyglass header of the first run.
  await page.goto(href);
  const build = href.replace(/\/+$/, "").split("/").pop();
  const hist = page.locator(".header-links a", { hasText: "Job history" });
  check(await hist.count() === 1, "Spyglass links the job history");
  await Promise.all([page.waitForURL(/\/job-history\//), hist.click()]);
  check((await page.locator("h1").textContent()).includes(JOB), "job history page names the job");
  const hrow = page.locator("#builds tbody tr", { hasText: build });
  check(await hrow.count() === 1, "job history lists build " + build);
  const buildLink = await hrow.locator("a").first().getAttribute("href");
  check(buildLink === new URL(href).pathname, "job history links the build's Spyglass page: " + buildLink);
  check(await hrow.locator(".state.failure").count() === 1, "job history shows the build as failed");
  await page.screenshot({ path: join(shots, "job-history.png"), fullPage: true });

  check(errors.length === 0, "no script errors on the pages: " + errors.join("; "));
  check(cspViolations.length === 0, "no CSP violations: " + cspViolations.join("; "));
} catch (e) {
  console.error(String(e && e.stack || e));
  if (page) {
    try {
      console.error("at " + page.url());
      console.error((await page.content()).slice(0, 4000));
    } catch (_) { /* the page may be gone */ }
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
