package httpclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/secflow/secflow-budget/internal/sources"
)

// Our transports never ask for a compressed answer: newTransport sets
// DisableCompression, so no Accept-Encoding is sent and net/http decodes
// nothing. A server or proxy that compresses anyway sends bytes no JSON
// decoder can read ("invalid character '\x1f' looking for beginning of
// value"): encodingCheck names the real problem instead.

// UnsolicitedEncodingError is returned while reading a body that the
// server compressed although we did not ask it to: declared in
// Content-Encoding, or recognised by its first bytes.
type UnsolicitedEncodingError struct {
	// Status is the HTTP status of the answer.
	Status int
	// Encoding is the compression: the Content-Encoding value, or the
	// format whose magic number the body starts with.
	Encoding string
	// Declared is whether the answer said so in Content-Encoding.
	Declared bool
}

func (e *UnsolicitedEncodingError) Error() string {
	how := "without saying so in Content-Encoding"
	if e.Declared {
		how = "Content-Encoding: " + e.Encoding
	}
	return fmt.Sprintf("answered HTTP %d %s with a %s-compressed body we did not ask for (%s): "+
		"it cannot be read; check the server or a proxy in front of it",
		e.Status, http.StatusText(e.Status), e.Encoding, how)
}

// compressedMagic are the first bytes of the compressed formats that can
// be told from their start (brotli cannot). No JSON or text answer starts
// with them.
var compressedMagic = []struct {
	name  string
	magic []byte
}{
	{"gzip", []byte{0x1f, 0x8b}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
}

// maxMagicLen is the length of the longest magic number.
const maxMagicLen = 4

// encodingCheck wraps the body of resp so that its first read fails with
// an *UnsolicitedEncodingError when the body is compressed. The check is
// made on reading, not at once, so that a client that looks only at the
// status (an anonymous probe expecting 401) is not affected.
func encodingCheck(resp *http.Response) io.ReadCloser {
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	if enc == "identity" {
		enc = ""
	}
	return &encodingCheckBody{rc: resp.Body, status: resp.StatusCode, declared: enc}
}

type encodingCheckBody struct {
	rc       io.ReadCloser
	status   int
	declared string
	checked  bool
	head     []byte // bytes read by the check and not yet returned
	err      error
}

func (b *encodingCheckBody) Read(p []byte) (int, error) {
	if !b.checked {
		b.checked = true
		b.err = b.check()
	}
	if b.err != nil {
		return 0, b.err
	}
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	return b.rc.Read(p)
}

// check reads the first bytes of the body and decides.
func (b *encodingCheckBody) check() error {
	if b.declared != "" {
		return &UnsolicitedEncodingError{Status: b.status, Encoding: b.declared, Declared: true}
	}
	var head [maxMagicLen]byte
	n, err := io.ReadFull(b.rc, head[:])
	b.head = head[:n]
	for _, m := range compressedMagic {
		if n >= len(m.magic) && bytes.Equal(head[:len(m.magic)], m.magic) {
			return &UnsolicitedEncodingError{Status: b.status, Encoding: m.name}
		}
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		// A real read error (a cut connection, the size limit): the
		// next read would return it too, but the bytes before it are
		// of no use.
		return err
	}
	return nil
}

func (b *encodingCheckBody) Close() error { return b.rc.Close() }

// bodyFailed classifies an error met while reading an answer's body, or
// returns nil for one met before any answer. net/http reports the latter
// as a *url.Error; reading the body does not wrap its errors. A body cut
// off is no "cannot reach": the server answered, then broke off.
func (c *Client) bodyFailed(err error) error {
	var compressed *UnsolicitedEncodingError
	if errors.As(err, &compressed) {
		return c.Fail(sources.BadResponse, compressed, "%s %v", c.Redacted, compressed)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return nil
	}
	return c.Fail(sources.Unavailable, err, "the answer from %s was cut off: %v", c.Redacted, err)
}
