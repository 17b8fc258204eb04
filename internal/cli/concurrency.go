package cli

// defaultConcurrency is how many budgets check evaluates at once:
// Prometheus' own --query.max-concurrency default, so that a default run
// keeps a default Prometheus busy without queueing there. 50 budgets
// against a source 100 ms away take about three round trips.
const defaultConcurrency = 20
