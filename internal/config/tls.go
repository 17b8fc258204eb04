package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ClientConfig is the *tls.Config that the live clients connect with, built
// as prometheus/common/config (v0.73.1) builds it from the same settings,
// with the same error texts. The CA file is read now; the client
// certificate and key are read now to check them, and again at every
// handshake, so a renewed certificate is used by the next connection.
// Error texts name files, never their content. A nil t is an empty config:
// the system's roots, no client certificate.
//
// It lives here rather than in the HTTP client so that loading budgets.yaml
// can say, with the file, line and column of the tls setting, what the
// client would say at its first request.
func (t *TLS) ClientConfig() (*tls.Config, error) {
	if t == nil {
		return &tls.Config{}, nil
	}
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		return nil, errors.New("cert_file is set without key_file: they go together")
	case t.KeyFile != "" && t.CertFile == "":
		return nil, errors.New("key_file is set without cert_file: they go together")
	}
	c := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify, ServerName: t.ServerName}
	if t.CAFile != "" {
		ca, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("unable to read CA cert: unable to read file %s: %w", t.CAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("unable to use specified CA cert file %s", t.CAFile)
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" {
		if _, err := t.clientCertificate(); err != nil {
			return nil, err
		}
		files := *t // later changes to t do not reach open clients
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return files.clientCertificate()
		}
	}
	return c, nil
}

// clientCertificate reads the client certificate and its key.
// tls.X509KeyPair's errors say what is wrong, never quote the input.
func (t *TLS) clientCertificate() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(t.CertFile)
	if err != nil {
		return nil, fmt.Errorf("unable to read specified client cert: unable to read file %s: %w", t.CertFile, err)
	}
	keyPEM, err := os.ReadFile(t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("unable to read specified client key: unable to read file %s: %w", t.KeyFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("unable to use specified client cert (file %s) & key (file %s): %w", t.CertFile, t.KeyFile, err)
	}
	return &cert, nil
}
