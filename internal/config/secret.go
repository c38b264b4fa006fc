package config

import "strings"

// IsSecretKey says whether a key holds a secret: passwords, tokens, keys,
// client secrets, and a whole `credentials` value (a connection string
// carries its password). Fields inside credentials that are not secrets
// (host, port, database) may live in config.toml, as in dlt.
func IsSecretKey(name string) bool {
	n := strings.ToLower(name)
	switch {
	case n == "credentials",
		strings.Contains(n, "password"), strings.Contains(n, "passwd"),
		strings.Contains(n, "secret"),
		strings.HasSuffix(n, "token"),
		strings.HasSuffix(n, "api_key"), strings.HasSuffix(n, "apikey"),
		strings.HasSuffix(n, "private_key"), strings.HasSuffix(n, "access_key"),
		strings.HasSuffix(n, "secret_key"), strings.HasSuffix(n, "passphrase"):
		return true
	}
	return false
}

// Redact hides a secret value for display.
func Redact(v any) string {
	if v == nil {
		return ""
	}
	return "****"
}
