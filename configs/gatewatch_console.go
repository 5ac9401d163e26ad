package configs

import "time"

// GatewatchConsole configures the security staff's web console, served by
// gatewatch on the API's listener (gate/central/console).
type GatewatchConsole struct {
	// Disabled turns the console off (the JSON API stays).
	Disabled bool `yaml:"disabled"`
	// Language is the default language of new users: en or zh.
	Language string `yaml:"language"`
	// SessionTTL is how long a login lasts; default 12h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// TLS serves the console and the API over HTTPS when both files are set.
	TLS GatewatchConsoleTLS `yaml:"tls"`
	// CommandKeyFile is the deployment's operator key (PKCS #8 PEM Ed25519,
	// `gateguard keygen`); without it remote commands are off.
	CommandKeyFile string `yaml:"command_key_file"`
	// OperatorID is the key's operator id as the gates list it.
	OperatorID string `yaml:"operator_id"`
	// CommandTimeout is how long the console waits for a gate's result;
	// default 10s.
	CommandTimeout time.Duration `yaml:"command_timeout"`
	// Lanes says which gates are entries and which exits (gate name →
	// entry or exit); a gate not listed is an entry.
	Lanes map[string]string `yaml:"lanes"`
	// TrendDays is how many days the return-to-work chart shows; default 28.
	TrendDays int `yaml:"trend_days"`
	// Enrolment lets admins import enrolment files and push them to the
	// gates (configs/gatewatch_enrolment.go).
	Enrolment GatewatchEnrolment `yaml:"enrolment"`
}

// GatewatchConsoleTLS names the console's certificate and key.
type GatewatchConsoleTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// ConsoleSessionTTL returns console.session_ttl, defaulted.
func (c *Gatewatch) ConsoleSessionTTL() time.Duration {
	if c.Console.SessionTTL <= 0 {
		return 12 * time.Hour
	}
	return c.Console.SessionTTL
}

// ConsoleCommandTimeout returns console.command_timeout, defaulted.
func (c *Gatewatch) ConsoleCommandTimeout() time.Duration {
	if c.Console.CommandTimeout <= 0 {
		return 10 * time.Second
	}
	return c.Console.CommandTimeout
}

// ConsoleLanguage returns console.language, defaulted to en.
func (c *Gatewatch) ConsoleLanguage() string {
	if c.Console.Language == "" {
		return "en"
	}
	return c.Console.Language
}

// ConsoleTrendDays returns console.trend_days, defaulted to 28.
func (c *Gatewatch) ConsoleTrendDays() int {
	if c.Console.TrendDays <= 0 {
		return 28
	}
	return c.Console.TrendDays
}

func (c *Gatewatch) consolePaths() []*string {
	k := &c.Console
	return []*string{&k.TLS.CertFile, &k.TLS.KeyFile, &k.CommandKeyFile}
}

func (c *Gatewatch) validateConsole() []error {
	v := &validator{}
	k := c.Console
	if k.Language != "" {
		v.oneOf("console.language", k.Language, "en", "zh")
	}
	if k.SessionTTL != 0 {
		v.duration("console.session_ttl", k.SessionTTL, time.Minute, 30*24*time.Hour)
	}
	if k.CommandTimeout != 0 {
		v.duration("console.command_timeout", k.CommandTimeout, time.Second, 5*time.Minute)
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		v.add("console.tls", "cert_file and key_file go together: set both or neither")
	}
	if (k.CommandKeyFile == "") != (k.OperatorID == "") {
		v.add("console.command_key_file", "and console.operator_id go together: set both or neither")
	}
	if k.OperatorID != "" {
		v.name("console.operator_id", k.OperatorID)
	}
	for g, dir := range k.Lanes {
		v.oneOf("console.lanes."+g, dir, "entry", "exit")
	}
	if k.TrendDays != 0 {
		v.intRange("console.trend_days", k.TrendDays, 1, 366)
	}
	v.errs = append(v.errs, validateEnrolment(k.Enrolment)...)
	return v.errs
}
