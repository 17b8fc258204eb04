package config

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// ErrorfItem records an error at item i of list key (its line, column and
// path key[i]), e.g. the one glob of a list that matches no file; at the
// list when there is no such item.
func (f *Fields) ErrorfItem(key string, i int, format string, args ...any) {
	v, ok := f.vals[key]
	if !ok || v.Kind != yaml.SequenceNode || i < 0 || i >= len(v.Content) {
		f.Errorf(key, format, args...)
		return
	}
	use := f.at[key]
	item := v.Content[i]
	if item.Kind == yaml.AliasNode && use == nil {
		use = item
	}
	f.errorAtUse(resolve(item), use, fmt.Sprintf("%s[%d]", f.sub(key), i), 0, format, args...)
}
