// Drives Deck in headless Chromium: node deck.mjs <base-url> <screenshot-dir>
// Exits non-zero with a message on the first failed check. Started by tests/browser.rs,
// which seeds the store (7 jobs over acme/alpha and acme/beta) and mounts POST /__test/add-job.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node deck.mjs <base-url> <screenshot-dir>");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

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
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Anything the Content-Security-Policy blocks shows up as a console message.
  const cspViolations = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  const rows = () => page.locator("#jobs tbody tr").count();

  const first = await page.goto(base + "/");
  check((first.headers()["content-security-policy"] || "").includes("default-src 'self'"), "pages carry the CSP");
  check(await rows() === 7, "jobs page lists the 7 seeded jobs");
  check(await page.locator("text=pull-alpha-unit").count() > 0, "a seeded job name is shown");
  check(await page.locator("#login").count() === 1, "login link in the top bar");

  // State filter: changing the select submits the form.
  await Promise.all([page.waitForURL(/state=failure/), page.selectOption('select[name="state"]', "failure")]);
  check(await rows() === 1, "state=failure narrows to one row");
  check((await page.locator("#jobs tbody tr").first().textContent()).includes("pull-alpha-lint"), "the failed job is the one shown");

  await page.goto(base + "/");
  await Promise.all([page.waitForURL(/repo=acme%2Fbeta/), page.selectOption('select[name="repo"]', "acme/beta")]);
  check(await rows() === 2, "repo=acme/beta narrows to two rows");

  await page.goto(base + "/");
  await page.fill('input[name="job"]', "alpha-unit");
  await Promise.all([page.waitForURL(/job=alpha-unit/), page.click('button[type="submit"]')]);
  check(await rows() === 2, "job filter 'alpha-unit' narrows to two rows (presubmit + batch)");

  // Auto-refresh picks up a job added to the store.
  await page.goto(base + "/");
  check(await rows() === 7, "back to all jobs");
  const added = await page.evaluate(async () => (await fetch("/__test/add-job", { method: "POST" })).status);
  check(added === 200, "test hook added a job");
  await page.waitForFunction(() => document.querySelectorAll("#jobs tbody tr").length === 8, null, { timeout: 15000 });
  check((await page.locator("#jobs tbody").textContent()).includes("pull-gamma-new"), "auto-refresh shows the new job");
  await page.waitForFunction(() => document.getElementById("total").textContent === "8", null, { timeout: 15000 });
  check((await page.locator("#counts").textContent()).includes("pending 2"), "auto-refresh updates the state counts");

  await page.screenshot({ path: join(shots, "deck-jobs-desktop-light.png"), fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: join(shots, "deck-jobs-desktop-dark.png"), fullPage: true });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(dark !== "rgb(255, 255, 255)", "dark mode changes the background (" + dark + ")");

  // Tide page from the fake TideSource.
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto(base + "/tide");
  check(await page.locator("#pools tbody tr").count() === 2, "tide page lists both pools");
  const tide = await page.locator("#pools").textContent();
  check(tide.includes("acme/alpha") && tide.includes("MERGE") && tide.includes("#9"), "pool shows action and PRs");
  await page.screenshot({ path: join(shots, "deck-tide-desktop-light.png"), fullPage: true });

  // Phone width: the page must not scroll sideways (the table scrolls inside its box).
  const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const p2 = await phone.newPage();
  await p2.goto(base + "/");
  const overflow = await p2.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 1, "no horizontal page overflow at 375px (" + overflow + "px)");
  await p2.screenshot({ path: join(shots, "deck-jobs-phone-light.png"), fullPage: true });
  await p2.emulateMedia({ colorScheme: "dark" });
  await p2.screenshot({ path: join(shots, "deck-jobs-phone-dark.png"), fullPage: true });
  await p2.goto(base + "/tide");
  await p2.screenshot({ path: join(shots, "deck-tide-phone-dark.png"), fullPage: true });

  check(errors.length === 0, "no page errors: " + errors.join("; "));
  check(cspViolations.length === 0, "no CSP violations: " + cspViolations.join("; "));
} finally {
  await browser.close();
}
