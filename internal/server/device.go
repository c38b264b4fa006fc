package server

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dlthub/dlthub/internal/store"
)

func (s *Server) oauthMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.cfg.PublicURL,
		"device_authorization_endpoint":         s.cfg.PublicURL + "/oauth/device/code",
		"token_endpoint":                        s.cfg.PublicURL + "/oauth/token",
		"revocation_endpoint":                   s.cfg.PublicURL + "/oauth/revoke",
		"grant_types_supported":                 []string{"urn:ietf:params:oauth:grant-type:device_code"},
		"response_types_supported":              []string{},
		"token_endpoint_auth_methods_supported": []string{"none"},
	})
}

// revoke is the token revocation endpoint (RFC 7009): `dlthub logout`
// ends the token on the server too. Unknown tokens succeed as well (§2.2),
// so the answer tells nothing about which tokens exist.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	tok := r.FormValue("token")
	if tok == "" {
		oauthError(w, "invalid_request", "token is required")
		return
	}
	if k, err := s.cfg.Store.APIKeyByHash(r.Context(), HashToken(tok)); err == nil && k.RevokedAt == nil {
		if err := s.cfg.Store.RevokeAPIKey(r.Context(), k.ID, s.cfg.Now().UTC()); err != nil && !errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusInternalServerError, "could not revoke the token")
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// userCodeAlphabet has no vowels or look-alikes (RFC 8628 §6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// userCodeLen letters of 20 are 10·log2(20) ≈ 43 bits: with the approval
// guesses throttled (approvalMaxFails per approvalWindow) and codes living
// minutes, guessing a live one is hopeless; XXXXX-XXXXX stays typeable.
const userCodeLen = 10

// Unauthenticated device-code requests per client address, and wrong
// codes a signed-in person may type, per window.
const (
	deviceCodeMax    = 20
	deviceCodeWindow = 10 * time.Minute
	approvalMaxFails = 5
	approvalWindow   = 15 * time.Minute
	// deviceCodeTries is how many fresh codes a request tries when one
	// collides with a live code.
	deviceCodeTries = 5
)

// newUserCode draws each letter uniformly from the alphabet (bytes of 240
// and above are dropped: 256 is not a multiple of 20).
func newUserCode() string {
	out := make([]byte, 0, userCodeLen+1)
	buf := make([]byte, 32)
	for len(out) < userCodeLen+1 {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if int(b) >= 256-256%len(userCodeAlphabet) {
				continue
			}
			if len(out) == userCodeLen/2 {
				out = append(out, '-')
			}
			out = append(out, userCodeAlphabet[int(b)%len(userCodeAlphabet)])
			if len(out) == userCodeLen+1 {
				break
			}
		}
	}
	return string(out)
}

// deviceCode starts a device authorization. It needs no account, so it is
// throttled per client address, and it sweeps expired codes away.
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	now := s.cfg.Now()
	ip := clientIP(r)
	if wait := s.deviceCodes.blocked(ip, now); wait > 0 {
		retryAfter(w, wait)
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "slow_down", "error_description": "too many device codes from this address; try again later"})
		return
	}
	s.deviceCodes.fail(ip, now)
	client := r.FormValue("client_id")
	if client == "" {
		oauthError(w, "invalid_request", "client_id is missing")
		return
	}
	ctx := r.Context()
	if _, err := s.cfg.Store.DeleteExpiredDeviceCodes(ctx, now.UTC()); err != nil {
		s.cfg.Logger.Warn("delete expired device codes", "err", err)
	}
	d := store.DeviceCode{DeviceCode: randomToken(24), ClientID: client, ExpiresAt: now.Add(s.cfg.DeviceTTL).UTC(), Interval: s.cfg.DeviceInterval}
	var err error
	for range deviceCodeTries {
		d.UserCode = newUserCode()
		if err = s.cfg.Store.CreateDeviceCode(ctx, d); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not create a device code")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               d.DeviceCode,
		"user_code":                 d.UserCode,
		"verification_uri":          s.cfg.PublicURL + "/device",
		"verification_uri_complete": s.cfg.PublicURL + "/device?user_code=" + d.UserCode,
		"expires_in":                int(s.cfg.DeviceTTL.Seconds()),
		"interval":                  int(s.cfg.DeviceInterval.Seconds()),
	})
}

func oauthError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

