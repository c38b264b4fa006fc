package server

import (
	"errors"
	"net/http"
	"strings"

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

func newUserCode() string {
	b := []byte(randomToken(8))
	out := make([]byte, 0, 9)
	for i := 0; i < 8; i++ {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, userCodeAlphabet[int(b[i])%len(userCodeAlphabet)])
	}
	return string(out)
}

func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	client := r.FormValue("client_id")
	if client == "" {
		oauthError(w, "invalid_request", "client_id is missing")
		return
	}
	d := store.DeviceCode{DeviceCode: randomToken(24), UserCode: newUserCode(), ClientID: client,
		ExpiresAt: s.cfg.Now().Add(s.cfg.DeviceTTL).UTC(), Interval: s.cfg.DeviceInterval}
	if err := s.cfg.Store.CreateDeviceCode(r.Context(), d); err != nil {
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
	if len(c) == 8 && !strings.Contains(c, "-") {
		c = c[:4] + "-" + c[4:]
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
	u, ok := s.authenticate(r)
	if !ok {
		toSignIn(w, r, "/device")
		return
	}
	if !s.sameOrigin(w, r) {
		return
	}
	code := normUserCode(r.FormValue("user_code"))
	d, err := s.cfg.Store.DeviceCodeByUser(r.Context(), code)
	if err != nil || !s.cfg.Now().Before(d.ExpiresAt) {
		page(w, http.StatusNotFound, "Unknown code", `<p>That code is unknown or has expired. Run <code>dlthub login</code> again.</p>`)
		return
	}
	switch r.FormValue("action") {
	case "approve":
		err = s.cfg.Store.ApproveDeviceCode(r.Context(), code, u.ID)
	case "deny":
		err = s.cfg.Store.DenyDeviceCode(r.Context(), code)
	default:
		page(w, http.StatusBadRequest, "Choose", `<p>Approve or deny the request.</p>`)
		return
	}
	if err != nil {
		page(w, http.StatusConflict, "Already settled", `<p>This request was already approved or denied.</p>`)
		return
	}
	page(w, http.StatusOK, "Done", `<p>Done. You can return to your terminal.</p>`)
}
