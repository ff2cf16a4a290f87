package stack

// The Temporal client comes from the SDK's environment configuration
// (go.temporal.io/sdk/contrib/envconfig), which the Temporal CLI and every
// SDK read too: a profile of a TOML file (TEMPORAL_CONFIG_FILE, by default
// temporalio/temporal.toml in os.UserConfigDir; TEMPORAL_PROFILE, by
// default "default") under the SDK's variables (TEMPORAL_API_KEY,
// TEMPORAL_TLS, TEMPORAL_TLS_*, TEMPORAL_CLIENT_AUTHORITY,
// TEMPORAL_GRPC_META_*). So a cluster or Temporal Cloud is reached with
// the settings its users already have, TLS, mutual TLS and API keys
// included, and DayTrader has no client TLS settings of its own (the
// server side of temporal-node has TEMPORAL_FRONTEND_TLS_*: cluster.go).
//
// The address and the namespace are also rows of our table, for their
// flags and their checks: for them a flag beats the variable
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, the SDK's names and meanings),
// which beats the profile, which beats the default.

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
)

// Env is an environment settings are read from: the process's (OSEnv) or
// a test's (MapEnv). Environ lists it, for TEMPORAL_GRPC_META_*.
type Env = envconfig.EnvLookup

// OSEnv is the process's environment.
var OSEnv Env = envconfig.EnvLookupOS

// MapEnv is an environment of its own, for tests.
type MapEnv map[string]string

func (m MapEnv) LookupEnv(k string) (string, bool) { v, ok := m[k]; return v, ok }

func (m MapEnv) Environ() []string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	return kv
}

// TemporalProfile is how the client reaches Temporal besides the address
// and namespace (Config's TemporalAddress and TemporalNamespace, whose
// fields in Conn are left empty): TLS, API key, authority, gRPC metadata.
type TemporalProfile struct {
	Name string // the profile chosen ("default" unless TEMPORAL_PROFILE names one)
	File string // the TOML file read; "" when there was none
	Conn envconfig.ClientConfigProfile
}

// Load is LoadEnv over env, after the Temporal profile when names include
// TEMPORAL_ADDRESS (the commands that dial Temporal): the profile's
// address and namespace go over c's and under the variables. Flags, bound
// afterwards (BindFlags), go over all. On an error c is unchanged.
func (c *Config) Load(env Env, names ...string) error {
	next := *c
	var errs []error
	if slices.Contains(names, "TEMPORAL_ADDRESS") {
		errs = append(errs, next.loadTemporalProfile(env))
	}
	errs = append(errs, next.LoadEnv(env.LookupEnv, names...))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	*c = next
	return nil
}

// loadTemporalProfile reads the profile with envconfig, puts its address
// and namespace into c and keeps the rest, with the SDK's variables
// applied, in c.TemporalProfile. Its TLS files are read once here, so a
// missing certificate stops the command at start.
func (c *Config) loadTemporalProfile(env Env) error {
	p, err := readProfile(env)
	if err = errors.Join(err, checkSDKBools(env)); err != nil {
		return err
	}
	if err := c.takeAddressAndNamespace(p); err != nil {
		return err
	}
	if err := p.Conn.ApplyEnvVars(env); err != nil {
		return err
	}
	p.Conn.Address, p.Conn.Namespace = "", "" // c's fields hold them, with their precedence
	if _, err := p.Conn.ToClientOptions(envconfig.ToClientOptionsRequest{}); err != nil {
		return fmt.Errorf("the Temporal client settings (profile %q, TEMPORAL_TLS_*, TEMPORAL_API_KEY): %w", p.Name, err)
	}
	c.TemporalProfile = p
	return nil
}

// readProfile is the profile TEMPORAL_PROFILE names ("default" when
// unset, and then an empty one when the file has none) from the file
// envconfig reads.
func readProfile(env Env) (TemporalProfile, error) {
	file := cmp.Or(envValue(env, "TEMPORAL_CONFIG_FILE"), envconfig.DefaultConfigFilePath())
	conf, err := envconfig.LoadClientConfig(envconfig.LoadClientConfigOptions{EnvLookup: env})
	if err != nil {
		return TemporalProfile{}, &SettingError{Name: "TEMPORAL_CONFIG_FILE", Value: file, Err: err}
	}
	if _, err := os.Stat(file); err != nil {
		file = "" // none: envconfig takes a missing file as an empty one
	}
	p := TemporalProfile{Name: cmp.Or(envValue(env, "TEMPORAL_PROFILE"), envconfig.DefaultConfigFileProfile), File: file}
	switch prof := conf.Profiles[p.Name]; {
	case prof != nil:
		p.Conn = *prof
	case envValue(env, "TEMPORAL_PROFILE") == "":
	case file == "":
		return p, &SettingError{Name: "TEMPORAL_PROFILE", Value: p.Name,
			Err: errors.New("no Temporal config file to take it from (TEMPORAL_CONFIG_FILE, default temporalio/temporal.toml in the user config dir)")}
	default:
		return p, &SettingError{Name: "TEMPORAL_PROFILE", Value: p.Name,
			Err: fmt.Errorf("no such profile in %s (it has %s)", file, profileNames(conf))}
	}
	return p, nil
}

