package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dlthub/dlthub/internal/store"
)

// InviteTTL is how long an invitation link works.
const InviteTTL = 7 * 24 * time.Hour

// MemberJSON is an organization or workspace member as the API shows it.
type MemberJSON struct {
	UserID    string `json:"user_id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Inherited bool   `json:"inherited,omitempty"` // workspace owner by owning the organization
	// Pending: invited, not joined yet (no access until the invitation is
	// accepted).
	Pending   bool   `json:"pending,omitempty"`
	InviteURL string `json:"invite_url,omitempty"` // only in the answer that invites
}

func (s *Server) memberRoutes() {
	s.api("GET /api/v1/organizations/{id}/members", s.listOrgMembers)
	s.api("POST /api/v1/organizations/{id}/members", s.addOrgMember)
	s.api("PUT /api/v1/organizations/{id}/members/{user_id}", s.setOrgRole)
	s.api("DELETE /api/v1/organizations/{id}/members/{user_id}", s.removeOrgMember)
	s.api("GET /api/v1/workspaces/{id}/members", s.listWorkspaceMembers)
	s.api("PUT /api/v1/workspaces/{id}/members/{user_id}", s.setWorkspaceRole)
	s.api("DELETE /api/v1/workspaces/{id}/members/{user_id}", s.removeWorkspaceRole)
	s.mux.HandleFunc("GET /invite", s.invitePage)
	s.mux.HandleFunc("POST /invite", s.acceptInvite)
}

// orgAccess authenticates a person (not a workspace key) and checks their
// role in the organization named by the {id} path value: 404 outside it,
// 403 when owner is needed and they are a member.
func (s *Server) orgAccess(w http.ResponseWriter, r *http.Request, needOwner bool) (caller, store.OrgMembership, bool) {
	u, ok := s.requireUser(w, r)
	if !ok {
		return u, store.OrgMembership{}, false
	}
	id := r.PathValue("id")
	m, member := s.orgNames(r, u)[id]
	if !member || u.Key.WorkspaceID != "" {
		writeError(w, http.StatusNotFound, "organization "+id+" not found")
		return u, m, false
	}
	if needOwner && m.Role != store.RoleOwner {
		writeJSON(w, http.StatusForbidden, Error{StatusCode: http.StatusForbidden,
			Detail: "your role in organization " + m.Org.Name + " is " + m.Role + "; this needs owner", Extra: map[string]any{"role": m.Role, "required": store.RoleOwner}})
		return u, m, false
	}
	return u, m, true
}

func memberJSON(m store.Member) MemberJSON {
	return MemberJSON{UserID: m.User.ID, Email: m.User.Email, Name: m.User.Name, Role: m.Role, Inherited: m.Inherited, Pending: m.Pending}
}

// listMembers answers a paged member list.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, list func(store.Page) ([]store.Member, error)) {
	listPage(w, r, "members", list, func(m store.Member) string { return m.User.Email },
		memberJSON)
}

func (s *Server) listOrgMembers(w http.ResponseWriter, r *http.Request) {
	_, m, ok := s.orgAccess(w, r, false)
	if !ok {
		return
	}
	s.listMembers(w, r, func(p store.Page) ([]store.Member, error) { return s.cfg.Store.OrgMembers(r.Context(), m.Org.ID, p) })
}

// addOrgMember adds a person by email.
//
// Who owns an email is the trust question here. An account proves its
// email when the operator made it or a GitHub sign-in with that verified
// email reached it (store.User.EmailVerified); an invitation link proves
// nothing of the kind: it only shows that the inviting owner handed it to
// whoever set the password. So, as Gitea and Grafana keep an unconfirmed
// address from joining anything on its own, only a verified account is
// added directly. Anyone else gets a pending membership of this
// organization alone: a one-time invite_url (7 days) for the owner to pass
// on. A person without an account sets one up through it; an account set
// up already (perhaps through another organization's link, perhaps by
// someone who is not the email's owner) joins only when its holder,
// signed in, also holds this organization's link. A GitHub sign-in with
// the verified email accepts every pending invitation at once (and takes
// the account back from whoever set its password through a link). Adding
// a pending member again renews their link.
func (s *Server) addOrgMember(w http.ResponseWriter, r *http.Request) {
	u, m, ok := s.orgAccess(w, r, true)
	if !ok {
		return
	}
	var req struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	email := strings.ToLower(strings.TrimSpace(req.Email))
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || strings.ContainsAny(email, " <>\"") {
		writeError(w, http.StatusBadRequest, "email: give the person's email address")
		return
	}
	if req.Role == "" {
		req.Role = store.RoleMember
	}
	if req.Role != store.RoleMember && req.Role != store.RoleOwner {
		writeError(w, http.StatusBadRequest, "role: an organization role is member or owner")
		return
	}
	ctx := r.Context()
	user, err := s.cfg.Store.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		user, err = s.cfg.Store.CreateUser(ctx, store.User{Email: email})
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not add the member")
		return
	}
	out := MemberJSON{UserID: user.ID, Email: user.Email, Name: user.Name, Role: req.Role}
	if user.EmailVerified {
		err = s.cfg.Store.AddOrgMember(ctx, m.Org.ID, user.ID, req.Role)
		switch {
		case errors.Is(err, store.ErrConflict):
			writeError(w, http.StatusConflict, email+" is already a member of "+m.Org.Name)
		case err != nil:
			writeError(w, http.StatusInternalServerError, "could not add the member")
		default:
			writeJSON(w, http.StatusCreated, out)
		}
		return
	}
	orgs, err := s.cfg.Store.OrgsOfUser(ctx, user.ID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not add the member")
		return
	}
	for _, o := range orgs {
		if o.Org.ID == m.Org.ID {
			writeError(w, http.StatusConflict, email+" is already a member of "+m.Org.Name)
			return
		}
	}
	status := http.StatusCreated
	if _, err := s.cfg.Store.InviteOfUser(ctx, user.ID, m.Org.ID); err == nil {
		status = http.StatusOK // a new link for a pending member
	}
	tok := "inv_" + randomToken(24)
	if err := s.cfg.Store.CreateInvite(ctx, store.Invite{Hash: HashToken(tok), UserID: user.ID, OrgID: m.Org.ID, Role: req.Role, CreatedBy: u.ID,
		ExpiresAt: s.cfg.Now().Add(InviteTTL)}); err != nil {
		writeError(w, http.StatusInternalServerError, "could not create the invitation")
		return
	}
	out.Pending, out.InviteURL = true, s.cfg.PublicURL+"/invite?token="+tok
	writeJSON(w, status, out)
}

func (s *Server) setOrgRole(w http.ResponseWriter, r *http.Request) {
	_, m, ok := s.orgAccess(w, r, true)
	if !ok {
		return
	}
	var req struct {
		Role string `json:"role"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Role != store.RoleMember && req.Role != store.RoleOwner {
		writeError(w, http.StatusBadRequest, "role: an organization role is member or owner")
		return
	}
	s.memberChange(w, r.PathValue("user_id"), m, s.cfg.Store.SetOrgRole(r.Context(), m.Org.ID, r.PathValue("user_id"), req.Role), http.StatusOK)
}

