package sources

import (
	"maps"

	"github.com/prometheus/common/model"
)

// CloneVector returns a deep copy of v: its samples, their label sets and
// histograms. Budgets that share one answer (the live sources answer the
// same query asked at the same time once) each get their own copy, so that
// none can alter what another reads.
func CloneVector(v model.Vector) model.Vector {
	if v == nil {
		return nil
	}
	out := make(model.Vector, len(v))
	samples := make([]model.Sample, len(v))
	for i, s := range v {
		if s == nil {
			continue
		}
		c := &samples[i]
		*c = *s
		c.Metric = maps.Clone(s.Metric)
		if s.Histogram != nil {
			h := *s.Histogram
			if s.Histogram.Buckets != nil {
				h.Buckets = make(model.HistogramBuckets, len(s.Histogram.Buckets))
				for j, b := range s.Histogram.Buckets {
					if b != nil {
						bc := *b
						h.Buckets[j] = &bc
					}
				}
			}
			c.Histogram = &h
		}
		out[i] = c
	}
	return out
}
