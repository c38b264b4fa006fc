package server

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/dlthub/dlthub/internal/store"
)

// List pages: ?limit=N (default 100, at most 500) and ?cursor=C from the
// previous answer's next_cursor. Cursors are opaque to clients (the list's
// key, base64url) and keyset-based, so paging through a list that grows
// neither skips nor repeats an item.
const (
	defaultPageLimit = 100
	maxPageLimit     = 500
)

// pageRequest reads a list request's page. The store is asked for one item
// more than the limit, which tells whether a next page exists.
func pageRequest(w http.ResponseWriter, r *http.Request) (p store.Page, limit int, ok bool) {
	limit = defaultPageLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			writeJSON(w, http.StatusBadRequest, Error{StatusCode: http.StatusBadRequest,
				Detail: "limit must be a number from 1 to " + strconv.Itoa(maxPageLimit), Extra: map[string]any{"max": maxPageLimit}})
			return p, 0, false
		}
		limit = n
	}
	p.Limit = limit + 1
	if c := r.URL.Query().Get("cursor"); c != "" {
		after, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(after) == 0 {
			writeError(w, http.StatusBadRequest, badCursor)
			return p, 0, false
		}
		p.After = string(after)
	}
	return p, limit, true
}

const badCursor = "cursor: not one this server handed out for this list; start again without it"

// listFailed answers a store error of a paged list: a cursor that names no
// item is the client's mistake, anything else the server's.
func listFailed(w http.ResponseWriter, err error, what string) {
	if errors.Is(err, store.ErrBadPage) {
		writeError(w, http.StatusBadRequest, badCursor)
		return
	}
	writeError(w, http.StatusInternalServerError, "could not list "+what)
}

// paged trims a list fetched with pageRequest's page to limit items and
// returns the cursor of the next page, "" on the last one.
func paged[T any](items []T, limit int, key func(T) string) ([]T, string) {
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1])))
}

// pageBody adds next_cursor to a list answer when there is a next page.
func pageBody(body map[string]any, next string) map[string]any {
	if next != "" {
		body["next_cursor"] = next
	}
	return body
}

// listPage answers a paged list request: it reads the page, asks list for
// it and writes {field: [toJSON(item)...], next_cursor}; key is an item's
// position for the next page.
func listPage[T, J any](w http.ResponseWriter, r *http.Request, field string, list func(store.Page) ([]T, error), key func(T) string, toJSON func(T) J) {
	p, limit, ok := pageRequest(w, r)
	if !ok {
		return
	}
	items, err := list(p)
	if err != nil {
		listFailed(w, err, strings.ReplaceAll(field, "_", " "))
		return
	}
	items, next := paged(items, limit, key)
	out := make([]J, 0, len(items))
	for _, it := range items {
		out = append(out, toJSON(it))
	}
	writeJSON(w, http.StatusOK, pageBody(map[string]any{field: out}, next))
}
