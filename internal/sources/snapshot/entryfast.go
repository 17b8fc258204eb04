package snapshot

// The fast path of decodeEntry, for entries as snapshot writes them and
// as most tools do: `{"ts":"<time>","labels":{...},"line":"..."}` with
// no blank between the parts. It reads the three parts where they must
// be; anything else (another order, blanks, other keys, a ts in escapes
// or not quoted, a part that is wrong) gives up, and the general decoder
// does the work from the start and says what is wrong, if anything.

const (
	fastTS     = `{"ts":"`
	fastLabels = `","labels":` // after the ts, from its closing quote
	fastLine   = `,"line":`
)

// decodeEntryFast is decodeEntry for an entry in the usual shape; ok is
// false for any other line, and *dst and *qs are then as they were (in
// length).
func decodeEntryFast(b []byte, dst *[]byte, qs *[]int32, after, until int64, lc *labelCache) (e rawEntry, ok bool) {
	e.textEnd = -1
	if len(b) < len(fastTS) || string(b[:len(fastTS)]) != fastTS {
		return e, false
	}
	// The ts: up to its closing quote, without escapes or control
	// characters (which the general decoder reports).
	i := len(fastTS)
	j := i
	for j < len(b) && b[j] != '"' {
		if b[j] == '\\' || b[j] < 0x20 {
			return e, false
		}
		j++
	}
	ts, msg := parseTS(b[i:j], true)
	if msg != "" {
		return e, false
	}
	e.ts = ts
	if len(b)-j < len(fastLabels) || string(b[j:j+len(fastLabels)]) != fastLabels {
		return e, false
	}
	i = j + len(fastLabels)
	if i >= len(b) || b[i] != '{' {
		return e, false
	}
	end, msg := lc.scan(b, i)
	if msg != "" {
		return e, false
	}
	e.labels = b[i:end]
	i = end
	if len(b)-i < len(fastLine)+1 || string(b[i:i+len(fastLine)]) != fastLine || b[i+len(fastLine)] != '"' {
		return e, false
	}
	i += len(fastLine)
	if end, msg = e.readLine(b, i, dst, qs, ts > after && ts <= until); msg != "" {
		return rawEntry{textEnd: -1}, false
	}
	// The object ends there, and so does the line.
	if end+1 != len(b) || b[end] != '}' {
		if e.textEnd >= 0 {
			*dst, *qs = (*dst)[:e.textStart], (*qs)[:e.quotesFrom]
		}
		return rawEntry{textEnd: -1}, false
	}
	return e, true
}

// labelCache remembers the last few labels objects scanLabels accepted,
// as written: most lines repeat one of a few, which is then recognised by
// a comparison instead of being checked again. An object that starts
// with the bytes of an accepted one is that object: its end is where
// those bytes end.
type labelCache struct {
	objs [4][]byte
	next int
}

// scan is scanLabels with the cache.
func (c *labelCache) scan(b []byte, i int) (int, string) {
	rest := b[i:]
	for _, o := range c.objs {
		// The objects remembered share their start ({"service":" …):
		// their closing brace tells them apart first.
		if n := len(o); n > 0 && n <= len(rest) && rest[n-1] == '}' && string(rest[:n]) == string(o) {
			return i + len(o), ""
		}
	}
	end, msg := scanLabels(b, i)
	if msg == "" {
		c.objs[c.next] = append(c.objs[c.next][:0], b[i:end]...)
		c.next = (c.next + 1) % len(c.objs)
	}
	return end, msg
}