// token is the device flow's token endpoint (RFC 8628 §3.4, §3.5).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if gt := r.FormValue("grant_type"); gt != "urn:ietf:params:oauth:grant-type:device_code" {
		oauthError(w, "unsupported_grant_type", "only the device_code grant is supported")
		return
	}
	code := r.FormValue("device_code")
	d, err := s.cfg.Store.DeviceCodeByDevice(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		oauthError(w, "invalid_grant", "unknown device_code")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not read the device code")
		return
	}
	now := s.cfg.Now().UTC()
	if !now.Before(d.ExpiresAt) {
		// An expired code is of no more use: it goes now.
		if _, err := s.cfg.Store.DeleteExpiredDeviceCodes(r.Context(), now); err != nil {
			s.cfg.Logger.Warn("delete expired device codes", "err", err)
		}
		oauthError(w, "expired_token", "the device code expired; run `dlthub login` again")
		return
	}
	if d.Denied {
		oauthError(w, "access_denied", "the request was denied")
		return
	}
	prev, err := s.cfg.Store.PollDeviceCode(r.Context(), code, now)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not record the poll")
		return
	}
	if d.UserID == "" {
		if prev != nil && now.Sub(*prev) < d.Interval {
			oauthError(w, "slow_down", "polling too fast")
			return
		}
		oauthError(w, "authorization_pending", "waiting for the user to approve")
		return
	}
	// Spend the code before issuing: of two racing exchanges one wins.
	if err := s.cfg.Store.ConsumeDeviceCode(r.Context(), code); err != nil {
		oauthError(w, "invalid_grant", "the device code was already used; run `dlthub login` again")
		return
	}
	tok, err := s.IssueToken(r.Context(), d.UserID, "cli login ("+d.ClientID+")", LoginTokenTTL)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not issue a token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(LoginTokenTTL.Seconds())})
}

func normUserCode(c string) string {
	c = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c), " ", ""))
	if len(c) == userCodeLen && !strings.Contains(c, "-") {
		c = c[:userCodeLen/2] + "-" + c[userCodeLen/2:]
	}
	return c
}

func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	u, ok := s.pageUser(w, r)
	if !ok {
		return
	}
	code := normUserCode(r.URL.Query().Get("user_code"))
	page(w, http.StatusOK, "Approve device", `<p>Signed in as `+html(u.Email)+`.</p>
<p>Check that this code matches the one in your terminal, then approve.</p>
<form method="post" action="/device">
<label>Code <input name="user_code" value="`+html(code)+`" autocomplete="off"></label>
<button name="action" value="approve">Approve</button>
<button name="action" value="deny">Deny</button>
</form>`)
}

func (s *Server) deviceDecision(w http.ResponseWriter, r *http.Request) {
	u, ok := s.sessionCaller(r)
	if !ok {
		toSignIn(w, r, "/device")
		return
	}
	if !s.sameOrigin(w, r) {
		return
	}
	// Wrong codes are throttled per person and address, and every code
	// that cannot be settled (unknown, expired, approved or denied already)
	// gets the same answer: a guess learns nothing.
	key, now := u.ID+"|"+clientIP(r), s.cfg.Now()
	if wait := s.approvals.blocked(key, now); wait > 0 {
		retryAfter(w, wait)
		page(w, http.StatusTooManyRequests, "Approve device", `<p>Too many wrong codes. Try again in `+html(wait.Round(time.Minute).String())+`.</p>`)
		return
	}
	code := normUserCode(r.FormValue("user_code"))
	action := r.FormValue("action")
	if action != "approve" && action != "deny" {
		page(w, http.StatusBadRequest, "Choose", `<p>Approve or deny the request.</p>`)
		return
	}
	d, err := s.cfg.Store.DeviceCodeByUser(r.Context(), code)
	if err == nil && !now.Before(d.ExpiresAt) {
		err = store.ErrNotFound
	}
	if err == nil {
		if action == "approve" {
			err = s.cfg.Store.ApproveDeviceCode(r.Context(), code, u.ID)
		} else {
			err = s.cfg.Store.DenyDeviceCode(r.Context(), code)
		}
	}
	if err != nil {
		s.approvals.fail(key, now)
		page(w, http.StatusNotFound, "Unknown code", `<p>That code is unknown, has expired or was used already. Run <code>dlthub login</code> again.</p>`)
		return
	}
	s.approvals.reset(key)
	page(w, http.StatusOK, "Done", `<p>Done. You can return to your terminal.</p>`)
}
