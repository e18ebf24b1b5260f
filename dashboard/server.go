package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed web
var webFiles embed.FS

// TokenHeader carries the token on the page's own requests; actions need it there (a cookie
// alone, which a browser sends with any request to this address, does not do for them).
const TokenHeader = "X-Ipcluster-Token"

// Server serves a Collector's View over HTTP, to requests that carry its token (in the URL,
// a header, or the cookie set when the page was first opened with it); every other request
// gets 403, whatever it asks for.
type Server struct {
	c      *Collector
	token  string
	cookie string
	ln     net.Listener
	log    *slog.Logger
	static http.Handler
}

// Listen binds addr (host:port; port 0 picks a free one) and makes a fresh random token.
func Listen(c *Collector, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dashboard: listen on %s: %w", addr, err)
	}
	var b [24]byte
	rand.Read(b[:])
	sub, _ := fs.Sub(webFiles, "web")
	s := &Server{c: c, token: hex.EncodeToString(b[:]), ln: ln, log: c.cfg.Logger,
		static: http.StripPrefix("/static/", http.FileServerFS(sub))}
	// Cookies do not tell ports apart: one per port, so that two dashboards on one host
	// do not overwrite each other's.
	s.cookie = "ipcluster-dashboard-" + strconv.Itoa(s.Port())
	return s, nil
}

// Token is the secret every request must carry.
func (s *Server) Token() string { return s.token }

// Port is the port listened on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// URL is the address to open, with the token.
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.ln.Addr().String())
	return "http://" + net.JoinHostPort(host, port) + "/?token=" + s.token
}

// Serve answers requests until ctx ends, then closes the listener and every open stream.
func (s *Server) Serve(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.Handle("GET /static/", s.static)
	mux.HandleFunc("GET /api/cluster", s.apiCluster)
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("POST /api/actions/{name}", s.action)
	srv := &http.Server{
		Handler:           s.guard(mux),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx }, // ends the event streams
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// guard refuses requests without the token and sets the headers every answer carries.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer") // the token is in the URL
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		if !s.authorized(r) {
			http.Error(w, "403 forbidden: this dashboard needs its token; open the URL `ipcluster dashboard` printed", http.StatusForbidden)
			return
		}
		if r.URL.Query().Get("token") != "" {
			http.SetCookie(w, &http.Cookie{Name: s.cookie, Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	for _, t := range []string{r.URL.Query().Get("token"), r.Header.Get(TokenHeader), bearer(r)} {
		if s.matches(t) {
			return true
		}
	}
	if ck, err := r.Cookie(s.cookie); err == nil && s.matches(ck.Value) {
		return true
	}
	return false
}

func (s *Server) matches(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1
}

// bearer is the token of an "Authorization: token T" (Jupyter's form) or "Bearer T" header.
func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	for _, p := range []string{"token ", "Bearer "} {
		if strings.HasPrefix(a, p) {
			return strings.TrimSpace(a[len(p):])
		}
	}
	return ""
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	page, err := webFiles.ReadFile("web/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// The page's script sends the token in a header with every action.
	page = []byte(strings.Replace(string(page), "{{TOKEN}}", s.token, 1))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

func (s *Server) apiCluster(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(s.c.View())
}

// events streams the View as server-sent events, one "view" event per change.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	views, cancel := s.c.Subscribe()
	defer cancel()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
		case v := <-views:
			data, err := json.Marshal(v)
			if err != nil {
				return
			}
			fmt.Fprintf(w, "event: view\ndata: %s\n\n", data)
		}
		flusher.Flush()
	}
}

// action runs one of the page's actions. It needs the token in a header, not only the
// cookie, so that another site cannot make a browser post one.
func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	if !s.matches(r.Header.Get(TokenHeader)) && !s.matches(bearer(r)) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "actions need the token in the " + TokenHeader + " header"})
		return
	}
	if s.c.cfg.ReadOnly {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "this dashboard is read-only (--read-only): actions are refused"})
		return
	}
	var req ActionRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request body: " + err.Error()})
			return
		}
	}
	name := r.PathValue("name")
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Minute)
	defer cancel()
	s.log.Info("dashboard action", "action", name, "engines", req.Engines, "remote", r.RemoteAddr)
	if err := s.c.do(ctx, name, req); err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, errNotOffered):
			code = http.StatusNotFound
		case errors.Is(err, errBadRequest):
			code = http.StatusBadRequest
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "action": name})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
