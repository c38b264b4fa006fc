package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gocloud.dev/blob"

	"github.com/dlthub/dlthub/internal/artifact"
	"github.com/dlthub/dlthub/internal/deploy"
	"github.com/dlthub/dlthub/internal/store"
)

// DefaultMaxUpload bounds an uploaded package, compressed and
// uncompressed, unless Config.MaxUpload says otherwise.
const DefaultMaxUpload = deploy.DefaultMaxBytes

// DeploymentJSON is a deployment as the API shows it.
type DeploymentJSON struct {
	ID          string    `json:"id"`
	Version     int       `json:"version"`
	ContentHash string    `json:"content_hash"`
	Files       int       `json:"files"`
	Size        int64     `json:"size"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
}

func deploymentJSON(d store.Deployment) DeploymentJSON {
	return DeploymentJSON{ID: d.ID, Version: d.Version, ContentHash: d.ContentHash, Files: d.Files, Size: d.Size, CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt}
}

func (s *Server) deploymentRoutes() {
	s.api("GET /api/v1/workspaces/{id}/deployments", s.listDeployments)
	s.api("POST /api/v1/workspaces/{id}/deployments", s.createDeployment)
	s.api("GET /api/v1/workspaces/{id}/deployments/{version}/files", s.deploymentFiles)
}

// Deployment file listings are paged (?limit=, default 1000, at most
// 5000; ?cursor= from next_cursor) and at most maxListings are read at
// once: each reads the stored package, whose file count the upload limit
// bounds, so concurrent listings cannot take the server's memory.
const (
	defaultFilesPage = 1000
	maxFilesPage     = 5000
	maxListings      = 4
)

// deploymentFiles lists a deployed version's files with their hashes (read
// back from the stored package), in path order, a page at a time, so
// clients can show what a deploy would change.
func (s *Server) deploymentFiles(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleViewer)
	if !ok {
		return
	}
	// Versions are 32-bit in the store: a number past that (or past int64)
	// is the client's mistake, 400, and never reaches the store.
	v64, err := strconv.ParseInt(r.PathValue("version"), 10, 32)
	if err != nil || v64 < 1 {
		writeError(w, http.StatusBadRequest, "version must be a deployment version number (1 to 2147483646)")
		return
	}
	limit := defaultFilesPage
	if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > maxFilesPage {
			writeJSON(w, http.StatusBadRequest, Error{StatusCode: http.StatusBadRequest,
				Detail: "limit must be a number from 1 to " + strconv.Itoa(maxFilesPage), Extra: map[string]any{"max": maxFilesPage}})
			return
		}
		limit = n
	}
	after := ""
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(b) == 0 {
			writeError(w, http.StatusBadRequest, badCursor)
			return
		}
		after = string(b)
	}
	v := int(v64)
	if v == math.MaxInt32 {
		writeError(w, http.StatusNotFound, "no deployment version "+r.PathValue("version"))
		return
	}
	// The newest version below v+1 is v, if v exists.
	list, err := s.cfg.Store.Deployments(r.Context(), ws.ID, store.Page{Limit: 1, After: strconv.Itoa(v + 1)})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not list deployments")
		return
	}
	for _, d := range list {
		if d.Version != v {
			continue
		}
		select {
		case s.listings <- struct{}{}:
			defer func() { <-s.listings }()
		case <-r.Context().Done():
			return
		}
		rd, err := s.cfg.Blob.NewReader(r.Context(), d.BlobKey, nil)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "could not read the stored package")
			return
		}
		defer func() { _ = rd.Close() }()
		pkg, err := deploy.ReadTarGzLimits(rd, deploy.Limits{MaxBytes: 2 * s.cfg.MaxUpload, MaxFiles: 2 * s.cfg.MaxFiles})
		var fl *deploy.FileLimitError
		if errors.As(err, &fl) {
			writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("version %d has more files than this server lists (%d)", v, fl.Max))
			return
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "the stored package is unreadable")
			return
		}
		// ReadTarGz gives the files in path order.
		files := pkg.Files[sort.Search(len(pkg.Files), func(i int) bool { return pkg.Files[i].Path > after }):]
		next := ""
		if len(files) > limit {
			files = files[:limit]
			next = base64.RawURLEncoding.EncodeToString([]byte(files[limit-1].Path))
		}
		writeJSON(w, http.StatusOK, pageBody(map[string]any{"version": d.Version, "files": files}, next))
		return
	}
	writeError(w, http.StatusNotFound, "no deployment version "+r.PathValue("version"))
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	_, ws, _, ok := s.workspaceAccess(w, r, store.RoleViewer)
	if !ok {
		return
	}
	listPage(w, r, "deployments", func(p store.Page) ([]store.Deployment, error) { return s.cfg.Store.Deployments(r.Context(), ws.ID, p) },
		func(d store.Deployment) string { return strconv.Itoa(d.Version) }, deploymentJSON)
}

// createDeployment takes a package (tar.gz) as the body, checks it and
// recomputes its content hash; unchanged code answers 200 with the active
// deployment, new code is stored content-addressed and answers 201. A bad
// upload is refused and the active deployment stays.
func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request) {
	u, ws, _, ok := s.workspaceAccess(w, r, store.RoleDeveloper)
	if !ok {
		return
	}
	if s.cfg.Blob == nil {
		writeError(w, http.StatusServiceUnavailable, "this server has no blob store for packages")
		return
	}
	tmp, err := os.CreateTemp(s.uploadDir(), uploadPrefix+strconv.Itoa(os.Getpid())+"-*.tar.gz")
	if err != nil {
		s.cfg.Logger.Error("buffer upload", "err", err)
		writeError(w, http.StatusInternalServerError, "could not buffer the upload")
		return
	}
	defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
	limit := s.cfg.MaxUpload
	body := http.MaxBytesReader(w, r.Body, limit)
	pkg, err := deploy.ReadTarGzLimits(io.TeeReader(body, tmp), deploy.Limits{MaxBytes: limit, MaxFiles: s.cfg.MaxFiles})
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the package is over the %d-byte upload limit; add large files to .gitignore; the active deployment is unchanged", limit))
		return
	}
	var fl *deploy.FileLimitError
	if errors.As(err, &fl) {
		writeJSON(w, http.StatusRequestEntityTooLarge, Error{StatusCode: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the package has more than %d files, this server's limit; add generated and data files to .gitignore; the active deployment is unchanged", fl.Max),
			Extra:  map[string]any{"max_files": fl.Max}})
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error()+"; the active deployment is unchanged")
		return
	}
	if want := r.Header.Get("X-Content-Hash"); want != "" && want != pkg.Hash {
		writeError(w, http.StatusBadRequest, "the package does not match its content hash (changed in transit?); the active deployment is unchanged")
		return
	}
	if cur, err := s.cfg.Store.ActiveDeployment(r.Context(), ws.ID); err == nil && cur.ContentHash == pkg.Hash {
		writeJSON(w, http.StatusOK, map[string]any{"deployment": deploymentJSON(cur), "unchanged": true})
		return
	}
	key := artifact.PackageKey(ws.ID, pkg.Hash)
	if exists, _ := s.cfg.Blob.Exists(r.Context(), key); !exists {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			writeError(w, http.StatusInternalServerError, "could not read the buffered upload")
			return
		}
		if err := s.cfg.Blob.Upload(r.Context(), key, tmp, &blob.WriterOptions{ContentType: "application/gzip"}); err != nil {
			s.cfg.Logger.Error("store package", "key", key, "err", err)
			writeError(w, http.StatusInternalServerError, "could not store the package")
			return
		}
	}
	d, err := s.cfg.Store.CreateDeployment(r.Context(), store.Deployment{WorkspaceID: ws.ID, ContentHash: pkg.Hash, BlobKey: key,
		Files: len(pkg.Files), Size: pkg.Size, CreatedBy: u.ID, CreatedAt: s.cfg.Now().UTC()})
	if errors.Is(err, store.ErrConflict) {
		writeError(w, http.StatusConflict, "another deploy to this workspace finished first; deploy again")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not record the deployment")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"deployment": deploymentJSON(d), "unchanged": false})
}

// uploadPrefix starts the name of a buffered upload, followed by the
// server's process id.
const uploadPrefix = "dlthub-upload-"

func (s *Server) uploadDir() string {
	if s.cfg.TmpDir != "" {
		return s.cfg.TmpDir
	}
	return os.TempDir()
}

// cleanUploads makes the upload buffer dir and removes the uploads that a
// server process no longer alive left there (it crashed mid-upload);
// those of live servers sharing the dir stay.
func (s *Server) cleanUploads() {
	dir := s.uploadDir()
	if s.cfg.TmpDir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			s.cfg.Logger.Error("upload dir", "dir", dir, "err", err)
			return
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), uploadPrefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || (pid != os.Getpid() && processAlive(pid)) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
			s.cfg.Logger.Info("removed an upload left by a stopped server", "file", e.Name())
		}
	}
}

// processAlive reports whether a process with this id exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
