// Package server is the self-hostable control plane's HTTP side: health and
// metrics, OAuth 2.0 device authorization (RFC 8628) with its metadata
// document (RFC 8414), local accounts with a one-time bootstrap for the first
// owner, browser sessions for the approval pages, and bearer tokens for the
// API. Storage is a store.Store.
package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/secrets"

	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/keys"
	"github.com/dlthub/dlthub/internal/store"
)

// Config configures a server.
type Config struct {
	Store store.Store
	// Blob holds artifacts (code packages, configuration versions).
	Blob *blob.Bucket
	// Keeper is the master key: it wraps each workspace's data key, which
	// seals the workspace's synced configuration and secret variables at
	// rest (internal/keys); HashKey
	// keys the hash that tells an unchanged configuration apart without
	// storing a plain hash of secrets.
	Keeper  *secrets.Keeper
	HashKey []byte
	// MaxUpload bounds a code package in bytes (default DefaultMaxUpload);
	// MaxFiles its number of files (default deploy.DefaultMaxFiles).
	MaxUpload int64
	MaxFiles  int
	// TmpDir buffers uploads (DATA_DIR/tmp; default the system's temp
	// dir); New removes what a crashed server left there.
	TmpDir string
	// PublicURL is how clients reach the server ("http://127.0.0.1:8765").
	PublicURL string
	// AppsURL is how browsers reach the apps origin, AppsHandler
	// ("http://127.0.0.1:8766"): another origin than PublicURL, so apps
	// never run where the control plane's cookies and API are. Empty
	// means no apps origin: app addresses then say so.
	AppsURL string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Logger receives one line per request (never secrets).
	Logger *slog.Logger
	// DeviceInterval is the polling interval given to device clients
	// (default 5s); DeviceTTL how long a device code lives (default 10m).
	DeviceInterval time.Duration
	DeviceTTL      time.Duration
	// GitHub, when set, adds "Sign in with GitHub" next to local accounts.
	GitHub *GitHubConfig
	// RunQueued, when set, is called after a run is queued (it wakes the
	// in-process worker).
	RunQueued func()
}

// Server serves the control plane.
type Server struct {
	cfg Config
	mux *http.ServeMux

	mu        sync.Mutex
	bootstrap string // one-time token for the first owner, "" once used
	requests  map[string]int64
	logins    loginLimiter
	// deviceCodes throttles unauthenticated device-code requests per
	// client address; approvals the wrong codes a signed-in person types.
	deviceCodes loginLimiter
	approvals   loginLimiter
	touches     appTouches
	// spentGrants are the app grants redeemed (apps_origin.go); appSignKey
	// signs grants and app cookies.
	spentGrants spentGrants
	appKeyOnce  sync.Once
	appSignKey  []byte
	apiRoutes   []string // "METHOD /api/v1/…" patterns
	// listings bounds the deployment file listings read at once.
	listings chan struct{}
	// ring seals each workspace's secrets with its own data key, wrapped
	// by Keeper (nil without a Keeper).
	ring *keys.Ring
	// assets are the pages' embedded scripts by file name (assets.go).
	assets map[string]asset
}

// Token lifetimes.
const (
	LoginTokenTTL = 90 * 24 * time.Hour
	SessionTTL    = 12 * time.Hour
	sessionCookie = "dlthub_session"
)