// removeOrgMember removes a member (owners), or the caller themselves
// (anyone may leave).
func (s *Server) removeOrgMember(w http.ResponseWriter, r *http.Request) {
	u, m, ok := s.orgAccess(w, r, false)
	if !ok {
		return
	}
	target := r.PathValue("user_id")
	if target != u.ID && m.Role != store.RoleOwner {
		writeJSON(w, http.StatusForbidden, Error{StatusCode: http.StatusForbidden,
			Detail: "only owners remove other members; you may remove yourself", Extra: map[string]any{"role": m.Role, "required": store.RoleOwner}})
		return
	}
	s.memberChange(w, target, m, s.cfg.Store.RemoveOrgMember(r.Context(), m.Org.ID, target), http.StatusNoContent)
}

func (s *Server) memberChange(w http.ResponseWriter, userID string, m store.OrgMembership, err error, okStatus int) {
	switch {
	case errors.Is(err, store.ErrLastOwner):
		writeError(w, http.StatusConflict, m.Org.Name+" needs an owner: make someone else owner first")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "user "+userID+" is not a member of "+m.Org.Name)
	case err != nil:
		writeError(w, http.StatusInternalServerError, "could not change the membership")
	case okStatus == http.StatusNoContent:
		w.WriteHeader(okStatus)
	default:
		writeJSON(w, okStatus, map[string]string{"user_id": userID, "organization_id": m.Org.ID})
	}
}

