package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/secflow/secflow-budget/internal/sources"
)

// The files of endpoint budgets, one pair per budget NAME:
//
//	endpoints/NAME.prom   the body an authenticated GET of the budget's URL returned
//	endpoints/NAME.json   optional: what else that GET and an anonymous one learned
//
// The sidecar is a JSON object with these keys, all optional:
//
//	{"content_type": "text/plain; version=0.0.4; charset=utf-8",
//	 "anonymous_status": 401,
//	 "size": 1234567}
//
// content_type is the Content-Type the endpoint answered (default: Prometheus'
// text format 0.0.4); anonymous_status is the HTTP status an anonymous GET got,
// which require_auth needs; size is the body's full length when NAME.prom holds
// only its first bytes (a body past the fetch limit), so that offline reports
// the size live did.
const (
	EndpointsDir    = "endpoints"
	EndpointBodyExt = ".prom"
	EndpointMetaExt = ".json"
)

// DefaultEndpointContentType is the content type of an endpoint body whose
// sidecar names none: Prometheus' text exposition format.
const DefaultEndpointContentType = "text/plain; version=0.0.4; charset=utf-8"

// MaxEndpointBodyBytes is how much of an endpoint body the reader keeps, as
// the live source does (endpoint.DefaultMaxBodyBytes).
const MaxEndpointBodyBytes = 16 << 20

// maxEndpointMetaBytes bounds a sidecar: it holds three small values.
const maxEndpointMetaBytes = 64 << 10

// EndpointMeta is the sidecar endpoints/NAME.json.
type EndpointMeta struct {
	ContentType     string `json:"content_type,omitempty"`
	AnonymousStatus int    `json:"anonymous_status,omitempty"`
	Size            int64  `json:"size,omitempty"`
}

// Endpoints returns the snapshot's endpoint expositions as a
// sources.Endpoints: Fetch reads endpoints/NAME.prom for the budget NAME
// (req.Name), and for an anonymous request answers the sidecar's
// anonymous_status. Data the snapshot lacks is a *sources.Error of kind
// Missing naming the file; a malformed sidecar is a *sources.Error of kind
// BadResponse wrapping a *CorruptError.
func (s *Snapshot) Endpoints() sources.Endpoints {
	return &endpointReader{dir: s.dir, maxBody: MaxEndpointBodyBytes}
}

type endpointReader struct {
	dir     string // the snapshot's
	maxBody int64
}

func (r *endpointReader) Fetch(ctx context.Context, req sources.EndpointRequest) (*sources.Exposition, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("reading endpoint %q from snapshot %s: %w", req.Name, r.dir, err)
	}
	if err := checkEndpointName(req.Name); err != nil {
		return nil, sources.Errorf(sources.BadQuery, sourceName, "%v", err)
	}
	bodyRel := filepath.Join(EndpointsDir, req.Name+EndpointBodyExt)
	metaRel := filepath.Join(EndpointsDir, req.Name+EndpointMetaExt)
	meta, hasMeta, err := readEndpointMeta(filepath.Join(r.dir, metaRel))
	if err != nil {
		return nil, err
	}
	if req.Anonymous {
		switch {
		case !hasMeta:
			return nil, sources.Errorf(sources.Missing, sourceName,
				"no %s in %s: require_auth offline needs the status an anonymous GET got, e.g. {\"anonymous_status\": 401}", metaRel, r.dir)
		case meta.AnonymousStatus == 0:
			return nil, sources.Errorf(sources.Missing, sourceName,
				"%s in %s has no anonymous_status: require_auth offline needs the status an anonymous GET got, e.g. {\"anonymous_status\": 401}", metaRel, r.dir)
		}
		return &sources.Exposition{StatusCode: meta.AnonymousStatus}, nil
	}

	f, err := os.Open(filepath.Join(r.dir, bodyRel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sources.Errorf(sources.Missing, sourceName,
			"no %s in %s: endpoint budget %q needs the exposition its URL served (`secflow-budget snapshot` records it)", bodyRel, r.dir, req.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("reading snapshot endpoint: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading snapshot endpoint: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("reading snapshot endpoint: %s is not a regular file", filepath.Join(r.dir, bodyRel))
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(f, r.maxBody)); err != nil {
		return nil, fmt.Errorf("reading snapshot endpoint: %w", err)
	}
	exp := &sources.Exposition{
		StatusCode:  200,
		ContentType: meta.ContentType,
		Body:        buf.Bytes(),
		Size:        max(fi.Size(), meta.Size),
	}
	if exp.ContentType == "" {
		exp.ContentType = DefaultEndpointContentType
	}
	return exp, nil
}

// readEndpointMeta reads a sidecar; ok is false when there is none. Unknown
// keys are errors: a misspelled anonymous_status must not read as "not
// recorded".
func readEndpointMeta(path string) (meta EndpointMeta, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return EndpointMeta{}, false, nil
	}
	if err != nil {
		return EndpointMeta{}, false, fmt.Errorf("reading snapshot endpoint: %w", err)
	}
	corrupt := func(line int, format string, args ...any) error {
		return &sources.Error{Kind: sources.BadResponse, Source: sourceName,
			Err: &CorruptError{File: path, Line: line, Msg: fmt.Sprintf(format, args...)}}
	}
	if len(data) > maxEndpointMetaBytes {
		return EndpointMeta{}, false, corrupt(0, "larger than %d KiB: not an endpoint sidecar", maxEndpointMetaBytes>>10)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		line := 0
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line = jsonOffsetLine(data, se.Offset)
		case errors.As(err, &te):
			line = jsonOffsetLine(data, te.Offset)
		}
		return EndpointMeta{}, false, corrupt(line, "%s (want {\"content_type\": \"...\", \"anonymous_status\": 401, \"size\": N}, every key optional)", jsonErrText(err))
	}
	if dec.More() {
		return EndpointMeta{}, false, corrupt(0, "more than one JSON value")
	}
	if meta.AnonymousStatus != 0 && (meta.AnonymousStatus < 100 || meta.AnonymousStatus > 599) {
		return EndpointMeta{}, false, corrupt(0, "anonymous_status %d is not an HTTP status", meta.AnonymousStatus)
	}
	if meta.Size < 0 {
		return EndpointMeta{}, false, corrupt(0, "size %d is negative", meta.Size)
	}
	return meta, true, nil
}