// takeAddressAndNamespace sets c's from the profile's, checked as the
// table checks the variables.
func (c *Config) takeAddressAndNamespace(p TemporalProfile) error {
	rows := settingsByEnv()
	var errs []error
	for _, kv := range [][2]string{{"TEMPORAL_ADDRESS", p.Conn.Address}, {"TEMPORAL_NAMESPACE", p.Conn.Namespace}} {
		env, v := kv[0], kv[1]
		if v == "" {
			continue
		}
		if err := rows[env].bind(c).Set(v); err != nil {
			name := fmt.Sprintf("%s of Temporal profile %q in %s", strings.ToLower(strings.TrimPrefix(env, "TEMPORAL_")), p.Name, p.File)
			errs = append(errs, &SettingError{Name: name, Value: v, Err: err})
		}
	}
	return errors.Join(errs...)
}

// checkSDKBools refuses what envconfig would silently ignore: a boolean
// variable that is not 1, 0, true or false (any case).
func checkSDKBools(env Env) error {
	var errs []error
	for _, name := range []string{"TEMPORAL_TLS", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"} {
		v, ok := env.LookupEnv(name)
		if ok && !slices.Contains([]string{"1", "0", "true", "false"}, strings.ToLower(v)) {
			errs = append(errs, &SettingError{Name: name, Value: v, Err: errors.New("want true, false, 1 or 0")})
		}
	}
	return errors.Join(errs...)
}

// envValue is a variable's value; unset and empty are alike, as envconfig
// takes them for TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE.
func envValue(env Env, name string) string {
	v, _ := env.LookupEnv(name)
	return v
}

func profileNames(conf envconfig.ClientConfig) string {
	var names []string
	for name := range conf.Profiles {
		names = append(names, name)
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// clientOptions are the SDK's options for c: the profile's, with c's
// address (TEMPORAL_FRONTEND_ADDR, the local dev's, when none is set) and
// namespace.
func (c Config) clientOptions() (client.Options, error) {
	opts, err := c.TemporalProfile.Conn.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return opts, fmt.Errorf("the Temporal client settings: %w", err)
	}
	opts.HostPort = c.temporalTarget()
	opts.Namespace = c.TemporalNamespace
	frontends := c.TemporalFrontends
	if len(frontends) == 0 {
		frontends = []string{cmp.Or(c.TemporalAddress, c.EmbeddedFrontend)}
	}
	opts.ConnectionOptions.GrpcCompression = grpcCompression(frontends...)
	useFrontends(&opts, c.TemporalFrontends)
	return opts, nil
}

// temporalTarget is whom the client dials, as logs and messages name it:
// the TEMPORAL_FRONTENDS list (which useFrontends turns into the target),
// else the address.
func (c Config) temporalTarget() string {
	if len(c.TemporalFrontends) > 0 {
		return strings.Join(c.TemporalFrontends, ",")
	}
	return cmp.Or(c.TemporalAddress, c.EmbeddedFrontend)
}

// TemporalAttrs are log attributes saying which Temporal c dials and how:
// address, namespace, TLS mode, whether an API key is set (never the
// key), and the profile when a config file was read.
func (c Config) TemporalAttrs() []any {
	attrs := []any{"temporal", c.temporalTarget(), "namespace", c.TemporalNamespace, "tls", c.tlsMode()}
	conn := c.TemporalProfile.Conn
	if conn.TLS != nil && conn.TLS.ServerCACertPath != "" {
		attrs = append(attrs, "tls_ca", conn.TLS.ServerCACertPath)
	}
	if conn.APIKey != "" {
		attrs = append(attrs, "api_key", "set")
	}
	if f := c.TemporalProfile.File; f != "" {
		attrs = append(attrs, "profile", c.TemporalProfile.Name, "config_file", f)
	}
	return attrs
}

// tlsHint explains the gRPC error of a plaintext client that reached a
// TLS server, which names neither.
func (c Config) tlsHint(err error) string {
	if c.tlsMode() == "off" && strings.Contains(err.Error(), "server preface") {
		return " (if the server serves TLS: set TEMPORAL_TLS=true, or use a profile with a [tls] section)"
	}
	return ""
}

// tlsMode is off, on (the server verified, by the system's CAs or
// TEMPORAL_TLS_SERVER_CA_CERT_*) or mutual (a client certificate too), as
// envconfig turns the profile into options: TLS is on with a [tls]
// section that is not disabled, or with an API key and no section.
func (c Config) tlsMode() string {
	conn := c.TemporalProfile.Conn
	switch {
	case conn.TLS == nil && conn.APIKey != "":
		return "on"
	case conn.TLS == nil || conn.TLS.Disabled:
		return "off"
	case conn.TLS.ClientCertPath != "" || len(conn.TLS.ClientCertData) > 0:
		return "mutual"
	}
	return "on"
}
