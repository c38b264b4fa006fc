package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dlthub/dlthub/internal/browsertest"
)

// TestDashboardJobOfAGoWorkspace deploys a Go workspace that declares one
// pipeline job and no dashboard to a control plane on loopback: it gets
// jobs.workspace.dashboard all the same, listed before and after the
// deploy; `dlthub serve dashboard` starts it with the access profile on a
// worker's fresh checkout, and its page, through the apps origin, shows
// the tables the pipeline job loaded into PostgreSQL with their rows,
// their bytes and the picture of them. A person then opens it from the
// workspace page in Chromium, which must see no error.
func TestDashboardJobOfAGoWorkspace(t *testing.T) {
	t.Parallel()
	pg := postgresURL(t)
	dir, env := loggedIn(t)
	base := env["RUNTIME__API_BASE_URL"]
	if code, _, errOut := runInProcess(t, dir, env, false, "", "pipeline", "init", "github_sample", "postgres"); code != 0 {
		t.Fatalf("pipeline init: %s", errOut)
	}
	writeFile(t, dir, "dlthub.toml", "[jobs.ingest.sample]\npipeline = \"github_sample\"\n")

	// Not connected yet: the jobs as they would deploy, the dashboard among
	// them though nobody declared it.
	code, out, errOut := runInProcess(t, dir, env, false, "", "job", "list", "--json")
	var local []struct {
		JobRef  string   `json:"job_ref"`
		Type    string   `json:"type"`
		Command []string `json:"command"`
	}
	if err := json.Unmarshal([]byte(out), &local); code != 0 || err != nil || len(local) != 2 || local[1].JobRef != "jobs.workspace.dashboard" ||
		local[1].Type != "interactive" || strings.Join(local[1].Command, " ") != "dlthub local show --no-browser" {
		t.Fatalf("job list before deploying: %d %v\n%s%s", code, err, out, errOut)
	}

	if code, _, errOut := runInProcess(t, dir, env, false, "", "workspace", "connect", "analytics", "--create"); code != 0 {
		t.Fatalf("connect: %s", errOut)
	}
	// The worker's `dlthub` is this test binary; the warehouse's
	// credentials are a secret variable every run gets, the dashboard's too.
	if code, _, errOut := runInProcess(t, dir, env, false, "", "variable", "set", "CLI_TEST_AS_DLTHUB", "1"); code != 0 {
		t.Fatalf("variable: %s", errOut)
	}
	if code, _, errOut := runInProcess(t, dir, env, false, pg+"\n", "variable", "set", "DESTINATION__POSTGRES__CREDENTIALS", "--secret"); code != 0 {
		t.Fatalf("secret variable: %s", errOut)
	}
	code, out, errOut = runInProcess(t, dir, env, false, "", "run", "sample", "-f")
	if code != 0 || !regexp.MustCompile(`(?m)^issues\s+100$`).MatchString(out) ||
		!strings.Contains(errOut, "dlthub.toml is valid (1 job, and the built-in jobs.workspace.dashboard)") ||
		!regexp.MustCompile(`job\s+added\s+jobs\.workspace\.dashboard`).MatchString(errOut) {
		t.Fatalf("run the pipeline job: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^jobs\.workspace\.dashboard\s+interactive\s+http:\s+active\s`).MatchString(out) {
		t.Errorf("job list: %d\n%s", code, out)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "list", "dashboard", "--json")
	if code != 0 || !strings.Contains(out, `"job_ref": "jobs.workspace.dashboard"`) || !strings.Contains(out, `"category": "dashboard"`) || !strings.Contains(out, `"active": true`) {
		t.Errorf("job list --json: %d\n%s", code, out)
	}

	// Served by its name, then by its ref: the same run, with the access
	// profile.
	code, out, errOut = runInProcess(t, dir, env, false, "", "serve", "dashboard", "--no-deploy")
	appURL := strings.TrimSpace(out)
	m := regexp.MustCompile(`^http://127\.0\.0\.1:\d+(/workspaces/([0-9a-f]+)/apps/jobs\.workspace\.dashboard/)$`).FindStringSubmatch(appURL)
	if code != 0 || m == nil {
		t.Fatalf("serve dashboard: %d %q\n%s", code, out, errOut)
	}
	appPath, wsID := m[1], m[2]
	if code, out, errOut := runInProcess(t, dir, env, false, "", "serve", "jobs.workspace.dashboard", "--no-deploy"); code != 0 || strings.TrimSpace(out) != appURL || !strings.Contains(errOut, "run #1 (running)") {
		t.Errorf("serve by ref: %d %q %s", code, out, errOut)
	}
	code, out, _ = runInProcess(t, dir, env, false, "", "job", "runs", "list", "dashboard", "--json")
	if code != 0 || !strings.Contains(out, `"profile": "access"`) || !strings.Contains(out, `"trigger": "http:"`) {
		t.Errorf("the dashboard's run: %d\n%s", code, out)
	}

	// Its page, signed in, through the apps origin.
	jar, _ := cookiejar.New(nil)
	member := &http.Client{Jar: jar}
	resp, err := member.PostForm(base+"/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}, "next": {appPath}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	page := string(body)
	for _, want := range []string{"Profile <b>access</b>", "<h2>github_sample</h2>", "Dataset <b>github_data</b> on postgres", "<th>Size</th>",
		"<td>issues</td><td>100</td>", "<td>issues__labels</td><td>34</td>", `class="sys"><td>_dlt_loads</td>`, "Recent loads",
		`role="img" aria-labelledby="sizes-1-title sizes-1-desc"`, `<title id="sizes-1-title">Rows per table in dataset github_data</title>`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, want) {
			t.Errorf("the dashboard lacks %q: %d\n%s", want, resp.StatusCode, page)
		}
	}
	// PostgreSQL tells each table's bytes: in the table and in words.
	if !regexp.MustCompile(`<td>issues</td><td>100</td><td>\d+(\.\d)? KiB</td>`).MatchString(page) ||
		!regexp.MustCompile(`issues: 100 rows, \d+(\.\d)? KiB; issues__labels: 34 rows, \d+(\.\d)? KiB`).MatchString(page) {
		t.Errorf("no table sizes:\n%s", page)
	}

	// A person opens it from the workspace page.
	tab := browsertest.Start(t, 0).Tab()
	tab.Do("sign in",
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "ann@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "correct horse"),
		chromedp.Click(chromedp.CSS(`form button`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/api-keys"]`)),
	)
	tab.Do("open the dashboard from the workspace page",
		chromedp.Navigate(base+"/workspaces/"+wsID),
		chromedp.Click(chromedp.CSS(`a[href$="`+appPath+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
	)
	tab.WaitFor("the picture drawn", `document.querySelector("svg.chart").getBoundingClientRect().width > 200 && document.querySelectorAll("svg.chart rect.bar").length === 3`, 5*time.Second)
	if h2 := tab.Text(`h2`); h2 != "github_sample" {
		t.Errorf("the dashboard's first pipeline: %q", h2)
	}

	if code, _, errOut := runInProcess(t, dir, env, false, "", "job", "cancel", "dashboard"); code != 0 || !strings.Contains(errOut, "cancelling") {
		t.Errorf("stop the dashboard: %d %s", code, errOut)
	}
}
