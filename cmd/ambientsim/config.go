package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"
)

// Settings: every flag of the running command takes its value from the
// command line, else from AMBIENTSIM_<FLAG> in the environment, else from
// the --config file, else its default. Values from the environment and the
// file go through the flag's own parser (pflag Value.Set), so a bad value is
// rejected exactly like the same mistake on the command line: exit 2, naming
// where it came from. A key in the config file that is no command's flag is
// an error too, with the nearest valid key.
//
// The resolved values are written into the flags themselves (marked
// changed), so commands read one place (viper sees a changed flag first)
// and the recorded command lines (summary.json "command", the report's
// regenerate line) include every setting that did not come from a default.

// envPrefix prefixes the environment variable of every flag.
const envPrefix = "AMBIENTSIM_"

// maxConfigBytes bounds the config file read: it holds a few flag values.
const maxConfigBytes = 1 << 20

// origin says where a setting's value came from.
type origin int

const (
	fromFlag origin = iota + 1
	fromEnv
	fromConfig
)

// setting is one flag whose value did not come from its default.
type setting struct {
	name  string // flag name
	value string // as given (a list joined with commas)
	from  origin
	where string // "--seed", "AMBIENTSIM_SEED" or "file.yaml:3"
}

// describe names the source for messages: `AMBIENTSIM_SEED="abc"`,
// `cfg.yaml:3: seed: "abc"` or `--seed "abc"`.
func (s setting) describe() string {
	switch s.from {
	case fromEnv:
		return fmt.Sprintf("%s=%q", s.where, s.value)
	case fromConfig:
		return fmt.Sprintf("%s: %s: %q", s.where, s.name, s.value)
	}
	return fmt.Sprintf("--%s %q", s.name, s.value)
}

// configEntry is one key of the config file.
type configEntry struct {
	value string
	line  int
}

// configFile is a decoded --config file: flat keys named like the flags.
type configFile struct {
	path    string
	entries map[string]configEntry
}

// loadConfig reads a YAML, JSON or TOML config file of flag defaults.
// Errors name the file and line.
func loadConfig(path string) (*configFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, usageErrorf("reading config %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return nil, usageErrorf("config %s: larger than %d bytes; it holds flag values only", path, maxConfigBytes)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		return parseTOMLConfig(path, data)
	case ".yaml", ".yml", ".json", "":
		return parseYAMLConfig(path, data)
	}
	return nil, usageErrorf("config %s: unknown file type %q; use .yaml, .yml, .json or .toml", path, filepath.Ext(path))
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// parseYAMLConfig reads YAML (and so JSON) keeping each key's line.
func parseYAMLConfig(path string, data []byte) (*configFile, error) {
	cf := &configFile{path: path, entries: map[string]configEntry{}}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return cf, nil // an empty file sets nothing
		}
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return nil, usageErrorf("config %s:%s: %s", path, m[1], m[2])
		}
		return nil, usageErrorf("config %s: %s", path, strings.TrimPrefix(msg, "yaml: "))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return cf, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, usageErrorf("config %s:%d: want a mapping of flag names to values, e.g. \"seed: 7\"", path, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if _, dup := cf.entries[k.Value]; dup {
			return nil, usageErrorf("config %s:%d: %s is set twice", path, k.Line, k.Value)
		}
		var val string
		switch v.Kind {
		case yaml.ScalarNode:
			val = v.Value
		case yaml.SequenceNode:
			items := make([]string, 0, len(v.Content))
			for _, it := range v.Content {
				if it.Kind != yaml.ScalarNode {
					return nil, usageErrorf("config %s:%d: %s: want a list of plain values", path, it.Line, k.Value)
				}
				items = append(items, it.Value)
			}
			val = joinCSV(items)
		default:
			return nil, usageErrorf("config %s:%d: %s: want a value, not a mapping (keys are flag names, e.g. \"seed: 7\")", path, k.Line, k.Value)
		}
		cf.entries[k.Value] = configEntry{value: val, line: k.Line}
	}
	return cf, nil
}

