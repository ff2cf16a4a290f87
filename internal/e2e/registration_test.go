package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/daytradinginc/daytrader/internal/probe"
	"github.com/daytradinginc/daytrader/internal/stack"
	"github.com/daytradinginc/daytrader/internal/stacktest"
	"github.com/daytradinginc/daytrader/trading"
	"github.com/daytradinginc/daytrader/workflows"
	"github.com/shopspring/decimal"
	enumspb "go.temporal.io/api/enums/v1"
)

// TestRegistrationCannotTakeOverAnAccount is the hardening issue's case on
// the real stack: a workload opens account oY01WVirLr with $390,413.63, and
// registering that name on the web used to hand its cash to whoever did.
// Now registration refuses it (and a name whose workflow only reported
// errors, and one whose first signal is accepted but not yet run), changes
// nothing, and the administrator's web login for the account works.
func TestRegistrationCannotTakeOverAnAccount(t *testing.T) {
	const admin, owner = "boss", "oY01WVirLr"
	dev := stacktest.Start(t, stacktest.Options{Web: true, AdminUser: admin, AdminPass: "admin password"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	accounts := workflows.NewAccounts(dev.Client)
	cash := decimal.RequireFromString("390413.63")

	send(ctx, t, accounts, trading.Command{TxNum: 1, Name: trading.Add, User: owner, Amount: "390413.63"})
	waitForCash(ctx, t, accounts, owner, cash)
	// A workload typo: a command for a user who never opened an account.
	// Its workflow reports the error and closes.
	const typo = "oY01WVirLx"
	send(ctx, t, accounts, trading.Command{TxNum: 2, Name: trading.Buy, User: typo, Symbol: "ABC", Amount: "5.00"})
	waitClosed(ctx, t, dev, typo)
	// A signal Temporal accepted that no worker has run yet (no worker
	// serves this task queue): the account exists from that moment.
	const queued = "oY01WVirLq"
	idle := &workflows.Accounts{Client: dev.Client, TaskQueue: "e2e-no-worker"}
	send(ctx, t, idle, trading.Command{TxNum: 3, Name: trading.Add, User: queued, Amount: "10.00"})

	for _, name := range []string{owner, typo, queued} {
		web := newWebClient(t, dev.WebURL)
		r := web.post("/register", url.Values{"username": {name}, "password": {"stranger pass"}, "confirm": {"stranger pass"}})
		if r.status != http.StatusConflict || !strings.Contains(r.body, "belongs to an existing trading account") {
			t.Fatalf("registering %s: status %d, want 409 saying the name belongs to an account; body:\n%s", name, r.status, r.body)
		}
		if n := webLogins(ctx, t, dev, name); n != 0 {
			t.Fatalf("refused registration of %s left %d web logins", name, n)
		}
		if r := web.post("/login", url.Values{"username": {name}, "password": {"stranger pass"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("login as %s with the refused registration's password: status %d, want 401", name, r.status)
		}
	}
	if sum := summary(ctx, t, accounts, owner); !sum.Cash.Equal(cash) {
		t.Fatalf("after the refused registration %s has %s, want %s", owner, sum.Cash, cash)
	}

	// A name no account has registers as before.
	fresh := newWebClient(t, dev.WebURL)
	if r := fresh.post("/register", url.Values{"username": {"newcomer"}, "password": {"newcomer pass"}, "confirm": {"newcomer pass"}}); r.status != http.StatusSeeOther {
		t.Fatalf("registering a new name: status %d, want 303; body:\n%s", r.status, r.body)
	}

	// The administrator gives the account its web login; its trader sees the cash.
	boss := newWebClient(t, dev.WebURL)
	if r := boss.post("/login", url.Values{"username": {admin}, "password": {"admin password"}}); r.status != http.StatusSeeOther {
		t.Fatalf("admin login: status %d", r.status)
	}
	page := boss.get("/admin/users/" + owner)
	if !strings.Contains(page.body, owner+" has no web login") {
		t.Fatalf("admin page of %s does not offer a web login; body:\n%s", owner, page.body)
	}
	r := boss.post("/admin/users/"+owner+"/login", url.Values{"password": {"owner password"}, "confirm": {"owner password"},
		"csrf_token": {csrfToken(t, page.body)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("creating the web login: status %d; body:\n%s", r.status, r.body)
	}
	trader := newWebClient(t, dev.WebURL)
	if r := trader.post("/login", url.Values{"username": {owner}, "password": {"owner password"}}); r.status != http.StatusSeeOther {
		t.Fatalf("login with the administrator's password: status %d", r.status)
	}
	if r := trader.get("/"); !strings.Contains(r.body, `data-testid="cash">$390,413.63<`) {
		t.Fatalf("the account's trader does not see its cash; body:\n%s", r.body)
	}
}

func send(ctx context.Context, t *testing.T, accounts *workflows.Accounts, cmd trading.Command) {
	t.Helper()
	if err := accounts.Send(ctx, cmd.User, []trading.Command{cmd}); err != nil {
		t.Fatalf("sending %v: %v", cmd, err)
	}
}

func summary(ctx context.Context, t *testing.T, accounts *workflows.Accounts, user string) trading.Summary {
	t.Helper()
	sum, err := accounts.Summary(ctx, user)
	if err != nil {
		t.Fatalf("summary of %s: %v", user, err)
	}
	return sum
}

func waitForCash(ctx context.Context, t *testing.T, accounts *workflows.Accounts, user string, cash decimal.Decimal) {
	t.Helper()
	for {
		if sum := summary(ctx, t, accounts, user); sum.Exists && sum.Cash.Equal(cash) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never had %s", user, cash)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func waitClosed(ctx context.Context, t *testing.T, dev *stack.Dev, user string) {
	t.Helper()
	for {
		d, err := dev.Client.DescribeWorkflowExecution(ctx, workflows.AccountWorkflowID(user), "")
		if err != nil {
			t.Fatalf("describing %s's workflow: %v", user, err)
		}
		if d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s's workflow never closed", user)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func webLogins(ctx context.Context, t *testing.T, dev *stack.Dev, user string) int {
	t.Helper()
	var n int
	if err := dev.DB.QueryRow(ctx, `SELECT count(*) FROM web_users WHERE username = $1`, user).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func csrfToken(t *testing.T, page string) string {
	t.Helper()
	token, ok := probe.CSRFToken(page)
	if !ok {
		t.Fatal("no CSRF token on the page")
	}
	return token
}

// webClient is a browser without JavaScript: cookies, no redirects followed.
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

type webReply struct {
	status int
	body   string
}

func newWebClient(t *testing.T, base string) *webClient {
	c := probe.NewClient()
	c.Timeout = 30 * time.Second
	return &webClient{t: t, base: base, c: c}
}

func (w *webClient) get(path string) webReply {
	w.t.Helper()
	return w.reply(w.c.Get(w.base + path))
}

func (w *webClient) post(path string, form url.Values) webReply {
	w.t.Helper()
	return w.reply(w.c.PostForm(w.base+path, form))
}

func (w *webClient) reply(resp *http.Response, err error) webReply {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return webReply{status: resp.StatusCode, body: string(b)}
}
