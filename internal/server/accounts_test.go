package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPasswordGuessingIsSlowed(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	s, ts := newServer(t, clk.Now)
	ctx := context.Background()
	for _, e := range []string{"ann@example.com", "bob@example.com"} {
		if _, err := s.CreateAccount(ctx, e, "", "correct horse", "acme"); err != nil {
			t.Fatal(err)
		}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(email, pw string) *http.Response {
		resp, err := noRedirect.PostForm(ts.URL+"/login", url.Values{"email": {email}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp
	}
	for i := range loginMaxFails {
		if resp := signIn("ann@example.com", "guess"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	// Now even the right password waits, with Retry-After; others do not.
	resp := signIn("ANN@example.com", "correct horse")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "901" {
		t.Errorf("after %d failures: %d retry-after %q", loginMaxFails, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := signIn("bob@example.com", "correct horse"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another account: %d", resp.StatusCode)
	}
	clk.Add(loginWindow)
	resp = signIn("ann@example.com", "correct horse")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", resp.StatusCode)
	}
	// Over plain HTTP the session cookie is not Secure; over HTTPS it is.
	if c := resp.Cookies(); len(c) != 1 || c[0].Secure || !c[0].HttpOnly {
		t.Errorf("cookie %+v", c)
	}
	s.SetPublicURL("https://dlthub.example.com")
	if c := signIn("ann@example.com", "correct horse").Cookies(); len(c) != 1 || !c[0].Secure || !strings.Contains(c[0].String(), "SameSite=Lax") {
		t.Errorf("https cookie %+v", c)
	}
}