// New builds a server.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DeviceInterval == 0 {
		cfg.DeviceInterval = 5 * time.Second
	}
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = deploy.DefaultMaxFiles
	}
	if cfg.DeviceTTL == 0 {
		cfg.DeviceTTL = 10 * time.Minute
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	cfg.AppsURL = strings.TrimSuffix(cfg.AppsURL, "/")
	if cfg.GitHub != nil {
		cfg.GitHub = cfg.GitHub.withDefaults()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), requests: map[string]int64{},
		deviceCodes: loginLimiter{Max: deviceCodeMax, Window: deviceCodeWindow},
		approvals:   loginLimiter{Max: approvalMaxFails, Window: approvalWindow},
		listings:    make(chan struct{}, maxListings)}
	if cfg.Keeper != nil {
		s.ring = keys.NewRing(cfg.Keeper, cfg.Store)
	}
	assets, err := loadAssets()
	if err != nil {
		// Only a broken build gets here; the pages then work without scripts.
		cfg.Logger.Error("embedded page scripts", "err", err)
	}
	s.assets = assets
	s.cleanUploads()
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("GET /metrics", s.metrics)
	s.mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.oauthMetadata)
	s.mux.HandleFunc("POST /oauth/device/code", s.deviceCode)
	s.mux.HandleFunc("POST /oauth/token", s.token)
	s.mux.HandleFunc("POST /oauth/revoke", s.revoke)
	s.mux.HandleFunc("GET /device", s.devicePage)
	s.mux.HandleFunc("POST /device", s.deviceDecision)
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	if s.cfg.GitHub != nil {
		s.mux.HandleFunc("GET /login/github", s.githubStart)
		s.mux.HandleFunc("GET /login/github/callback", s.githubCallback)
	}
	s.mux.HandleFunc("GET /setup", s.setupPage)
	s.mux.HandleFunc("POST /setup", s.setup)
	s.api("GET /api/v1/me", s.me)
	s.api("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPIDoc)
	})
	s.workspaceRoutes()
	s.apiKeyRoutes()
	s.deploymentRoutes()
	s.configurationRoutes()
	s.jobRoutes()
	s.memberRoutes()
	s.runRoutes()
	s.variableRoutes()
	s.appRoutes()
	s.workerRoutes()
	s.mux.HandleFunc("GET /workspaces/{id}", s.workspacePage)
	s.mux.HandleFunc("GET /workspaces/{id}/runs/{run}", s.runPage)
	s.mux.HandleFunc("GET /workspaces/{id}/jobs/{ref}", s.jobPage)
	s.mux.HandleFunc("GET /static/{name}", s.staticFile)
	s.mux.HandleFunc("GET /api-keys", s.keysPage)
	s.mux.HandleFunc("POST /api-keys", s.createKeyForm)
	s.mux.HandleFunc("POST /api-keys/{id}/revoke", s.revokeKeyForm)
	s.mux.HandleFunc("GET /{$}", s.home)
}

// pageCSP is the control plane's Content-Security-Policy (ServeHTTP).
// form-action is left open: signing in to open an app ends in a redirect
// to the apps origin, which form-action 'self' would block.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// openAPIDoc describes every /api/v1 route; a test keeps the two in step.
//
//go:embed openapi.json
var openAPIDoc []byte

// api registers an /api/v1 route and remembers its pattern for the test
// that checks the OpenAPI document covers it.
func (s *Server) api(pattern string, h http.HandlerFunc) {
	s.apiRoutes = append(s.apiRoutes, pattern)
	s.mux.HandleFunc(pattern, h)
}

// ServeHTTP implements http.Handler, counting responses for /metrics and
// logging one line per request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	start := s.cfg.Now()
	// The control plane's pages are framed by nobody (no clickjacking,
	// from apps or anyone), and run only this origin's script files: no
	// inline script, so markup that slipped past escaping cannot run.
	// Inline styles stay allowed (the pages carry their CSS inline).
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	if s.apiCSRF(r) {
		writeError(rec, http.StatusForbidden, "cross-origin request refused: the API takes the session cookie only from this server's own pages; other clients send a bearer token")
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	s.mu.Lock()
	s.requests[fmt.Sprintf("%d", rec.status)]++
	s.mu.Unlock()
	s.cfg.Logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration_ms", s.cfg.Now().Sub(start).Milliseconds())
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer, so
// streamed answers (followed logs) can flush through the recorder.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush implements http.Flusher for handlers that check for it.
func (r *statusRecorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

// apiCSRF says whether an API request rides on the session cookie from
// another origin (cross-site request forgery, or an app's script on the
// apps origin, which browsers count as same-site). A browser sends the
// cookie with a form or a no-cors fetch from any site, and text/plain,
// form and multipart bodies need no CORS preflight; so a
// cookie-authenticated request must come from this origin (reads too:
// nothing but this server's own pages has a reason to send the cookie to
// the API), and one that changes something must carry a body only of
// another type (JSON). Bearer tokens are never sent by a browser on its
// own and are not affected.
func (s *Server) apiCSRF(r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/api/") || r.Header.Get("Authorization") != "" {
		return false
	}
	if len(r.CookiesNamed(s.sessionCookieName())) == 0 {
		return false
	}
	if s.crossOrigin(r) {
		return true
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(r.Header.Get("Content-Type"), ";", 2)[0]))
	return ct == "text/plain" || ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data"
}