func (s *Server) listWorkspaceMembers(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleViewer)
	if !ok {
		return
	}
	s.listMembers(w, r, func(p store.Page) ([]store.Member, error) { return s.cfg.Store.WorkspaceMembers(r.Context(), ws.ID, p) })
}

// setWorkspaceRole gives a member of the workspace's organization a role in
// it (workspace owners only; workspace keys cannot).
func (s *Server) setWorkspaceRole(w http.ResponseWriter, r *http.Request) {
	u, ws, _, ok := s.workspaceAccess(w, r, store.RoleOwner)
	if !ok || !personalOnly(w, u) {
		return
	}
	var req struct {
		Role string `json:"role"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Role != store.RoleOwner && req.Role != store.RoleDeveloper && req.Role != store.RoleViewer {
		writeError(w, http.StatusBadRequest, "role: a workspace role is owner, developer or viewer")
		return
	}
	target := r.PathValue("user_id")
	orgs, err := s.cfg.Store.OrgsOfUser(r.Context(), target)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not read the user's organizations")
		return
	}
	for _, o := range orgs {
		if o.Org.ID != ws.OrgID {
			continue
		}
		if o.Role == store.RoleOwner {
			writeError(w, http.StatusBadRequest, "organization owners own every workspace of it; change their organization role instead")
			return
		}
		if err := s.cfg.Store.SetWorkspaceRole(r.Context(), ws.ID, target, req.Role); err != nil {
			writeError(w, http.StatusInternalServerError, "could not set the role")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"user_id": target, "workspace_id": ws.ID, "role": req.Role})
		return
	}
	writeError(w, http.StatusBadRequest, "user "+target+" is not a member of this workspace's organization; add them with POST /api/v1/organizations/"+ws.OrgID+"/members first")
}

func (s *Server) removeWorkspaceRole(w http.ResponseWriter, r *http.Request) {
	u, ws, _, ok := s.workspaceAccess(w, r, store.RoleOwner)
	if !ok || !personalOnly(w, u) {
		return
	}
	target := r.PathValue("user_id")
	err := s.cfg.Store.RemoveWorkspaceRole(r.Context(), ws.ID, target)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "user "+target+" has no role of their own in this workspace (organization owners keep theirs)")
	case err != nil:
		writeError(w, http.StatusInternalServerError, "could not remove the role")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// validInvite finds the pending, unexpired invitation of a link.
func (s *Server) validInvite(r *http.Request, tok string) (store.Invite, bool) {
	if tok == "" {
		return store.Invite{}, false
	}
	in, err := s.cfg.Store.InviteByHash(r.Context(), HashToken(tok))
	return in, err == nil && s.cfg.Now().Before(in.ExpiresAt)
}

// inviteAccount is the account an invitation is for and whether it is set
// up already (a password or a verified identity): then only its holder,
// signed in, may accept.
func (s *Server) inviteAccount(r *http.Request, in store.Invite) (store.User, bool, error) {
	u, err := s.cfg.Store.UserByID(r.Context(), in.UserID)
	return u, u.PasswordHash != "" || u.EmailVerified, err
}

func (s *Server) invitePage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	in, ok := s.validInvite(r, tok)
	if !ok {
		page(w, http.StatusGone, "Invitation", `<p>This invitation link is not valid: it works once, for 7 days. Ask the owner who invited you for a new one.</p>`)
		return
	}
	u, held, err := s.inviteAccount(r, in)
	if err != nil {
		page(w, http.StatusInternalServerError, "Invitation", `<p>Could not read the invitation.</p>`)
		return
	}
	if held {
		s.joinPage(w, r, u, tok)
		return
	}
	page(w, http.StatusOK, "Join dlthub", `<p>Set up the account `+html(u.Email)+`.</p>
<form method="post" action="/invite">
<input type="hidden" name="token" value="`+html(tok)+`">
<label>Name <input name="name" autocomplete="name" value="`+html(u.Name)+`"></label>
<label>Password (at least 8 characters) <input name="password" type="password" autocomplete="new-password" minlength="8" required></label>
<button>Create account</button></form>`+s.githubLink("/"))
}

// joinPage answers an invitation for an account that is set up already:
// its holder, signed in, joins with one click; anyone else is asked to
// sign in as that account (the link alone opens nothing).
func (s *Server) joinPage(w http.ResponseWriter, r *http.Request, u store.User, tok string) {
	back := "/invite?token=" + urlQueryEscape(tok)
	if c, ok := s.sessionCaller(r); ok && c.ID == u.ID {
		page(w, http.StatusOK, "Join the organization", `<p>Signed in as `+html(u.Email)+`. Accept the invitation to join the organization.</p>
<form method="post" action="/invite">
<input type="hidden" name="token" value="`+html(tok)+`">
<button>Join</button></form>`)
		return
	}
	hint := ` If you never set up this account, ask the server's administrator.`
	if s.cfg.GitHub != nil {
		hint = ` If you never set up this account, sign in with GitHub with this verified email: that takes the account back.`
	}
	page(w, http.StatusForbidden, "Sign in to accept", `<p>This invitation is for the account `+html(u.Email)+`, which is set up already. <a href="/login?next=`+
		html(urlQueryEscape(back))+`">Sign in as `+html(u.Email)+`</a> to accept it.`+html(hint)+`</p>`+s.githubLink(back))
}

func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(w, r) {
		return
	}
	tok := r.FormValue("token")
	in, ok := s.validInvite(r, tok)
	if !ok {
		page(w, http.StatusGone, "Invitation", `<p>This invitation link is not valid: it works once, for 7 days.</p>`)
		return
	}
	u, held, err := s.inviteAccount(r, in)
	if err != nil {
		page(w, http.StatusInternalServerError, "Invitation", `<p>Could not read the invitation.</p>`)
		return
	}
	if held {
		if c, ok := s.sessionCaller(r); !ok || c.ID != u.ID {
			s.joinPage(w, r, u, tok)
			return
		}
		if err := s.cfg.Store.JoinByInvite(r.Context(), in.Hash, u.ID); err != nil {
			page(w, http.StatusGone, "Invitation", `<p>This invitation was used already.</p>`)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	pw := r.FormValue("password")
	if len(pw) < 8 {
		page(w, http.StatusBadRequest, "Invitation", `<p>Choose a password of at least 8 characters. <a href="/invite?token=`+html(urlQueryEscape(tok))+`">Back</a></p>`)
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		page(w, http.StatusInternalServerError, "Invitation", `<p>Could not set the password.</p>`)
		return
	}
	nu, err := s.cfg.Store.AcceptInvite(r.Context(), in.Hash, strings.TrimSpace(r.FormValue("name")), string(hash))
	if errors.Is(err, store.ErrConflict) {
		s.joinPage(w, r, u, tok) // set up meanwhile through another link
		return
	}
	if err != nil {
		page(w, http.StatusGone, "Invitation", `<p>This invitation was used already.</p>`)
		return
	}
	if s.startSession(w, r, nu) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}