// parseTOMLConfig reads TOML; key lines are found in the text.
func parseTOMLConfig(path string, data []byte) (*configFile, error) {
	cf := &configFile{path: path, entries: map[string]configEntry{}}
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, usageErrorf("config %s:%d: %s", path, row, de.Error())
		}
		return nil, usageErrorf("config %s: %v", path, err)
	}
	lines := strings.Split(string(data), "\n")
	lineOf := func(key string) int {
		re := regexp.MustCompile(`^\s*"?` + regexp.QuoteMeta(key) + `"?\s*=`)
		for i, l := range lines {
			if re.MatchString(l) {
				return i + 1
			}
		}
		return 0
	}
	for k, v := range m {
		var val string
		switch x := v.(type) {
		case map[string]any:
			return nil, usageErrorf("config %s:%d: %s: want a value, not a table (keys are flag names, e.g. seed = 7)", path, lineOf(k), k)
		case []any:
			items := make([]string, len(x))
			for i, it := range x {
				items[i] = fmt.Sprint(it)
			}
			val = joinCSV(items)
		default:
			val = fmt.Sprint(x)
		}
		cf.entries[k] = configEntry{value: val, line: lineOf(k)}
	}
	return cf, nil
}

func joinCSV(items []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(items)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// where names a config key's place: "file:line" (or the file).
func (cf *configFile) where(key string) string {
	if l := cf.entries[key].line; l > 0 {
		return fmt.Sprintf("%s:%d", cf.path, l)
	}
	return cf.path
}

// flagNames lists every flag of every command in the tree (the keys a
// config file may set), without help and config.
func flagNames(root *cobra.Command) []string {
	set := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) { set[f.Name] = true }
		c.LocalFlags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	delete(set, "help")
	delete(set, "config")
	delete(set, "version")
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// envName is the environment variable of a flag: AMBIENTSIM_SLO_P99_MS
// for --slo-p99-ms.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flag))
}

// checkConfigKeys rejects keys of the config file that are no command's
// flag, suggesting the nearest one.
func checkConfigKeys(cf *configFile, known []string) error {
	keys := make([]string, 0, len(cf.entries))
	for k := range cf.entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return cf.entries[keys[i]].line < cf.entries[keys[j]].line })
	for _, k := range keys {
		if contains(known, k) {
			continue
		}
		msg := fmt.Sprintf("config %s: unknown setting %q", cf.where(k), k)
		if c := yamlcheck.Closest(k, known, 3); c != "" {
			msg += fmt.Sprintf("; did you mean %q?", c)
		} else {
			msg += " (keys are flag names: see ambientsim COMMAND --help)"
		}
		return usageErrorf("%s", msg)
	}
	return nil
}

// unknownEnvWarnings returns a warning for each AMBIENTSIM_* variable that
// names no flag but is close to one (a likely typo). Others are left
// alone: the test suite and the harness use some for themselves.
func unknownEnvWarnings(environ, known []string) []string {
	var envs []string
	for _, k := range known {
		envs = append(envs, envName(k))
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || contains(envs, name) || name == envPrefix+"CONFIG" {
			continue
		}
		if c := yamlcheck.Closest(name, envs, 2); c != "" {
			out = append(out, fmt.Sprintf("%s is not a setting of any command; did you mean %s?", name, c))
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// applySettings resolves every flag of cmd (flag > env > config file >
// default), parses env and file values with the flag's own parser, and
// returns the settings that did not come from a default, in flag order.
func applySettings(cmd *cobra.Command, cf *configFile, lookupEnv func(string) (string, bool)) ([]setting, error) {
	var out []setting
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if firstErr != nil || f.Name == "help" || f.Name == "config" {
			return
		}
		if f.Changed {
			out = append(out, setting{name: f.Name, value: f.Value.String(), from: fromFlag, where: "--" + f.Name})
			return
		}
		var s setting
		if v, ok := lookupEnv(envName(f.Name)); ok {
			s = setting{name: f.Name, value: v, from: fromEnv, where: envName(f.Name)}
		} else if e, ok := cf.lookup(f.Name); ok {
			s = setting{name: f.Name, value: e.value, from: fromConfig, where: cf.where(f.Name)}
		} else {
			return
		}
		if err := cmd.Flags().Set(f.Name, s.value); err != nil {
			firstErr = usageErrorf("%s: want %s", s.describe(), valueKind(f))
			return
		}
		out = append(out, s)
	})
	return out, firstErr
}

func (cf *configFile) lookup(key string) (configEntry, bool) {
	if cf == nil {
		return configEntry{}, false
	}
	e, ok := cf.entries[key]
	return e, ok
}

// valueKind says in words what a flag accepts.
func valueKind(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "uint", "uint8", "uint16", "uint32", "uint64":
		return "a non-negative integer (like --" + f.Name + ")"
	case "int", "int8", "int16", "int32", "int64", "count":
		return "an integer (like --" + f.Name + ")"
	case "float32", "float64":
		return "a number (like --" + f.Name + ")"
	case "bool":
		return "true or false (like --" + f.Name + ")"
	case "duration":
		return "a duration like 30s (like --" + f.Name + ")"
	case "stringSlice", "stringArray":
		return "a list of values (like --" + f.Name + ")"
	}
	return "a valid --" + f.Name + " value"
}

