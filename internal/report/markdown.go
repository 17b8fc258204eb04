package report

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/secflow/secflow-budget/internal/checks"
)

// MarkdownMarker is the first line of every Markdown report: hidden when
// rendered, it lets a bot find and update its own pull request comment and
// no other. It never changes.
const MarkdownMarker = "<!-- secflow-budget -->"

// MaxMarkdownSize is the most bytes a Markdown report has (so never more
// characters): it fits a pull request comment (GitHub takes 65,536) with
// room for a bot's own words. A longer report is cut, whole budgets at a
// time, with a note saying what was left out.
const MaxMarkdownSize = 60000

// WriteMarkdown writes a report for a pull request comment or
// $GITHUB_STEP_SUMMARY: the hidden MarkdownMarker, a headline naming the
// budgets that fail the run, the counts, the budgets that did not pass
// worst first (see worstFirst) with their results, and the passing and
// skipped budgets, a table per area, folded in a <details> block. A run
// stopped before any budget ran lists its errors instead.
func WriteMarkdown(w io.Writer, run *Run, opts Options) error {
	_, err := io.WriteString(w, renderMarkdown(run, opts, MaxMarkdownSize))
	return err
}

// renderMarkdown is the report of run in at most limit bytes when it can
// be: the first budgets in reading order (those that did not pass first),
// as many as fit, each whole. Every candidate is a complete document, so a
// cut never splits a table row, a code span or a <details> block.
func renderMarkdown(run *Run, opts Options, limit int) string {
	if len(run.Outcomes) == 0 && len(run.Errors) > 0 {
		m := markdown{opts: opts, sym: symbolsFor(opts.Emoji)}
		m.writeErrors(run)
		return m.b.String()
	}
	order, notPassing := markdownOrder(run)
	render := func(keep int) string {
		m := markdown{opts: opts, sym: symbolsFor(opts.Emoji)}
		m.write(run, order, notPassing, keep)
		return m.b.String()
	}
	if full := render(len(order)); len(full) <= limit {
		return full
	}
	// The longest prefix that fits; the note may make a shorter cut a few
	// bytes longer, so every candidate is measured, not estimated.
	lo, hi := 0, len(order)-1
	best := render(0)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if s := render(mid); len(s) <= limit {
			lo, best = mid, s
		} else {
			hi = mid - 1
		}
	}
	return best
}

// markdownOrder is the reading order of the report: the budgets that did
// not pass, worst first, then the others by area (in budgets.yaml order
// within one). notPassing is how many come first.
func markdownOrder(run *Run) (order []*checks.Outcome, notPassing int) {
	first := map[*checks.Outcome]bool{}
	for _, o := range worstFirst(run) {
		if o.Status == checks.Fail || o.Status == checks.Error || o.Status == checks.Warn {
			order = append(order, o)
			first[o] = true
		}
	}
	notPassing = len(order)
	for _, g := range groupByArea(run.Outcomes) {
		for _, o := range g.Outcomes {
			if !first[o] {
				order = append(order, o)
			}
		}
	}
	return order, notPassing
}

type markdown struct {
	b    strings.Builder
	opts Options
	sym  symbols
}

func (m *markdown) line(format string, args ...any) {
	fmt.Fprintf(&m.b, format, args...)
	m.b.WriteByte('\n')
}

// status is the status cell: an emoji, or the status in capitals.
func (m *markdown) status(s checks.Status) string {
	if m.opts.Emoji {
		return statusEmoji(s)
	}
	return strings.ToUpper(s.String())
}

