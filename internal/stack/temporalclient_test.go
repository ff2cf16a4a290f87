package stack

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/contrib/envconfig"
)

// writeProfiles writes a Temporal config file (the SDK's TOML format).
func writeProfiles(t *testing.T, toml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "temporal.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTemporalSettingsPrecedence: for the address and the namespace a flag
// beats the variable, which beats the config file's profile, which beats
// the default; TEMPORAL_PROFILE picks the profile.
func TestTemporalSettingsPrecedence(t *testing.T) {
	file := writeProfiles(t, `
[profile.default]
address = "file.example:7233"
namespace = "file-ns"

[profile.cloud]
address = "cloud.example:7233"
namespace = "cloud-ns"
`)
	for _, tc := range []struct {
		name          string
		env           MapEnv
		flags         []string
		addr, ns, tls string
	}{
		{"defaults", MapEnv{"TEMPORAL_CONFIG_FILE": filepath.Join(t.TempDir(), "none.toml")}, nil, "", "default", "off"},
		{"profile", MapEnv{"TEMPORAL_CONFIG_FILE": file}, nil, "file.example:7233", "file-ns", "off"},
		{"TEMPORAL_PROFILE", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "cloud"}, nil, "cloud.example:7233", "cloud-ns", "off"},
		{"variable over profile", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_ADDRESS": "env.example:7233"}, nil,
			"env.example:7233", "file-ns", "off"},
		{"empty variable over profile", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_ADDRESS": ""}, nil, "", "file-ns", "off"},
		{"flag over variable", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_ADDRESS": "env.example:7233", "TEMPORAL_NAMESPACE": "env-ns"},
			[]string{"--temporal-address", "flag.example:7233", "--namespace", "flag-ns"}, "flag.example:7233", "flag-ns", "off"},
		{"API key turns TLS on", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_API_KEY": "k"}, nil, "file.example:7233", "file-ns", "on"},
		{"TEMPORAL_TLS=false over an API key", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_API_KEY": "k", "TEMPORAL_TLS": "false"}, nil,
			"file.example:7233", "file-ns", "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			names := []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"}
			if err := c.Load(tc.env, names...); err != nil {
				t.Fatalf("Load: %v", err)
			}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			if err := c.BindFlags(fs, names...); err != nil {
				t.Fatal(err)
			}
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			if c.TemporalAddress != tc.addr || c.TemporalNamespace != tc.ns || c.tlsMode() != tc.tls {
				t.Errorf("address %q, namespace %q, TLS %s; want %q, %q, %s",
					c.TemporalAddress, c.TemporalNamespace, c.tlsMode(), tc.addr, tc.ns, tc.tls)
			}
		})
	}
}

// TestTemporalProfileRefusesBadInput: a mistake in the profile or in the
// SDK's variables stops the command with what is wrong, and c is unchanged.
func TestTemporalProfileRefusesBadInput(t *testing.T) {
	file := writeProfiles(t, "[profile.default]\naddress = \"no port\"\n\n[profile.ok]\naddress = \"ok.example:7233\"\n")
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		name string
		env  MapEnv
		want string
	}{
		{"bad address in the profile", MapEnv{"TEMPORAL_CONFIG_FILE": file},
			`address of Temporal profile "default" in ` + file + `="no port": want host:port`},
		{"unknown profile", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "prod"},
			`TEMPORAL_PROFILE="prod": no such profile in ` + file + ` (it has default, ok)`},
		{"file that is not TOML", MapEnv{"TEMPORAL_CONFIG_FILE": writeProfiles(t, "[profile.default\n")},
			`TEMPORAL_CONFIG_FILE=`},
		{"TEMPORAL_TLS=yes", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "ok", "TEMPORAL_TLS": "yes"},
			`TEMPORAL_TLS="yes": want true, false, 1 or 0`},
		{"unknown profile and TEMPORAL_TLS=yes: both reported", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "prod",
			"TEMPORAL_TLS": "yes"}, `(it has default, ok)` + "\n" + `TEMPORAL_TLS="yes": want true, false, 1 or 0`},
		{"profile without a file", MapEnv{"TEMPORAL_CONFIG_FILE": filepath.Join(t.TempDir(), "none.toml"), "TEMPORAL_PROFILE": "prod"},
			`TEMPORAL_PROFILE="prod": no Temporal config file to take it from`},
		{"CA file missing", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "ok", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": missing},
			"failed reading server CA cert path"},
		{"client cert without key", MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "ok", "TEMPORAL_TLS_CLIENT_CERT_PATH": missing},
			"if either client cert or key path is present, other must be present too"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			before := c
			err := c.Load(tc.env, "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want an error containing %s", err, tc.want)
			}
			if !reflect.DeepEqual(c, before) {
				t.Errorf("a refused profile changed the config: %+v", c)
			}
		})
	}
	// A command that does not dial Temporal reads no profile.
	c := Defaults()
	if err := c.Load(MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_TLS": "yes"}, "WEB_ADDR"); err != nil {
		t.Errorf("Load without TEMPORAL_ADDRESS read the profile: %v", err)
	}
}

// TestTemporalAttrsNeverShowTheAPIKey: the startup line says an API key
// is set, never the key, and names the profile and file.
func TestTemporalAttrsNeverShowTheAPIKey(t *testing.T) {
	file := writeProfiles(t, "[profile.cloud]\naddress = \"ns.acct.tmprl.cloud:7233\"\nnamespace = \"ns.acct\"\napi_key = \"secret-from-file\"\n")
	c := Defaults()
	if err := c.Load(MapEnv{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "cloud"}, "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(c.TemporalAttrs())
	want := fmt.Sprint([]any{"temporal", "ns.acct.tmprl.cloud:7233", "namespace", "ns.acct", "tls", "on", "api_key", "set",
		"profile", "cloud", "config_file", file})
	if got != want || strings.Contains(got, "secret") {
		t.Errorf("TemporalAttrs = %s\nwant %s", got, want)
	}
}

// TestOurTemporalVariablesAreNotTheSDKs: the only variables of our table
// that the SDK's environment configuration also reads are the two we
// share on purpose, with its meaning; TEMPORAL_FRONTEND_ADDR,
// TEMPORAL_HTTP_ADDR, TEMPORAL_UI_ADDR, TEMPORAL_UI_URL and
// TEMPORAL_PERSISTENCE are ours alone. An SDK upgrade that starts reading
// one of ours fails here.
func TestOurTemporalVariablesAreNotTheSDKs(t *testing.T) {
	rec := &recordingEnv{}
	// An empty file of our own: the machine's default file is not read.
	opts := envconfig.LoadClientConfigProfileOptions{ConfigFileData: []byte("\n"), EnvLookup: rec}
	if _, err := envconfig.LoadClientConfigProfile(opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rec.read, "TEMPORAL_TLS_SERVER_CA_CERT_PATH") {
		t.Fatalf("the recording saw none of the SDK's TLS variables: %v", rec.read)
	}
	var shared []string
	for _, name := range SettingNames() {
		if slices.Contains(rec.read, name) || strings.HasPrefix(name, "TEMPORAL_GRPC_META_") {
			shared = append(shared, name)
		}
	}
	if want := []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"}; !slices.Equal(shared, want) {
		t.Errorf("variables both our table and the SDK read: %v, want %v", shared, want)
	}
}

// recordingEnv is an empty environment that records what is looked up.
type recordingEnv struct{ read []string }

func (r *recordingEnv) LookupEnv(k string) (string, bool) {
	r.read = append(r.read, k)
	return "", false
}
func (r *recordingEnv) Environ() []string { return nil }