type settingsKey struct{}

// withSettings stores the resolved settings in the command's context.
func withSettings(ctx context.Context, s []setting) context.Context {
	return context.WithValue(ctx, settingsKey{}, s)
}

// settingsOf returns the settings resolved for the running command.
func settingsOf(cmd *cobra.Command) []setting {
	if ctx := cmd.Context(); ctx != nil {
		if s, ok := ctx.Value(settingsKey{}).([]setting); ok {
			return s
		}
	}
	return nil
}

// explainOrigin adds where a setting came from to a usage error that names
// its flag but was caused by the environment or the config file, e.g.
// "--workers must be positive, got -1 (--workers came from
// AMBIENTSIM_WORKERS="-1")".
func explainOrigin(err error, settings []setting) error {
	var ue *usageError
	if err == nil || !errors.As(err, &ue) {
		return err
	}
	msg := err.Error()
	var notes []string
	for _, s := range settings {
		if s.from == fromFlag || !flagMentioned(msg, s.name) || strings.Contains(msg, s.where) {
			continue
		}
		notes = append(notes, fmt.Sprintf("--%s came from %s", s.name, s.describe()))
	}
	if len(notes) == 0 {
		return err
	}
	return &usageError{fmt.Errorf("%w (%s)", err, strings.Join(notes, "; "))}
}

// flagMentioned reports whether msg names --name as a whole flag.
func flagMentioned(msg, name string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], "--"+name)
		if j < 0 {
			return false
		}
		end := i + j + 2 + len(name)
		if end == len(msg) || !(msg[end] == '-' || msg[end] >= 'a' && msg[end] <= 'z' || msg[end] >= '0' && msg[end] <= '9') {
			return true
		}
		i = end
	}
}

// commandLine is the command line that reproduces a run: the command path,
// head (verbatim: the caller quotes it), then each of the flags named in
// only whose value did not come from its default (command line,
// environment or config file), in flag order, shell-quoted. extra settings
// (e.g. the effective seed) are appended unless already there.
func commandLine(cmd *cobra.Command, head []string, only []string, extra ...setting) string {
	parts := append(strings.Fields(cmd.CommandPath()), head...)
	seen := map[string]bool{}
	add := func(s setting) {
		if seen[s.name] || !contains(only, s.name) {
			return
		}
		seen[s.name] = true
		if f := cmd.Flags().Lookup(s.name); f != nil && f.Value.Type() == "bool" {
			if s.value == "true" {
				parts = append(parts, "--"+s.name)
			} else {
				parts = append(parts, "--"+s.name+"="+reportQuoteArg(s.value))
			}
			return
		}
		parts = append(parts, "--"+s.name, reportQuoteArg(s.value))
	}
	for _, s := range settingsOf(cmd) {
		if f := cmd.Flags().Lookup(s.name); f != nil {
			s.value = flagValue(f)
		}
		add(s)
	}
	for _, s := range extra {
		add(s)
	}
	return strings.Join(parts, " ")
}

// flagValue is a flag's value as it would be typed (lists comma-joined).
func flagValue(f *pflag.Flag) string {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return joinCSV(sv.GetSlice())
	}
	return f.Value.String()
}

// uintSetting is an extra setting for commandLine.
func uintSetting(name string, v uint64) setting {
	return setting{name: name, value: strconv.FormatUint(v, 10)}
}