// Error is the API's error body.
type Error struct {
	StatusCode int            `json:"status_code"`
	Detail     string         `json:"detail"`
	Extra      map[string]any `json:"extra,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, Error{StatusCode: status, Detail: detail})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cfg.Store.CountUsers(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "store unavailable")
		return
	}
	if s.cfg.Blob != nil {
		if ok, err := s.cfg.Blob.IsAccessible(r.Context()); err != nil || !ok {
			writeError(w, http.StatusServiceUnavailable, "blob store unavailable")
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	codes := make([]string, 0, len(s.requests))
	for c := range s.requests {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var b strings.Builder
	b.WriteString("# HELP dlthub_http_requests_total HTTP responses by status code.\n# TYPE dlthub_http_requests_total counter\n")
	for _, c := range codes {
		fmt.Fprintf(&b, "dlthub_http_requests_total{code=%q} %d\n", c, s.requests[c])
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}

// randomToken returns n random bytes as hex.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// HashToken is how tokens and keys are stored: SHA-256, hex.
func HashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// SetPublicURL sets the URL clients reach the server at, for servers whose
// address is known only after they listen (tests on a random port).
func (s *Server) SetPublicURL(u string) { s.cfg.PublicURL = strings.TrimSuffix(u, "/") }

// Bootstrap returns the one-time setup URL when the server has no users
// yet (and makes one), for the operator to open.
func (s *Server) Bootstrap(ctx context.Context) (string, bool, error) {
	n, err := s.cfg.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bootstrap == "" {
		tok := randomToken(16)
		if err := s.cfg.Store.AddSetupToken(ctx, HashToken(tok), s.cfg.Now().UTC()); err != nil {
			return "", false, fmt.Errorf("store the setup link: %w", err)
		}
		s.bootstrap = tok
	}
	return s.cfg.PublicURL + "/setup?token=" + s.bootstrap, true, nil
}

// IssueToken creates a bearer token (stored hashed) for a user: login
// tokens, and tokens for tools that run next to the server (benchmarks).
func (s *Server) IssueToken(ctx context.Context, userID, name string, ttl time.Duration) (string, error) {
	tok := "dlt_" + randomToken(24)
	now := s.cfg.Now().UTC()
	_, err := s.cfg.Store.CreateAPIKey(ctx, store.APIKey{UserID: userID, Role: store.RoleOwner, Name: name, Hash: HashToken(tok), CreatedAt: now, ExpiresAt: now.Add(ttl)})
	return tok, err
}

// authenticate resolves a bearer token or session cookie to a user.
func (s *Server) authenticate(r *http.Request) (store.User, bool) {
	c, ok := s.caller(r)
	return c.User, ok
}

// caller is an authenticated request's user and the key or token it used.
type caller struct {
	store.User
	Key store.APIKey
}

// caller resolves the request's bearer token or session cookie; expired and
// revoked ones count as none.
func (s *Server) caller(r *http.Request) (caller, bool) {
	tok := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	} else {
		tok = s.sessionToken(r)
	}
	if tok == "" {
		return caller{}, false
	}
	return s.callerFor(r, tok)
}

// sessionCookieName is the browser session's cookie: over HTTPS with the
// __Host- prefix, which browsers let only a secure page of this very host
// set, for path / and no domain (so neither an app's script on another
// host nor one on an HTTP origin can plant one).
func (s *Server) sessionCookieName() string {
	if s.secureCookies() {
		return "__Host-" + sessionCookie
	}
	return sessionCookie
}

// sessionToken is the request's session cookie. The control plane sets
// one, for path /; a request with two was given another by someone else
// (an app's script on another port of this host can add one for a deeper
// path, which browsers send first) and counts as signed out.
func (s *Server) sessionToken(r *http.Request) string {
	cs := r.CookiesNamed(s.sessionCookieName())
	if len(cs) != 1 {
		return ""
	}
	return cs[0].Value
}

// callerFor resolves a token; expired and revoked ones count as none.
func (s *Server) callerFor(r *http.Request, tok string) (caller, bool) {
	k, err := s.cfg.Store.APIKeyByHash(r.Context(), HashToken(tok))
	if err != nil || k.RevokedAt != nil || !s.cfg.Now().Before(k.ExpiresAt) {
		return caller{}, false
	}
	u, err := s.cfg.Store.UserByID(r.Context(), k.UserID)
	return caller{User: u, Key: k}, err == nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u, ok := s.authenticate(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "log in with `dlthub login` or send an API key")
		return
	}
	orgs, _ := s.cfg.Store.OrgsOfUser(r.Context(), u.ID)
	var orgList []map[string]string
	for _, o := range orgs {
		orgList = append(orgList, map[string]string{"id": o.Org.ID, "name": o.Org.Name, "role": o.Role})
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "organizations": orgList})
}