// write renders the first keep budgets of order, the first notPassing of
// which did not pass.
func (m *markdown) write(run *Run, order []*checks.Outcome, notPassing, keep int) {
	m.line("%s", MarkdownMarker)
	title := headline(run, m.sym)
	if m.opts.Emoji {
		title = statusEmoji(run.Verdict()) + " " + title
	}
	m.line("## %s", mdText(title))
	m.line("")
	s := run.Summarize()
	counts := summaryCounts(s)
	n, rest, _ := strings.Cut(counts, ": ")
	if warningsFail(run) {
		rest += " " + m.sym.dot + " warnings fail this run"
	}
	m.line("**%s**: %s %s exit code %d", n, rest, m.sym.dot, run.ExitCode)

	if shown := order[:min(keep, notPassing)]; len(shown) > 0 {
		m.line("")
		m.line("### Budgets that did not pass")
		m.line("")
		m.line("| Status | Budget | Result |")
		m.line("| :-: | --- | --- |")
		for _, o := range shown {
			m.row(o)
		}
		for _, o := range shown {
			for _, l := range m.outcome(o, run.FailsRun(o.Status)) {
				m.line("%s", l)
			}
		}
	}

	if keep > notPassing {
		m.line("")
		m.line("<details><summary>%s</summary>", m.foldedSummary(order[notPassing:]))
		shown := order[notPassing:keep]
		var details []string
		for i, o := range shown {
			if i == 0 || o.Category != shown[i-1].Category {
				area := o.Category
				if area == "" {
					area = otherArea
				}
				m.line("")
				m.line("### %s", mdText(areaHeader(area, m.opts.Emoji)))
				m.line("")
				m.line("| Status | Budget | Result |")
				m.line("| :-: | --- | --- |")
			}
			m.row(o)
			if o.Status != checks.Pass {
				details = append(details, m.outcome(o, false)...)
			}
		}
		for _, l := range details {
			m.line("%s", l)
		}
		m.line("")
		m.line("</details>")
	}

	if len(run.Notes) > 0 {
		m.line("")
		m.line("**Notes**")
		m.line("")
		for _, n := range run.Notes {
			m.line("- %s", mdText(n))
		}
	}
	if left := order[keep:]; len(left) > 0 {
		failing := 0
		for _, o := range left {
			if o.Status == checks.Fail || o.Status == checks.Error || o.Status == checks.Warn {
				failing++
			}
		}
		what := ""
		if failing > 0 {
			what = fmt.Sprintf(", %d of which did not pass", failing)
		}
		m.line("")
		verb := "are"
		if len(left) == 1 {
			verb = "is"
		}
		note := fmt.Sprintf("This report was cut to fit %s characters: %d of %s %s left out%s. Every budget is in %s.",
			formatCount(MaxMarkdownSize), len(left), plural(len(order), "budget", "budgets"), verb, what, fullReport(m.opts))
		if m.opts.Emoji {
			note = "✂️ " + note
		}
		m.line("%s", mdText(note))
	}

	m.line("")
	m.line("<sub>%s</sub>", mdText(runHeader(run, m.sym)))
}

// row is a budget's table row.
func (m *markdown) row(o *checks.Outcome) {
	m.line("| %s | %s | %s |", m.status(o.Status), mdCode(o.Name, true), mdText(o.Message))
}

// foldedSummary is the <summary> of the folded budgets: "✅ 5 passed ·
// ⏭️ 1 skipped". It holds no text from the budgets (HTML is not escaped
// there as Markdown is).
func (m *markdown) foldedSummary(folded []*checks.Outcome) string {
	counts := map[checks.Status]int{}
	var statuses []checks.Status
	for _, o := range folded {
		if counts[o.Status] == 0 {
			statuses = append(statuses, o.Status)
		}
		counts[o.Status]++
	}
	slices.Sort(statuses)
	var parts []string
	for _, st := range statuses {
		word := st.String()
		switch st {
		case checks.Pass:
			word = "passed"
		case checks.Skip:
			word = "skipped"
		}
		part := fmt.Sprintf("%d %s", counts[st], word)
		if m.opts.Emoji {
			part = statusEmoji(st) + " " + part
		}
		parts = append(parts, part)
	}
	return html.EscapeString(strings.Join(parts, " "+m.sym.dot+" "))
}

