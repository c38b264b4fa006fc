// Package config resolves configuration and secrets exactly the way Python dlt
// does, so a workspace made for dlt keeps working: environment variables
// first, then the secrets.toml files, then the config.toml files, each file
// kind being the deep merge of the profile's and the workspace's files in
// .dlt/ and in ~/.dlt/.
//
// A value is named by sections plus a key. Lookup pops optional sections from
// the right (keeping required groupings such as "credentials" and the
// sections of dlt's own configurations, "runtime" and "data_writer"), tries a
// compact form for sources and jobs, and runs twice: first with the pipeline
// name as the outermost section, then without. Within a pass every path is
// tried in one provider before the next provider is asked, so a less specific
// environment variable beats a more specific TOML key.
//
// internal/dltcompat's configuration harness resolves generated matrices of
// files, variables and secret files with dlt itself and with this package,
// and compares them key by key; docs/dlt-differences.md lists what differs
// on purpose.
package config
