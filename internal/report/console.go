package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"

	"github.com/secflow/secflow-budget/internal/checks"
)

// palette colors console text. Every color is enabled or disabled
// explicitly: fatih/color's package-level NoColor looks at os.Stdout and the
// environment, but the report may go to a file or a buffer and the CLI has
// already decided (--no-color, NO_COLOR, is-a-terminal).
type palette struct {
	enabled bool
}

func (p palette) color(attrs ...color.Attribute) *color.Color {
	c := color.New(attrs...)
	if p.enabled {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c
}

func newPalette(enabled bool) palette { return palette{enabled: enabled} }

// statusAttr is green pass, yellow warn, red fail and error, dim skip.
func statusAttr(s checks.Status) color.Attribute {
	switch s {
	case checks.Pass:
		return color.FgGreen
	case checks.Warn:
		return color.FgYellow
	case checks.Fail, checks.Error:
		return color.FgRed
	case checks.Waived:
		return color.FgCyan
	}
	return color.Faint
}

func (p palette) status(s checks.Status) *color.Color { return p.color(statusAttr(s)) }
func (p palette) bold() *color.Color                  { return p.color(color.Bold) }
func (p palette) dim() *color.Color                   { return p.color(color.Faint) }

// consoleIndent is where budget lines start; detail lines start under the
// budget's name.
const consoleIndent = "  "

// maxNameColumn keeps one long budget name from pushing every message far to
// the right; longer names simply break the alignment.
const maxNameColumn = 32

// WriteConsole writes the report for people: a header, the budgets grouped by
// area with the results worth reading, and a summary line.
func WriteConsole(w io.Writer, run *Run, opts Options) error {
	c := console{w: w, opts: opts, sym: symbolsFor(opts.Emoji), pal: newPalette(opts.Color)}
	c.write(run)
	return c.err
}

type console struct {
	w    io.Writer
	opts Options
	sym  symbols
	pal  palette
	err  error
	// printed says whether anything came before, so that sections are
	// separated by one blank line and a quiet report starts without one.
	printed bool
}

func (c *console) line(s string) {
	if c.err != nil {
		return
	}
	c.printed = true
	_, c.err = io.WriteString(c.w, s+"\n")
}

// gap separates sections.
func (c *console) gap() {
	if c.printed {
		c.line("")
	}
}

func (c *console) marker(s checks.Status) string {
	if c.opts.Emoji {
		return statusEmoji(s)
	}
	return statusTag(s)
}

// detailIndent lines detail lines up with the budget names: the emoji
// markers take two columns, the ASCII ones six.
func (c *console) detailIndent() string {
	if c.opts.Emoji {
		return consoleIndent + "   "
	}
	return consoleIndent + "       "
}

// shows reports whether a budget is listed: all are, except passing ones in
// quiet mode.
func (c *console) shows(o *checks.Outcome) bool {
	return !c.opts.Quiet || o.Status != checks.Pass
}

func (c *console) write(run *Run) {
	if !c.opts.Quiet {
		c.line(c.pal.bold().Sprint(c.oneLine(runHeader(run, c.sym))))
	}
	width := 0
	for i := range run.Outcomes {
		if o := &run.Outcomes[i]; c.shows(o) {
			width = max(width, min(len(o.Name), maxNameColumn))
		}
	}
	for _, g := range groupByArea(run.Outcomes) {
		header := false
		for _, o := range g.Outcomes {
			if !c.shows(o) {
				continue
			}
			if !header {
				c.gap()
				c.line(c.pal.bold().Sprint(c.oneLine(areaHeader(g.Area, c.opts.Emoji))))
				header = true
			}
			c.outcome(o, width)
		}
	}
	if len(run.Notes) > 0 {
		c.gap()
		for _, n := range run.Notes {
			c.text("note: ", "      ", n, nil)
		}
	}
	c.gap()
	c.line(c.summary(run))
}

// outcome writes a budget's line and the lines under it.
func (c *console) outcome(o *checks.Outcome, width int) {
	col := c.pal.status(o.Status)
	pad := ""
	if n := width - len(o.Name); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	msg := o.Message
	if msg == "" {
		msg = o.Status.String()
	}
	markerWidth := 6
	if c.opts.Emoji {
		markerWidth = 2 // the emoji are double width
	}
	prefix := consoleIndent + col.Sprint(c.marker(o.Status)) + " " + col.Sprint(c.oneLine(o.Name)) + pad + "  "
	msgColumn := len(consoleIndent) + markerWidth + 1 + max(len(o.Name), width) + 2
	c.text(prefix, strings.Repeat(" ", msgColumn), msg, nil)

	ind := c.detailIndent()
	for _, l := range outcomeLines(o, c.sym) {
		var tint *color.Color
		switch {
		case l.Kind == resultLine && l.Status != checks.Pass, l.Kind == errorLine:
			tint = c.pal.status(l.Status)
		case l.Kind == omittedResultsLine:
			tint = c.pal.dim()
		}
		c.text(ind, ind+"  ", l.Text, tint)
	}
}

// text writes text that came from elsewhere (a source's error, a check's
// message): control characters cannot reach the terminal, and a multi-line
// text continues on lines indented by cont. Each line is colored on its
// own so that no color runs into the next line's prefix.
func (c *console) text(prefix, cont, text string, tint *color.Color) {
	for i, l := range strings.Split(printable(text, !c.opts.Emoji), "\n") {
		if tint != nil {
			l = tint.Sprint(l)
		}
		if i == 0 {
			c.line(prefix + l)
		} else {
			c.line(cont + l)
		}
	}
}

// oneLine is text from elsewhere (a snapshot directory, a category, a
// name) that must stay on its line: printable, with line breaks as spaces.
func (c *console) oneLine(s string) string {
	return strings.ReplaceAll(printable(s, !c.opts.Emoji), "\n", " ")
}

// summary is "12 budgets: 9 passed, 1 warning, 1 failed, 1 error, 0 skipped
// → FAIL (exit 1)".
func (c *console) summary(run *Run) string {
	v := fmt.Sprintf("%s (exit %d)", verdict(run), run.ExitCode)
	return summaryCounts(run.Summarize()) + " " + c.sym.arrow + " " + c.pal.color(statusAttr(run.Verdict()), color.Bold).Sprint(v)
}
