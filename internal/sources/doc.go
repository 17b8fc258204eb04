// Package sources defines where the numbers come from: the interfaces that the
// live clients (prometheus/, later loki/) and the offline snapshot reader
// (snapshot/) implement, and the typed errors they return. Checks depend on
// these interfaces only, so live and offline runs share all check code.
package sources
