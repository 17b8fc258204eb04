package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTLSClientConfigSettings(t *testing.T) {
	var none *TLS
	c, err := none.ClientConfig()
	if err != nil || c == nil || c.RootCAs != nil || c.InsecureSkipVerify || c.ServerName != "" || c.GetClientCertificate != nil {
		t.Errorf("nil TLS: %+v, %v", c, err)
	}
	c, err = (&TLS{ServerName: "prom.example", InsecureSkipVerify: true}).ClientConfig()
	if err != nil || c.ServerName != "prom.example" || !c.InsecureSkipVerify || c.RootCAs != nil {
		t.Errorf("server_name and insecure_skip_verify: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		tls  TLS
		want string
	}{
		{TLS{CertFile: "c.pem"}, "cert_file is set without key_file: they go together"},
		{TLS{KeyFile: "k.pem"}, "key_file is set without cert_file: they go together"},
	} {
		if _, err := tc.tls.ClientConfig(); err == nil || err.Error() != tc.want {
			t.Errorf("%+v: %v, want %q", tc.tls, err, tc.want)
		}
	}
}

// A client certificate that is no certificate is refused when the budgets
// file is loaded, at the tls setting, without quoting the files.
func TestTLSClientCertificateCheckedAtLoad(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "client.pem")
	key := filepath.Join(dir, "client-key.pem")
	for _, p := range []string{cert, key} {
		if err := os.WriteFile(p, []byte("PRIVATE-MATERIAL\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	text := "version: 1\nsources:\n  prometheus:\n    url: https://p:9090\n    tls:\n      cert_file: " + cert + "\n      key_file: " + key + "\nbudgets:\n  - name: a\n    type: t\n"
	cfg, err := Parse("b.yaml", []byte(text), testReader)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.SourceFileErrors().Error()
	want := "b.yaml:6:7: sources.prometheus.tls: unable to use specified client cert (file " + cert + ") & key (file " + key + "): tls: failed to find any PEM data in certificate input"
	if got != want {
		t.Errorf("\n got: %q\nwant: %q", got, want)
	}
	if strings.Contains(got, "PRIVATE-MATERIAL") {
		t.Errorf("the message quotes a file: %q", got)
	}
}