// writeErrors is the report of a run stopped before any budget ran (an
// invalid budgets file, a bad flag): what stopped it and where.
func (m *markdown) writeErrors(run *Run) {
	m.line("%s", MarkdownMarker)
	title := fmt.Sprintf("%s: ERROR %s no budget ran (exit %d)", toolName(run), m.sym.dash, run.ExitCode)
	if m.opts.Emoji {
		title = statusEmoji(checks.Error) + " " + title
	}
	m.line("## %s", mdText(title))
	m.line("")
	for _, e := range run.Errors {
		where := e.File
		if where != "" && e.Line > 0 {
			where += fmt.Sprintf(":%d", e.Line)
			if e.Column > 0 {
				where += fmt.Sprintf(":%d", e.Column)
			}
		}
		if e.Field != "" {
			if where != "" {
				where += " "
			}
			where += e.Field
		}
		item := "- "
		if where != "" {
			item += mdCode(where, false) + ": "
		}
		m.line("%s", item+mdText(e.Message))
	}
	m.line("")
	m.line("<sub>%s</sub>", mdText(runHeader(run, m.sym)))
}

// headline is what a reader acts on: the verdict and the budgets behind
// it, "secflow-budget: FAIL – 2 of 10 budgets failed: a, b".
func headline(run *Run, sym symbols) string {
	var failing, undecided, warned, skipped, waived []string
	for _, o := range worstFirst(run) {
		switch {
		case run.FailsRun(o.Status):
			failing = append(failing, o.Name)
		case o.Status == checks.Error:
			undecided = append(undecided, o.Name)
		case o.Status == checks.Warn:
			warned = append(warned, o.Name)
		case o.Status == checks.Skip:
			skipped = append(skipped, o.Name)
		case o.Status == checks.Waived:
			waived = append(waived, o.Name)
		}
	}
	total := len(run.Outcomes)
	of := func(names []string, what string) string {
		return fmt.Sprintf("%d of %s %s: %s", len(names), plural(total, "budget", "budgets"), what, headlineNames(names, sym))
	}
	var what string
	switch {
	case total == 0:
		what = "no budget ran"
	case len(failing) > 0:
		what = of(failing, "failed")
		if len(undecided) > 0 {
			what += fmt.Sprintf("; %d could not be decided: %s", len(undecided), headlineNames(undecided, sym))
		}
	case len(undecided) > 0:
		what = of(undecided, "could not be decided")
	case len(warned) > 0:
		what = of(warned, "warned, none failed")
	case len(skipped)+len(waived) > 0:
		what = fmt.Sprintf("%d of %s passed", total-len(skipped)-len(waived), plural(total, "budget", "budgets"))
		if len(skipped) > 0 {
			what += fmt.Sprintf("; %d skipped: %s", len(skipped), headlineNames(skipped, sym))
		}
		if len(waived) > 0 {
			what += fmt.Sprintf("; %d waived: %s", len(waived), headlineNames(waived, sym))
		}
	case total == 1:
		what = "the budget passed"
	default:
		what = fmt.Sprintf("all %d budgets passed", total)
	}
	return toolName(run) + ": " + verdict(run) + " " + sym.dash + " " + what
}

// headlineNames lists up to five budgets, each at most 60 characters.
func headlineNames(names []string, sym symbols) string {
	const most, width = 5, 60
	shown := make([]string, 0, most)
	for _, n := range names[:min(len(names), most)] {
		if r := []rune(n); len(r) > width {
			n = string(r[:width-1]) + sym.ellipsis
		}
		shown = append(shown, n)
	}
	s := strings.Join(shown, ", ")
	if len(names) > most {
		s += fmt.Sprintf(" and %d more", len(names)-most)
	}
	return s
}

