package checks

import "github.com/secflow/secflow-budget/internal/secret"

// maskOutcome masks, in every text of an outcome, what secret.Text masks:
// a source's error, a target's lastError, an alert's annotation or a
// runbook may quote a URL with its credentials. It is the last line of
// defence of every report, whatever check or source wrote the text.
func maskOutcome(o Outcome) Outcome {
	o.Message = secret.Text(o.Message)
	o.Runbook = secret.Text(o.Runbook)
	o.Description = secret.Text(o.Description)
	o.Notes = maskAll(o.Notes)
	o.Details = maskAll(o.Details)
	o.Warnings = maskAll(o.Warnings)
	for i, q := range o.Queries {
		// Queries are code: only URLs in them are masked.
		if m := secret.URLs(q); m != q {
			o.Queries = append([]string(nil), o.Queries...)
			o.Queries[i] = m
		}
	}
	if o.Err != nil {
		e := *o.Err
		e.Message = secret.Text(e.Message)
		o.Err = &e
	}
	if o.Results != nil {
		rs := make([]Result, len(o.Results))
		for i, r := range o.Results {
			r.Note = secret.Text(r.Note)
			if r.Extra != nil {
				extra := make([]KV, len(r.Extra))
				for j, kv := range r.Extra {
					if v, ok := kv.Value.(string); ok {
						kv.Value = secret.Text(v)
					}
					extra[j] = kv
				}
				r.Extra = extra
			}
			rs[i] = r
		}
		o.Results = rs
	}
	return o
}

func maskAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = secret.Text(s)
	}
	return out
}
