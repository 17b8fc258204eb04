package sources

import (
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

var (
	sizeRetentionRE    = regexp.MustCompile(`^(?:\d+(?:\.\d+)?[KMGTPE]?i?B)+$`)
	percentRetentionRE = regexp.MustCompile(`^\d+(?:\.\d+)?%$`)
)

// ParseStorageRetention reads Prometheus' storageRetention as Prometheus
// writes it: the time limit, the size limit and (3.x) the share of the
// disk, each only when set, joined by " or ": "15d", "15d or 10GiB",
// "10GiB", "30d or 80%", "" for none. It returns the time limit and the
// size limits, or the first part it cannot read (bad != ""). The live
// check and the snapshot reader both read it here.
func ParseStorageRetention(s string) (limit time.Duration, sizes []string, bad string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil, ""
	}
	for _, part := range strings.Split(s, " or ") {
		part = strings.TrimSpace(part)
		if d, err := model.ParseDuration(part); err == nil {
			limit = time.Duration(d)
			continue
		}
		if sizeRetentionRE.MatchString(part) || percentRetentionRE.MatchString(part) {
			sizes = append(sizes, part)
			continue
		}
		return 0, nil, part
	}
	return limit, sizes, ""
}