// outcome is the details of a budget that did not pass: its message and a
// list of results, notes, offenders, error and runbook. A budget with
// nothing to list (a skip) is already said in full by its table row.
func (m *markdown) outcome(o *checks.Outcome, failsRun bool) []string {
	var items []string
	if failsRun && o.Status == checks.Warn {
		items = append(items, "A warning, which fails this run (--fail-on warn)")
	}
	shown, hiddenPass, hiddenOther := resultsWorthShowing(o)
	for _, r := range shown {
		t := describeResult(r, m.sym)
		item := m.status(r.Status) + " " + mdCode(t.Subject, false)
		if t.Measure != "" {
			item += " " + mdText(t.Measure)
		}
		if t.Extras != "" {
			item += " (" + mdText(t.Extras) + ")"
		}
		if t.Note != "" {
			item += ": " + mdText(t.Note)
		}
		items = append(items, item)
	}
	if s := omittedLine(o, hiddenPass, hiddenOther, m.sym); s != "" {
		items = append(items, mdText(s))
	}
	for _, n := range o.Notes {
		items = append(items, "Note: "+mdText(n))
	}
	for _, d := range o.Details {
		items = append(items, mdText(d))
	}
	if o.Err != nil {
		items = append(items, "**Error**: "+mdText(errorText(o.Err)))
	}
	if o.Severity == "warning" {
		items = append(items, "Severity warning: a violation only warns")
	}
	if o.Runbook != "" {
		items = append(items, "Runbook: "+mdLink(o.Runbook))
	}
	if len(items) == 0 {
		return nil
	}
	lines := []string{"", "#### " + m.status(o.Status) + " " + mdCode(o.Name, false)}
	if o.Message != "" {
		lines = append(lines, "", mdText(o.Message))
	}
	lines = append(lines, "")
	for _, it := range items {
		lines = append(lines, "- "+it)
	}
	return lines
}

// mdText is text set as text, on one line and safe in a table cell. It
// escapes only what GitHub would read as markup there (emphasis, code,
// links, HTML tags and entities, strikethrough, the cell separator), so
// that the source of a comment stays readable too: "p95 212s > 300s" and
// "on_missing" pass unchanged.
func mdText(s string) string {
	rs := []rune(printable(s, false))
	var b strings.Builder
	for i, r := range rs {
		var prev, next rune
		if i > 0 {
			prev = rs[i-1]
		}
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		switch {
		case r == '\n':
			b.WriteByte(' ')
		case r == '\\' || r == '`' || r == '*' || r == '~' || r == '[' || r == ']' || r == '|':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '_' && !(isAlnum(prev) && isAlnum(next)):
			// Inside a word GitHub keeps underscores (on_missing).
			b.WriteString(`\_`)
		case r == '<' && (unicode.IsLetter(next) || strings.ContainsRune("/!?", next)):
			b.WriteString("&lt;")
		case r == '&' && (isAlnum(next) || next == '#'):
			b.WriteString("&amp;")
		case i == 0 && strings.ContainsRune("#>-+=", r):
			// Only at the start of a line do these open a block.
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeTablePipes escapes every pipe as \| and doubles the backslashes
// right before one: GitHub splits a row at a pipe after an escaped
// backslash (\\|), so a cell holding \| would break out of its column.
func escapeTablePipes(s string) string {
	if !strings.Contains(s, "|") {
		return s
	}
	var b strings.Builder
	run := 0 // backslashes written since the last other character
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			run++
			b.WriteByte(c)
		case '|':
			b.WriteString(strings.Repeat(`\`, run))
			b.WriteString(`\|`)
			run = 0
		default:
			run = 0
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// mdCode sets s in a code span: a backtick fence longer than any run of
// backticks inside. In a table cell pipes are escaped too, since GitHub
// splits cells before it reads code spans (and shows the backslash
// anywhere else).
func mdCode(s string, inTable bool) string {
	s = strings.ReplaceAll(printable(s, false), "\n", " ")
	if inTable {
		s = escapeTablePipes(s)
	}
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdLink is an autolink for a plain http(s) URL, escaped text otherwise.
func mdLink(u string) string {
	if (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) &&
		!strings.ContainsAny(u, " <>\"`\r\n|") {
		return "<" + u + ">"
	}
	return mdText(u)
}