func jsonOffsetLine(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// checkEndpointName keeps a budget name from reaching outside endpoints/.
// Budget names ([a-z0-9][a-z0-9._-]*) always pass.
func checkEndpointName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") {
		return fmt.Errorf("invalid endpoint name %q: want a budget name", name)
	}
	return nil
}

// WriteEndpoint records what an endpoint budget NAME fetched into the
// snapshot directory dir: exp.Body as endpoints/NAME.prom and the sidecar
// endpoints/NAME.json with exp's content type, anonymousStatus (0: not
// recorded, e.g. the budget does not set require_auth) and, when Body was
// cut, the full size. Each file is written to a temporary name and renamed.
func WriteEndpoint(dir, name string, exp *sources.Exposition, anonymousStatus int) error {
	if err := checkEndpointName(name); err != nil {
		return fmt.Errorf("writing snapshot endpoint: %w", err)
	}
	if exp == nil {
		return fmt.Errorf("writing snapshot endpoint %q: no exposition", name)
	}
	meta := EndpointMeta{ContentType: exp.ContentType, AnonymousStatus: anonymousStatus}
	if exp.Size > int64(len(exp.Body)) {
		meta.Size = exp.Size
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("writing snapshot endpoint %q: %w", name, err)
	}
	sub := filepath.Join(dir, EndpointsDir)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return fmt.Errorf("writing snapshot endpoint %q: %w", name, err)
	}
	if err := writeFileAtomic(filepath.Join(sub, name+EndpointBodyExt), exp.Body); err != nil {
		return fmt.Errorf("writing snapshot endpoint %q: %w", name, err)
	}
	if err := writeFileAtomic(filepath.Join(sub, name+EndpointMetaExt), append(metaJSON, '\n')); err != nil {
		return fmt.Errorf("writing snapshot endpoint %q: %w", name, err)
	}
	return nil
}

// CheckEndpoints reads every endpoint file of the snapshot as Fetch
// would, and parses each body as its content type says: a file that is
// not what its name promises is a *CorruptError naming it (and the line,
// for a body that does not parse), never quoting it. Bodies recorded cut
// short (a size in the sidecar beyond the body) and bodies of a type that
// is no exposition (an HTML login page, say) are left to the budget,
// which reports them as live would.
func (s *Snapshot) CheckEndpoints() error {
	sub := filepath.Join(s.dir, EndpointsDir)
	entries, err := os.ReadDir(sub)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &CorruptError{File: sub, Msg: "cannot be read: " + errText(err)}
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), EndpointBodyExt)
		if !ok {
			if strings.HasSuffix(e.Name(), EndpointMetaExt) {
				if _, _, err := readEndpointMeta(filepath.Join(sub, e.Name())); err != nil {
					return unwrapCorrupt(err)
				}
			}
			continue
		}
		r := &endpointReader{dir: s.dir, maxBody: MaxEndpointBodyBytes}
		exp, err := r.Fetch(context.Background(), sources.EndpointRequest{Name: name})
		if err != nil {
			if ce := unwrapCorrupt(err); ce != err {
				return ce
			}
			return &CorruptError{File: filepath.Join(sub, e.Name()), Msg: "cannot be read: " + errText(errors.Unwrap(err))}
		}
		if int64(len(exp.Body)) < exp.Size {
			continue
		}
		if line, msg := parseBody(exp); msg != "" {
			return &CorruptError{File: filepath.Join(sub, e.Name()), Line: line, Msg: msg}
		}
	}
	return nil
}

// unwrapCorrupt is the *CorruptError inside err, or err.
func unwrapCorrupt(err error) error {
	if ce, ok := errors.AsType[*CorruptError](err); ok {
		return ce
	}
	return err
}

// textLineRE finds the line in an error of the text format parser.
var textLineRE = regexp.MustCompile(`line (\d+)`)

// parseBody parses an exposition body as its content type says (as the
// endpoint budget does); on failure it gives the line, when known, and
// what is wrong, without quoting the body.
func parseBody(exp *sources.Exposition) (int, string) {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	if ct := strings.TrimSpace(exp.ContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return 0, "its sidecar's content_type is not a media type"
		}
		if mt == "text/html" || mt == "application/json" {
			return 0, "" // not an exposition: the budget says so
		}
		if f := expfmt.ResponseFormat(http.Header{"Content-Type": {ct}}); f != expfmt.FmtUnknown {
			format = f
		}
	}
	dec := expfmt.NewDecoder(bytes.NewReader(exp.Body), format)
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if errors.Is(err, io.EOF) {
			return 0, ""
		}
		if err != nil {
			line := 0
			if m := textLineRE.FindStringSubmatch(err.Error()); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
			return line, fmt.Sprintf("not a metrics exposition in its content type (%s)", strings.TrimSpace(strings.SplitN(string(format), ";", 2)[0]))
		}
	}
}
