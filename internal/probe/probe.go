// Package probe plays interactive traders against the web UI over real
// HTTP, as a browser does: registered, signed in, every command a POST
// /commands of the dashboard's HTMX form with the session's CSRF token. It
// measures how long a trader waits for a command's answer, so that a bulk
// workload's effect on the people using the site can be benchmarked.
package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Trader is one signed-in web user.
type Trader struct {
	User   string
	base   string
	client *http.Client
	csrf   string
}

// notAccepted is the form's message when Temporal did not take a command.
var notAccepted = regexp.MustCompile(`The command was not accepted: [^<]*`)

// pageError is the error message of a refused command's form, or the
// start of the page.
func pageError(body string) string {
	if m := notAccepted.FindString(body); m != "" {
		return m
	}
	return fmt.Sprintf("%.300s", body)
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// CSRFToken is the session's CSRF token as a page's forms carry it.
func CSRFToken(page string) (string, bool) {
	m := csrfPattern.FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// NewClient is an HTTP client as a browser without JavaScript is to the
// web UI: it keeps cookies (the session) and follows no redirect, so a 303
// (the sign of a form's success) is seen as such.
func NewClient() *http.Client {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       time.Minute,
	}
}

// Register creates the web user user at baseURL (the web UI's root), which
// signs it in, and reads the session's CSRF token from the dashboard.
func Register(ctx context.Context, baseURL, user, password string) (*Trader, error) {
	t := &Trader{User: user, base: strings.TrimSuffix(baseURL, "/"), client: NewClient()}
	form := url.Values{"username": {user}, "password": {password}, "confirm": {password}}
	resp, err := t.post(ctx, "/register", form, false)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusSeeOther {
		return nil, fmt.Errorf("registering %s: status %d: %.200s", user, resp.status, resp.body)
	}
	if resp, err = t.do(ctx, http.MethodGet, "/", nil, nil); err != nil {
		return nil, err
	}
	csrf, ok := CSRFToken(resp.body)
	if resp.status != http.StatusOK || !ok {
		return nil, fmt.Errorf("%s's dashboard: status %d, no CSRF token", user, resp.status)
	}
	t.csrf = csrf
	return t, nil
}

// Timing is how long one command took a trader: Result until its answer
// (the command's result), Summary for the summary reload after it (0 when
// the answer did not ask for one).
type Timing struct{ Result, Summary time.Duration }

// Command sends one command as CommandTimes does and returns how long its
// answer took.
func (t *Trader) Command(ctx context.Context, form url.Values) (time.Duration, error) {
	tm, err := t.CommandTimes(ctx, form)
	return tm.Result, err
}

// CommandTimes sends one command through the dashboard's form. Any status
// but 200 is an error: the form answers 200 once the account has applied
// and audited the command. When the answer asks for the summary's refresh
// (HX-Trigger), as it does after a command, the summary fragment is
// fetched next, as the dashboard does.
func (t *Trader) CommandTimes(ctx context.Context, form url.Values) (Timing, error) {
	start := time.Now()
	resp, err := t.post(ctx, "/commands", form, true)
	tm := Timing{Result: time.Since(start)}
	if err != nil {
		return tm, err
	}
	if resp.status != http.StatusOK {
		return tm, fmt.Errorf("%s %s: status %d: %s", t.User, form.Get("command"), resp.status, pageError(resp.body))
	}
	// The dashboard's summary reloads on its dt-refresh event.
	if !strings.Contains(resp.header.Get("HX-Trigger"), "dt-refresh") {
		return tm, nil
	}
	start = time.Now()
	sum, err := t.do(ctx, http.MethodGet, "/fragments/summary", nil, http.Header{"HX-Request": {"true"}})
	tm.Summary = time.Since(start)
	if err == nil && sum.status != http.StatusOK {
		err = fmt.Errorf("%s: the summary after %s: status %d", t.User, form.Get("command"), sum.status)
	}
	return tm, err
}

// Cash reads the account's cash from GET /api/summary.
func (t *Trader) Cash(ctx context.Context) (string, error) {
	resp, err := t.do(ctx, http.MethodGet, "/api/summary", nil, nil)
	if err != nil {
		return "", err
	}
	if resp.status != http.StatusOK {
		return "", fmt.Errorf("%s /api/summary: status %d", t.User, resp.status)
	}
	var s struct {
		Cash string `json:"cash"`
	}
	if err := json.Unmarshal([]byte(resp.body), &s); err != nil {
		return "", fmt.Errorf("%s /api/summary: %w", t.User, err)
	}
	return s.Cash, nil
}

// response is what the probe reads of an answer.
type response struct {
	status int
	body   string
	header http.Header
}

func (t *Trader) post(ctx context.Context, path string, form url.Values, htmx bool) (response, error) {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if htmx {
		h.Set("HX-Request", "true")
		h.Set("X-CSRF-Token", t.csrf)
	}
	return t.do(ctx, http.MethodPost, path, strings.NewReader(form.Encode()), h)
}

func (t *Trader) do(ctx context.Context, method, path string, body io.Reader, h http.Header) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, t.base+path, body)
	if err != nil {
		return response{}, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, errors.Join(fmt.Errorf("reading %s %s", method, path), err)
	}
	return response{status: resp.StatusCode, body: string(b), header: resp.Header}, nil
}
